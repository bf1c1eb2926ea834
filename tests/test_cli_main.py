"""The root command imports a command's module only when the command line names it."""

from __future__ import annotations

import subprocess
import sys

import pytest

from clearir.cli.main import COMMANDS, _named

PROBE = """
import sys
sys.argv = ["clearir", *sys.argv[1:]]
from clearir.cli.main import main
try:
    main()
except SystemExit:
    pass
print("torch imported:", "torch" in sys.modules)
"""


def _torch_imported(*args: str) -> bool:
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, timeout=120)
    return "torch imported: True" in done.stdout


def test_light_commands_do_not_import_torch() -> None:
    assert not _torch_imported("data", "where")
    assert not _torch_imported("model", "info")
    assert _torch_imported("train", "--help")  # the probe sees torch where a command needs it


@pytest.mark.parametrize(
    ("argv", "names"),
    [
        (["data", "where"], ["data"]),
        (["data", "build-train", "--langs", "de"], ["data", "data build-train"]),
        (["data", "--help"], ["data", "data build-train"]),
        (["--debug", "run", "--out", "x"], ["run"]),
        (["--help"], list(COMMANDS)),
        (["--help", "run"], list(COMMANDS)),
        (["nonsense"], list(COMMANDS)),
    ],
)
def test_the_named_command_alone_is_registered(argv: list[str], names: list[str]) -> None:
    assert _named(argv) == names
