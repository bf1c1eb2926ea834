"""Root of the ``clearir`` command: registers each subcommand group; errors end as one line (see boundary)."""

from __future__ import annotations

import os
import sys

import typer

from clearir.cli.boundary import DEBUG_ENV, run_guarded

# clearir shows its own progress; the hub/transformers bars ("Loading weights") only add noise. Set before
# the subcommand modules import anything from the hub.
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

app = typer.Typer(
    name="clearir",
    help="Fine-tune multilingual embedding models for cross-lingual retrieval (CLEAR) and measure them.",
    epilog=f"Errors end as one line; add --debug (anywhere) or set {DEBUG_ENV}=1 to see tracebacks.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each module owns one command or group; imported here so `clearir --help` lists them all.
    from clearir.cli import ablate as ablate_cli
    from clearir.cli import data as data_cli
    from clearir.cli import eval as eval_cli
    from clearir.cli import model as model_cli
    from clearir.cli import run as run_cli
    from clearir.cli import shift as shift_cli
    from clearir.cli import train as train_cli
    from clearir.cli.build_train import build_train

    app.add_typer(model_cli.app, name="model")
    app.add_typer(data_cli.app, name="data")
    app.add_typer(shift_cli.app, name="shift")
    data_cli.app.command("build-train")(build_train)
    app.command("train")(train_cli.train)
    app.command("eval")(eval_cli.eval_command)
    app.command("run")(run_cli.run_command)
    app.command("ablate")(ablate_cli.ablate_command)


_register()


def main() -> None:
    """Entry point and the one error boundary of every command (see :mod:`clearir.cli.boundary`)."""
    sys.exit(run_guarded(app, sys.argv[1:]))


if __name__ == "__main__":
    main()
