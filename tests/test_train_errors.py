"""Bad input to ``clearir train`` gets a ClearirError naming what is wrong: data, settings, run dir, NaN."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from transformers import TrainerCallback

from clearir.errors import ClearirError
from clearir.training.config import TrainConfig
from clearir.training.trainer import CHECKPOINTS, train
from tests.train_data import clear_columns, tiny_model_dir, weights, write_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tiny_model_dir(tmp_path_factory.mktemp("tiny") / "model")


def settings(model_dir: Path, data: Path, out: Path, **changes) -> TrainConfig:
    base = {
        "data": str(data),
        "out": str(out),
        "model": str(model_dir),
        "num_negatives": 2,
        "batch_size": 4,
        "max_steps": 2,
        "max_seq_length": 32,
    }
    return TrainConfig(**(base | changes))


def test_data_without_the_columns_the_loss_needs(model_dir: Path, tmp_path: Path) -> None:
    columns = [c for c in clear_columns(2) if c != "lang_question"]
    data = write_rows(tmp_path / "rows", columns=columns)
    with pytest.raises(ClearirError, match=r"the loss 'clear' needs columns .*missing \['lang_question'\]"):
        train(settings(model_dir, data, tmp_path / "out"))
    # The English InfoNCE does not read q_L: the same data trains.
    assert train(settings(model_dir, data, tmp_path / "en", loss="infonce-en", max_steps=1)).global_step == 1


def test_more_negatives_than_the_data_has(model_dir: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "rows")
    with pytest.raises(
        ClearirError, match=r"--num-negatives 5: .* only 2 hard negatives per row \(neg_1..neg_2\)"
    ):
        train(settings(model_dir, data, tmp_path / "out", num_negatives=5))


def test_empty_dataset(model_dir: Path, tmp_path: Path) -> None:
    Dataset.from_dict({c: [] for c in clear_columns(2)}).save_to_disk(str(tmp_path / "rows"))
    with pytest.raises(ClearirError, match="the dataset is empty"):
        train(settings(model_dir, tmp_path / "rows", tmp_path / "out"))


def test_empty_text_names_its_row_and_column(model_dir: Path, tmp_path: Path) -> None:
    data = {c: [f"{c} {i} the river" for i in range(8)] for c in clear_columns(2)}
    data["neg_query_2"][5] = " "
    Dataset.from_dict(data).save_to_disk(str(tmp_path / "rows"))
    with pytest.raises(ClearirError, match=r"row 5, column 'neg_query_2': expected a non-empty text"):
        train(settings(model_dir, tmp_path / "rows", tmp_path / "out"))


def test_batch_larger_than_the_data(model_dir: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "rows", rows=6)
    with pytest.raises(ClearirError, match=r"--batch-size 8 x 1 process\(es\) is larger than the 6 rows"):
        train(settings(model_dir, data, tmp_path / "out", batch_size=8))


def test_data_that_is_not_a_saved_dataset(model_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "rows.txt").write_text("a row\n")
    with pytest.raises(ClearirError, match=r"--data .*notes: not a saved dataset"):
        train(settings(model_dir, tmp_path / "notes", tmp_path / "out"))
    with pytest.raises(ClearirError, match=r"--data .*missing: no such directory"):
        train(settings(model_dir, tmp_path / "missing", tmp_path / "out"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"alpha": 0.7, "beta": 0.4}, "alpha + beta <= 1"),
        ({"kl": False, "symmetric_kl": True}, "--symmetric-kl needs the KL term: drop --no-kl"),
        ({"loss": "triplet"}, "--loss 'triplet': expected one of clear, infonce"),
        ({"batch_size": 0}, "--batch-size 0: expected a positive integer"),
        ({"mini_batch_size": 0}, "--mini-batch-size 0"),
        ({"warmup_ratio": 1.0}, "--warmup-ratio 1.0"),
        ({"scheduler": "step"}, "--scheduler 'step'"),
    ],
)
def test_bad_settings(tmp_path: Path, changes: dict, message: str) -> None:
    with pytest.raises(ClearirError, match=re.escape(message)):
        TrainConfig(data="rows", out=str(tmp_path), **changes)


def test_run_directory_in_use_and_resume_checks(model_dir: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "rows")
    cfg = settings(model_dir, data, tmp_path / "out", max_steps=1)
    with pytest.raises(ClearirError, match=r"--resume: .* holds no training run to resume"):
        train(replace(cfg, resume=True))
    train(cfg)
    with pytest.raises(ClearirError, match="already holds a training run"):
        train(cfg)
    with pytest.raises(ClearirError, match=r"settings differ .*lr: 5e-05 -> 0\.001"):
        train(replace(cfg, resume=True, lr=1e-3))


class _PoisonEmbeddings(TrainerCallback):
    """From step ``step`` on, every sentence embedding the model produces is NaN."""

    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_begin(self, args, state, control, model=None, **kwargs) -> None:
        if state.global_step + 1 == self.step:
            model.register_forward_hook(
                lambda module, inputs, output: {
                    **output,
                    "sentence_embedding": output["sentence_embedding"] * torch.nan,
                }
            )


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(model_dir: Path, tmp_path: Path) -> None:
    data = write_rows(tmp_path / "rows")
    cfg = settings(model_dir, data, tmp_path / "out", max_steps=4, save_steps=1, warmup_ratio=0.0)
    message = r"non-finite \(loss nan\) at step 3; .*last good checkpoint is .*checkpoint-2"
    with pytest.raises(ClearirError, match=message):
        train(cfg, callbacks=[_PoisonEmbeddings(3)])
    checkpoints = sorted(p.name for p in (tmp_path / "out" / CHECKPOINTS).iterdir())
    assert checkpoints == ["checkpoint-1", "checkpoint-2"]
    kept = weights(tmp_path / "out" / CHECKPOINTS / "checkpoint-2")
    assert all(torch.isfinite(t).all() for t in kept.values())
    assert not (tmp_path / "out" / "model").exists()


def test_loss_label_names_the_clear_variants() -> None:
    paper = TrainConfig(data="rows", out="out", scale=20.0, bidirectional_reverse=False)
    assert paper.loss_label == "clear"
    assert TrainConfig(data="rows", out="out", symmetric_kl=True).loss_label == (
        "clear (bidirectional reverse, symmetric KL)"
    )
    assert TrainConfig(data="rows", out="out", loss="infonce").loss_label == "infonce"
