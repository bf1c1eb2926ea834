"""The option shapes several ``clearir`` commands share (model, encoding, data directory, a command group's
settings) and the comma-separated list syntax, written once."""

from __future__ import annotations

import typer

from clearir.config import DATA_DIR_HELP
from clearir.errors import ClearirError
from clearir.precision import DEFAULT_PRECISION, PRECISION_HELP

MODEL = typer.Option(None, "--model", help="Model directory or name (default: the built default model).")
DATA_DIR = typer.Option(None, "--data-dir", help=DATA_DIR_HELP)
BATCH_SIZE = typer.Option(32, "--batch-size", help="Texts per forward pass.")
MAX_SEQ_LENGTH = typer.Option(
    None, "--max-seq-length", help="Token limit per text (default: the model's own)."
)
CACHE = typer.Option(
    True, "--cache/--no-cache", help="Reuse embeddings from the on-disk cache in $CLEARIR_HOME/embeddings."
)
PRECISION = typer.Option(DEFAULT_PRECISION, "--precision", help=f"Encoding precision: {PRECISION_HELP}")


def group(help: str) -> typer.Typer:
    """A command group (``clearir model``, ``data``, ``shift``): shows its help when run without a command."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


def split_list(value: str | None, option: str) -> list[str] | None:
    """``"de, hi"`` -> ``["de", "hi"]``; None stays None; an empty list is an error."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ClearirError(f"{option} is empty; expected a comma-separated list")
    return items
