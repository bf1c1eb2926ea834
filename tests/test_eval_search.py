"""Top-k search: exact against a full sort, deterministic ties, FAISS parity, bad input."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from clearir.errors import ClearirError
from clearir.evaluation.search import top_k


def _unit(rows: int, dim: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_exact_top_k_equals_a_full_sort_across_blocks() -> None:
    queries, docs = _unit(37, 16, 0), _unit(200, 16, 1)
    scores, indices = top_k(queries, docs, 10, block=8)
    full = queries @ docs.T
    expected = np.argsort(-full, axis=1, kind="stable")[:, :10]
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(full, expected, axis=1), rtol=1e-6)
    all_scores, all_indices = top_k(queries, docs, 1000)
    assert all_indices.shape == (37, 200)
    assert (np.diff(all_scores, axis=1) <= 0).all()


def test_ties_are_broken_by_document_index() -> None:
    docs = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 0.0]], dtype=np.float32)
    _, indices = top_k(np.array([[1.0, 0.0]], dtype=np.float32), docs, 3)
    assert indices.tolist() == [[0, 2, 3]]


def test_faiss_gives_the_exact_ranking() -> None:
    queries, docs = _unit(50, 32, 2), _unit(500, 32, 3)
    exact_scores, exact_indices = top_k(queries, docs, 20)
    faiss_scores, faiss_indices = top_k(queries, docs, 20, backend="faiss")
    np.testing.assert_array_equal(faiss_indices, exact_indices)
    np.testing.assert_allclose(faiss_scores, exact_scores, atol=1e-5)


def test_missing_faiss_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "faiss", None)
    with pytest.raises(ClearirError, match=r"pip install 'clearir\[faiss\]'"):
        top_k(_unit(2, 4, 0), _unit(3, 4, 1), 2, backend="faiss")


@pytest.mark.parametrize(
    ("docs", "k", "backend", "message"),
    [
        (np.zeros((0, 4), dtype=np.float32), 5, "exact", "empty document pool"),
        (_unit(3, 4, 1), 0, "exact", "k >= 1"),
        (_unit(3, 5, 1), 2, "exact", "query dimension 4 differs from document dimension 5"),
        (_unit(3, 4, 1), 2, "annoy", "unknown search backend 'annoy'"),
    ],
)
def test_bad_search_input(docs: np.ndarray, k: int, backend: str, message: str) -> None:
    with pytest.raises(ClearirError, match=message):
        top_k(_unit(2, 4, 0), docs, k, backend=backend)  # type: ignore[arg-type]
