"""The encoding options that ``clearir eval`` and ``clearir shift fit`` share, written once."""

from __future__ import annotations

import typer

from clearir.config import DATA_DIR_HELP
from clearir.precision import DEFAULT_PRECISION, PRECISION_HELP

DATA_DIR = typer.Option(None, "--data-dir", help=DATA_DIR_HELP)
BATCH_SIZE = typer.Option(32, "--batch-size", help="Texts per forward pass.")
MAX_SEQ_LENGTH = typer.Option(
    None, "--max-seq-length", help="Token limit per text (default: the model's own)."
)
CACHE = typer.Option(
    True, "--cache/--no-cache", help="Reuse embeddings from the on-disk cache in $CLEARIR_HOME/embeddings."
)
PRECISION = typer.Option(DEFAULT_PRECISION, "--precision", help=f"Encoding precision: {PRECISION_HELP}")
