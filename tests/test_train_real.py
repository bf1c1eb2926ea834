"""One short real run: the built base model, CLEAR rows built from MLQA-R German, two GradCache steps."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from sentence_transformers import SentenceTransformer

from clearir.rows.build import build_rows, save_rows
from clearir.training.config import TrainConfig
from clearir.training.trainer import train

WORD_EMBEDDINGS = "embeddings.word_embeddings.weight"
TRAINED = "encoder.layer.11.output.dense.weight"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tensor(model_dir: Path, name: str) -> torch.Tensor:
    with safe_open(str(model_dir / "model.safetensors"), framework="pt") as f:
        return f.get_tensor(name)


@pytest.mark.slow
def test_two_real_clear_steps_change_the_weights_and_save_a_loadable_model(
    base_model_path: Path, data_dir: Path, tmp_path: Path
) -> None:
    rows, report = build_rows("mlqa", ["de"], max_rows=32, data_dir=data_dir)
    data = save_rows(rows, report, tmp_path / "rows")
    config = TrainConfig(
        data=str(data),
        out=str(tmp_path / "run"),
        model=str(base_model_path),
        batch_size=8,
        mini_batch_size=4,
        max_steps=2,
        max_seq_length=128,
        max_query_length=48,
        save_steps=2,
    )
    result = train(config)

    assert result.global_step == 2 and result.rows == 32
    assert not torch.equal(tensor(base_model_path, TRAINED), tensor(result.model_dir, TRAINED))
    assert torch.equal(tensor(base_model_path, WORD_EMBEDDINGS), tensor(result.model_dir, WORD_EMBEDDINGS))

    records = [json.loads(line) for line in result.loss_log.read_text().splitlines()]
    steps = [r for r in records if "loss" in r]
    assert [r["step"] for r in steps] == [1, 2]
    assert all(math.isfinite(r[k]) and r[k] >= 0 for r in steps for k in ("forward", "reverse", "kl"))

    card = (result.model_dir / "README.md").read_text(encoding="utf-8")
    assert (
        "mlqa de" in card
        and f"Base model: `{base_model_path}`" in card
        and "| `mini_batch_size` | `4` |" in card
    )

    trained = SentenceTransformer(str(result.model_dir), device="cpu")
    base = SentenceTransformer(str(base_model_path), device="cpu")
    assert trained.prompts == base.prompts
    query = ["Wer schrieb den Faust?"]
    assert not torch.allclose(
        trained.encode_query(query, convert_to_tensor=True), base.encode_query(query, convert_to_tensor=True)
    )
