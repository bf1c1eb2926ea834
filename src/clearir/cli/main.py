"""Root of the ``clearir`` command: registers each subcommand group; errors end as one line (see boundary).

A command's module is imported only when the command line names it (every one for ``clearir --help``): the
training and evaluation commands import torch, transformers and sentence-transformers (about 3.5 s here),
which ``clearir data where`` or a reused ``clearir model build`` need not wait for.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Iterable

import typer

from clearir.cli.boundary import DEBUG_ENV, run_guarded

# clearir shows its own progress; the hub/transformers bars ("Loading weights") only add noise. Set before
# the subcommand modules import anything from the hub.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

HELP = "Fine-tune multilingual embedding models for cross-lingual retrieval (CLEAR) and measure them."
# Each command: the module that owns it, and its Typer group (``app``) or command function. A name with a
# space is a command of a group: ``data build-train`` lives apart from ``data`` (it imports the rows' stack).
COMMANDS: dict[str, tuple[str, str]] = {
    "model": ("clearir.cli.model", "app"),
    "data": ("clearir.cli.data", "app"),
    "data build-train": ("clearir.cli.build_train", "build_train"),
    "shift": ("clearir.cli.shift", "app"),
    "train": ("clearir.cli.train", "train"),
    "eval": ("clearir.cli.eval", "eval_command"),
    "run": ("clearir.cli.run", "run_command"),
    "ablate": ("clearir.cli.ablate", "ablate_command"),
}


def build_app(names: Iterable[str] = COMMANDS) -> typer.Typer:
    """The ``clearir`` app with the commands ``names`` (default: all) registered."""
    app = typer.Typer(
        name="clearir",
        help=HELP,
        epilog=f"Errors end as one line; add --debug (anywhere) or set {DEBUG_ENV}=1 to see tracebacks.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
        pretty_exceptions_enable=False,
    )
    # A root callback keeps ``clearir <command>`` a group even when one command is registered.
    app.callback()(lambda: None)
    groups: dict[str, typer.Typer] = {}
    for name in names:
        module, attribute = COMMANDS[name]
        member = getattr(importlib.import_module(module), attribute)
        group, _, command = name.rpartition(" ")
        if isinstance(member, typer.Typer):
            groups[command] = member
            app.add_typer(member, name=command)
        elif not group:
            app.command(command)(member)
        elif all(c.name != command for c in groups[group].registered_commands):  # once per process
            groups[group].command(command)(member)
    return app


def _named(argv: list[str]) -> list[str]:
    """The commands to register for ``argv``: the one it names (with a group, its command named next, or all
    of the group's); every command when it names none (help, a typo)."""
    words = [arg for arg in argv if not arg.startswith("-")]
    if not words or words[0] not in COMMANDS or {"-h", "--help"} & set(argv[: argv.index(words[0])]):
        return list(COMMANDS)
    group = [name for name in COMMANDS if name.startswith(words[0] + " ")]
    named = [name for name in group if len(words) > 1 and name == f"{words[0]} {words[1]}"]
    return [words[0], *(named or ([] if len(words) > 1 else group))]


def __getattr__(name: str) -> typer.Typer:
    if name == "app":  # every command, e.g. for tests that walk the command tree
        return build_app()
    raise AttributeError(name)


def main() -> None:
    """Entry point and the one error boundary of every command (see :mod:`clearir.cli.boundary`)."""
    argv = sys.argv[1:]
    sys.exit(run_guarded(build_app(_named(argv)), argv))


if __name__ == "__main__":
    main()
