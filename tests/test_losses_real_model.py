"""One training step with each loss on the real base model and real XQuAD text, through
sentence-transformers' trainer: it runs, changes the weights, and logs every component, all finite."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from sentence_transformers import (
    SentenceTransformer,
    SentenceTransformerTrainer,
    SentenceTransformerTrainingArguments,
)
from transformers import TrainerCallback

from clearir.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, SymmetricInfoNCELoss, column_prompts

pytestmark = pytest.mark.slow

COLUMNS = ["en_question", "paragraphs", "neg_1", "lang_question", "neg_query_1"]
LOSSES = {
    "clear": (lambda model: CLEARLoss(model), {"forward", "reverse", "kl"}),
    "clear-cached": (lambda model: CLEARLoss(model, mini_batch_size=1), {"forward", "reverse", "kl"}),
    "infonce": (lambda model: InfoNCELoss(model), {"infonce"}),
    "infonce-en": (lambda model: InfoNCELoss(model, query="en"), {"infonce"}),
    "symmetric": (lambda model: SymmetricInfoNCELoss(model), {"forward", "backward"}),
    "jsd": (lambda model: JSDAlignmentLoss(model), {"infonce", "jsd"}),
}


def paragraphs(path: Path) -> list[dict]:
    return [
        p for article in json.loads(path.read_text(encoding="utf-8"))["data"] for p in article["paragraphs"]
    ]


@pytest.fixture(scope="module")
def rows(data_dir: Path) -> Dataset:
    """2 rows of XQuAD: English question and paragraph, German question; the negative is a later paragraph
    (XQuAD's paragraph order is parallel across languages), the negative query its German question."""
    en, de = (
        paragraphs(data_dir / "xquad" / "xquad.en.json"),
        paragraphs(data_dir / "xquad" / "xquad.de.json"),
    )
    table: dict[str, list[str]] = {column: [] for column in COLUMNS}
    for i in range(2):
        positive, negative = i, i + 5
        assert en[positive]["qas"][0]["id"] == de[positive]["qas"][0]["id"]
        table["en_question"].append(en[positive]["qas"][0]["question"])
        table["paragraphs"].append(en[positive]["context"])
        table["neg_1"].append(en[negative]["context"])
        table["lang_question"].append(de[positive]["qas"][0]["question"])
        table["neg_query_1"].append(de[negative]["qas"][0]["question"])
    return Dataset.from_dict(table)


@pytest.fixture(scope="module")
def model(base_model_path: Path) -> SentenceTransformer:
    model = SentenceTransformer(str(base_model_path), device="cpu")
    model.max_seq_length = 64
    model[0].model.embeddings.word_embeddings.requires_grad_(
        False
    )  # as the trainer's default; GradCache copes
    return model


class KeepLogs(TrainerCallback):
    def __init__(self) -> None:
        self.logs: list[dict[str, float]] = []

    def on_log(self, args, state, control, logs=None, **kwargs) -> None:
        self.logs.append(dict(logs or {}))


@pytest.mark.parametrize("name", LOSSES)
def test_training_step_logs_every_component(model, rows: Dataset, tmp_path: Path, name: str) -> None:
    make, components = LOSSES[name]
    loss = make(model)
    loss.set_column_names(rows.column_names)
    trained = model[0].model.encoder.layer[-1].output.dense.weight
    frozen = model[0].model.embeddings.word_embeddings.weight
    before, frozen_before = trained.detach().clone(), frozen.detach().clone()
    args = SentenceTransformerTrainingArguments(
        output_dir=str(tmp_path),
        max_steps=1,
        per_device_train_batch_size=2,
        learning_rate=5e-5,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        prompts=column_prompts(model, rows.column_names),
    )
    logs = KeepLogs()
    trainer = SentenceTransformerTrainer(
        model=model, args=args, train_dataset=rows, loss=loss, callbacks=[logs]
    )
    trainer.train()
    step_log = next(log for log in logs.logs if "loss" in log)
    assert components <= step_log.keys(), step_log
    assert all(math.isfinite(step_log[key]) for key in (*components, "loss", "grad_norm"))
    assert sum(step_log[key] for key in components) == pytest.approx(step_log["loss"], abs=1e-3)
    assert step_log["grad_norm"] > 0
    assert not torch.equal(trained.detach(), before)
    assert torch.equal(frozen.detach(), frozen_before)
