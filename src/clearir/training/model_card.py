"""The clearir section of a trained model's card: base model, data, loss and every hyperparameter."""

from __future__ import annotations

from pathlib import Path

from clearir import __version__
from clearir.training.config import TrainConfig
from clearir.training.rundir import TrainResult


def training_section(
    config: TrainConfig, result: TrainResult, base_model: str, precision: str, pivot: str | None = None
) -> str:
    """Markdown: what was trained from what (``precision`` as the setting resolved; the rows' bridge language
    ``pivot`` when known), and a table of every TrainConfig field."""
    bridge = f"; bridge (pivot) language `{pivot}`" if pivot else ""
    lines = [
        "## clearir training",
        "",
        f"Trained with clearir {__version__} (`clearir train`).",
        "",
        f"- Base model: `{base_model}`",
        f"- Training data: `{config.data}` ({result.rows} rows{bridge})",
        f"- Loss: `{config.loss_label}`",
        f"- Steps: {result.global_step}; mean training loss {result.train_loss:.4f}",
        f"- Trainable parameters: {result.trainable_parameters:,} of {result.total_parameters:,}",
        f"- Precision: {precision}",
        "",
        "### clearir hyperparameters",
        "",
        "| setting | value |",
        "|---|---|",
    ]
    lines += [f"| `{name}` | `{value!r}` |" for name, value in config.to_dict().items()]
    return "\n".join(lines) + "\n"


def write_training_section(
    readme: Path,
    config: TrainConfig,
    result: TrainResult,
    base_model: str,
    precision: str,
    pivot: str | None = None,
) -> None:
    """Append the clearir section to the model card ``readme`` (created if absent)."""
    section = training_section(config, result, base_model, precision, pivot)
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    readme.write_text(text.rstrip("\n") + "\n\n" + section, encoding="utf-8")
