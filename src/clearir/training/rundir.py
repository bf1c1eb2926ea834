"""The layout of a run directory: checkpoints, logs, configuration and the final model; resuming.

Checkpoints appear complete or not at all (the trainer writes each into a staging folder, records its files'
sizes and SHA-256, then renames it). Resuming takes the last checkpoint that is complete and undamaged; a run
that stopped before its first checkpoint starts again from step 0, whether re-run or resumed.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from clearir.errors import ClearirError, warn
from clearir.files import damage
from clearir.training.config import CONFIG_FILE, TrainConfig

CHECKPOINTS = "checkpoints"
TENSORBOARD = "tensorboard"
LOSS_LOG = "loss_log.jsonl"
MODEL = "model"
RESULT_FILE = "train_result.json"
TRAINER_STATE = "trainer_state.json"
_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


@dataclass(frozen=True)
class TrainResult:
    """What a finished run produced: the saved model, its logs and a few numbers."""

    model_dir: Path
    out_dir: Path
    loss_log: Path
    global_step: int
    train_loss: float
    runtime_s: float
    precision: str
    rows: int
    trainable_parameters: int
    total_parameters: int
    resumed_from: Path | None


def last_checkpoint(checkpoints: Path) -> Path | None:
    """The complete checkpoint with the highest step: its trainer_state.json (written last) exists and its
    files are whole (:func:`clearir.files.damage`); a damaged one is skipped with a warning."""
    if not checkpoints.is_dir():
        return None
    complete = sorted(
        ((int(m.group(1)), path) for path in checkpoints.iterdir() if (m := _CHECKPOINT_RE.match(path.name))),
        reverse=True,
    )
    for _, path in complete:
        if not (path / TRAINER_STATE).is_file():
            warn(f"checkpoint {path} is incomplete (no {TRAINER_STATE}); skipped")
        elif why := damage(path):
            warn(f"checkpoint {path} is damaged ({why}); skipped")
        else:
            return path
    return None


def clear_run(out: Path) -> None:
    """Remove what a training run wrote to ``out`` (and nothing else there), to start it again."""
    for name in (CHECKPOINTS, TENSORBOARD, MODEL):
        shutil.rmtree(out / name, ignore_errors=True)
    for name in (LOSS_LOG, CONFIG_FILE, RESULT_FILE):
        (out / name).unlink(missing_ok=True)


def check_out_dir(config: TrainConfig, out: Path) -> Path | None:
    """With ``resume``: the checkpoint to go on from (same settings required), or None to start again when
    there is none; else check that ``out`` is new, or holds a run that stopped before its first checkpoint
    (which starts again)."""
    saved = out / CONFIG_FILE
    if not config.resume:
        if saved.exists():
            if (out / MODEL).exists() or last_checkpoint(out / CHECKPOINTS) is not None:
                raise ClearirError(
                    f"--out {out} already holds a training run ({CONFIG_FILE}); pass --resume to continue "
                    "it, or choose a new --out"
                )
            warn(f"--out {out} holds a run that stopped before its first checkpoint; starting it again")
            clear_run(out)
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
    if checkpoint is None and not (out / RESULT_FILE).is_file():
        warn(f"--resume: {out / CHECKPOINTS} holds no complete checkpoint; starting from step 0")
        clear_run(out)
    return checkpoint
