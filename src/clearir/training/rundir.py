"""The layout of a run directory: checkpoints, logs, configuration and the final model; resuming."""

from __future__ import annotations

import re
from pathlib import Path

from clearir.errors import ClearirError
from clearir.training.config import CONFIG_FILE, TrainConfig

CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
LOSS_LOG = "loss_log.jsonl"
MODEL = "model"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The complete checkpoint with the highest step (its trainer_state.json, written last, exists)."""
    if not checkpoints.is_dir():
        return None
    complete = [
        (int(m.group(1)), path)
        for path in checkpoints.iterdir()
        if (m := _CHECKPOINT_RE.match(path.name)) and (path / "trainer_state.json").is_file()
    ]
    return max(complete)[1] if complete else None


def check_out_dir(config: TrainConfig, out: Path) -> Path | None:
    """With ``resume``: the checkpoint to go on from (same settings required); else check ``out`` is new."""
    saved = out / CONFIG_FILE
    if not config.resume:
        if saved.exists():
            raise ClearirError(
                f"--out {out} already holds a training run ({CONFIG_FILE}); pass --resume to continue it, "
                "or choose a new --out"
            )
        return None
    if not saved.is_file():
        raise ClearirError(f"--resume: {out} holds no training run to resume ({CONFIG_FILE} is missing)")
    before = TrainConfig.load(saved).to_dict()
    now = config.to_dict()
    if changed := [k for k in now if k != "resume" and now[k] != before[k]]:
        details = ", ".join(f"{k}: {before[k]!r} -> {now[k]!r}" for k in changed)
        raise ClearirError(
            f"--resume: settings differ from the run in {out} ({details}); use the same settings"
        )
    checkpoint = last_checkpoint(out / CHECKPOINTS)
    if checkpoint is None:
        raise ClearirError(f"--resume: {out / CHECKPOINTS} holds no complete checkpoint to resume from")
    return checkpoint
