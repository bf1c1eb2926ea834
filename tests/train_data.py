"""Tiny training inputs for the ``clearir train`` tests: a saved tiny model and saved CLEAR rows."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from datasets import Dataset
from safetensors.torch import load_file
from sentence_transformers import SentenceTransformer

from tests.tiny_model import WORDS, make_tiny_model


def tiny_model_dir(path: Path, seed: int = 0, dropout: float = 0.1) -> Path:
    """Save a tiny model to ``path``. Saved, loaded and saved again: loading creates BERT's (unused) pooler
    with random weights, and storing it makes every later load of ``path`` give the same parameters."""
    make_tiny_model(seed=seed, dropout=dropout).save(str(path))
    SentenceTransformer(str(path), device="cpu").save(str(path))
    return path


def clear_columns(num_negatives: int) -> list[str]:
    negatives = [f"neg_{k}" for k in range(1, num_negatives + 1)]
    queries = [f"neg_query_{k}" for k in range(1, num_negatives + 1)]
    return ["en_question", "paragraphs", *negatives, "lang_question", *queries]


def write_rows(
    path: Path, rows: int = 16, num_negatives: int = 2, columns: list[str] | None = None, seed: int = 0
) -> Path:
    """Save ``rows`` CLEAR rows of distinct lower-case texts (the tiny tokenizer's words) to ``path``."""
    rng = random.Random(seed)
    columns = columns if columns is not None else clear_columns(num_negatives)
    data = {
        column: [
            f"{column.replace('_', ' ')} {i} "
            + " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 12)))
            for i in range(rows)
        ]
        for column in columns
    }
    Dataset.from_dict(data).save_to_disk(str(path))
    return path


def weights(model_dir: Path) -> dict[str, torch.Tensor]:
    """Every parameter of a saved tiny (or any single-file) model."""
    return load_file(str(model_dir / "model.safetensors"))
