"""``clearir train``: fine-tune a model on training rows with CLEAR or a baseline loss."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import typer
from rich.console import Console

from clearir.cli.clear_options import CLEAR_OPTIONS
from clearir.precision import PRECISION_HELP
from clearir.training.config import JSD_QUERIES, LOSS_NAMES, SCHEDULERS, TrainConfig

_DEFAULTS: dict[str, Any] = {f.name: f.default for f in fields(TrainConfig)}


def _opt(name: str, help: str, *flags: str) -> Any:
    return typer.Option(_DEFAULTS[name], *flags, help=help, show_default=True)


def train(
    data: str = typer.Option(
        ..., "--data", help="Training rows: a directory from `clearir data build-train`."
    ),
    out: str = typer.Option(
        ..., "--out", help="Run directory: checkpoints, logs and the model in OUT/model."
    ),
    model: str = typer.Option(
        None, "--model", help="Base model name or path (default: the built default model)."
    ),
    loss: str = _opt("loss", f"Loss: {', '.join(LOSS_NAMES)}."),
    alpha: float = _opt("alpha", *CLEAR_OPTIONS["alpha"]),
    beta: float = _opt("beta", *CLEAR_OPTIONS["beta"]),
    kl: bool = _opt("kl", *CLEAR_OPTIONS["kl"]),
    symmetric_kl: bool = _opt("symmetric_kl", *CLEAR_OPTIONS["symmetric_kl"]),
    bidirectional_reverse: bool = _opt("bidirectional_reverse", *CLEAR_OPTIONS["bidirectional_reverse"]),
    jsd_weight: float = _opt("jsd_weight", "jsd: weight of the Jensen-Shannon alignment term."),
    jsd_query: str = _opt("jsd_query", f"jsd: the InfoNCE query, {', '.join(JSD_QUERIES)}."),
    num_negatives: int = _opt("num_negatives", "Hard negatives per row (the first n of neg_1..)."),
    scale: float = _opt("scale", "Inverse temperature of the softmax over cosine similarities."),
    mini_batch_size: int = _opt("mini_batch_size", "GradCache mini-batch size (default: none, no caching)."),
    gather_across_devices: bool = _opt(
        "gather_across_devices", "With several processes, use all processes' candidates as negatives."
    ),
    batch_size: int = _opt("batch_size", "Rows per batch per process."),
    lr: float = _opt("lr", "Peak learning rate (AdamW)."),
    max_steps: int = _opt("max_steps", "Optimizer steps."),
    warmup_ratio: float = _opt("warmup_ratio", "Share of the steps with a linear warm-up."),
    scheduler: str = _opt("scheduler", f"Learning-rate schedule: {', '.join(SCHEDULERS)}."),
    weight_decay: float = _opt("weight_decay", "AdamW weight decay."),
    max_grad_norm: float = _opt("max_grad_norm", "Gradient clipping norm (0: none)."),
    max_seq_length: int = _opt("max_seq_length", "Token limit for passages."),
    max_query_length: int = _opt(
        "max_query_length", "Token limit for questions (default: --max-seq-length)."
    ),
    freeze_word_embeddings: bool = _opt(
        "freeze_word_embeddings",
        "Keep the word-embedding matrix fixed.",
        "--freeze-word-embeddings/--train-word-embeddings",
    ),
    freeze_layers: int = _opt("freeze_layers", "Keep the embeddings and the N lowest encoder layers fixed."),
    precision: str = _opt("precision", f"Training precision: {PRECISION_HELP}"),
    seed: int = _opt("seed", "Random seed (data order, dropout)."),
    save_steps: int = _opt("save_steps", "Save a checkpoint every N steps."),
    save_total_limit: int = _opt("save_total_limit", "Keep at most N checkpoints."),
    logging_steps: int = _opt("logging_steps", "Log the loss and its components every N steps."),
    resume: bool = _opt("resume", "Continue the run in --out from its last checkpoint."),
) -> None:
    """Fine-tune a sentence-transformers model on CLEAR training rows; the model is saved to OUT/model."""
    config = TrainConfig(**{name: value for name, value in locals().items() if name in _DEFAULTS})
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
