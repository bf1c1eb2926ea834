"""The clearir section of a trained model's card: base model, data, loss and every hyperparameter."""

from __future__ import annotations

from pathlib import Path

from clearir import __version__
from clearir.training.config import TrainConfig


def training_section(
    config: TrainConfig,
    *,
    base_model: str,
    rows: int,
    steps: int,
    trainable: int,
    total: int,
    train_loss: float,
    precision: str,
    pivot: str | None = None,
) -> str:
    """Markdown: what was trained from what (with the rows' bridge language ``pivot`` when known), and a table
    of every TrainConfig field."""
    bridge = f"; bridge (pivot) language `{pivot}`" if pivot else ""
    lines = [
        "## clearir training",
        "",
        f"Trained with clearir {__version__} (`clearir train`).",
        "",
        f"- Base model: `{base_model}`",
        f"- Training data: `{config.data}` ({rows} rows{bridge})",
        f"- Loss: `{config.loss_label}`",
        f"- Steps: {steps}; mean training loss {train_loss:.4f}",
        f"- Trainable parameters: {trainable:,} of {total:,}",
        f"- Precision: {precision}",
        "",
        "### clearir hyperparameters",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | `{value!r}` |" for name, value in config.to_dict().items()]
    return "\n".join(lines) + "\n"


def write_training_section(readme: Path, config: TrainConfig, **facts) -> None:
    """Append the clearir section to the model card ``readme`` (created if absent)."""
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    readme.write_text(text.rstrip("\n") + "\n\n" + training_section(config, **facts), encoding="utf-8")
