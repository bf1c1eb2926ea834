"""``clearir train``: fine-tune a model on training rows with CLEAR or a baseline loss. Its options are
generated from ``TrainConfig``'s fields (defaults, help texts and flags)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from rich.console import Console

from clearir.cli.options import generated, setting_options
from clearir.fields import field_kind
from clearir.precision import PRECISION_HELP
from clearir.training.config import TrainConfig

# The fields a training run alone reads otherwise than an experiment's (whose runs also build their rows
# and are evaluated).
_HELP = {
    "precision": f"Training precision: {PRECISION_HELP}",
    "seed": "Random seed (data order, dropout).",
}
_COUNTS = {f.name for f in fields(TrainConfig) if field_kind(TrainConfig, f) == "count"}


def train(**values: Any) -> None:
    """Fine-tune a sentence-transformers model on CLEAR training rows; the model is saved to OUT/model."""
    config = TrainConfig(**{k: None if k in _COUNTS and v == 0 else v for k, v in values.items()})
    from clearir.training.trainer import train as run_training  # checked the settings first: fail fast

    console = Console(stderr=True)
    result = run_training(config, progress=True)
    console.print(
        f"trained {result.global_step} steps on {result.rows} rows in {result.runtime_s:.1f} s "
        f"in {result.precision} (mean loss {result.train_loss:.4f}; {result.trainable_parameters:,} of "
        f"{result.total_parameters:,} parameters trained)"
    )
    console.print(f"model: {result.model_dir}")
    console.print(f"loss log: {result.loss_log}")


generated(train, setting_options(TrainConfig, helps=_HELP))
