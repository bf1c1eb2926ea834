"""Top-k search over normalized embeddings: exact (blocked matrix product, the default) or FAISS.

Scores are inner products, i.e. cosine similarities of the normalized embeddings. The exact search holds one
``[block, D]`` score block at a time; FAISS (``pip install 'clearir[faiss]'``) uses its flat inner-product
index, which gives the same ranking and suits pools too large for a score matrix per query block.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from clearir.errors import ClearirError

Backend = Literal["exact", "faiss"]
BACKENDS: tuple[str, ...] = ("exact", "faiss")


def score_matrix(queries: np.ndarray, docs: np.ndarray) -> np.ndarray:
    """All query-document scores, ``[Q, D]`` float32."""
    return np.asarray(queries, dtype=np.float32) @ np.asarray(docs, dtype=np.float32).T


def _exact(queries: np.ndarray, docs: np.ndarray, k: int, block: int) -> tuple[np.ndarray, np.ndarray]:
    scores = np.empty((len(queries), k), dtype=np.float32)
    indices = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), block):
        chunk = score_matrix(queries[start : start + block], docs)
        top = (
            np.argpartition(-chunk, k - 1, axis=1)[:, :k]
            if k < chunk.shape[1]
            else np.tile(np.arange(chunk.shape[1]), (len(chunk), 1))
        )
        top_scores = np.take_along_axis(chunk, top, axis=1)
        order = np.lexsort((top, -top_scores), axis=1)
        indices[start : start + block] = np.take_along_axis(top, order, axis=1)
        scores[start : start + block] = np.take_along_axis(top_scores, order, axis=1)
    return scores, indices


def _faiss(queries: np.ndarray, docs: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        import faiss
    except ImportError:
        raise ClearirError(
            "FAISS search needs the faiss extra, which is not installed: pip install 'clearir[faiss]'"
        ) from None
    index = faiss.IndexFlatIP(docs.shape[1])
    index.add(np.ascontiguousarray(docs, dtype=np.float32))
    scores, indices = index.search(np.ascontiguousarray(queries, dtype=np.float32), k)
    return scores, indices.astype(np.int64)


def top_k(
    queries: np.ndarray, docs: np.ndarray, k: int, backend: Backend = "exact", block: int = 1024
) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the ``min(k, D)`` best documents: ``(scores, indices)``, each ``[Q, min(k, D)]``, best first
    (exact search breaks ties by document index)."""
    if backend not in BACKENDS:
        raise ClearirError(f"unknown search backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    if len(docs) == 0:
        raise ClearirError("cannot search an empty document pool")
    if k < 1:
        raise ClearirError(f"top-k search needs k >= 1, got {k}")
    if queries.shape[1] != docs.shape[1]:
        raise ClearirError(
            f"query dimension {queries.shape[1]} differs from document dimension {docs.shape[1]}"
        )
    k = min(k, len(docs))
    return _faiss(queries, docs, k) if backend == "faiss" else _exact(queries, docs, k, block)
