"""Run the ``clearir`` command in-process through its real entry point."""

from __future__ import annotations

import sys

import pytest

from clearir.cli.main import main


def run(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> tuple[int, str, str]:
    """Run ``clearir <args>`` through ``main``: (exit code, stdout, stderr), on a wide terminal."""
    monkeypatch.setattr(sys, "argv", ["clearir", *args])
    monkeypatch.setenv("COLUMNS", "300")
    with pytest.raises(SystemExit) as exit_info:
        main()
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err
