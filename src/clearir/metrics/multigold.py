"""Metrics for pools where a query has several gold documents (e.g. the parallel English and target-language
passage in a bilingual pool): Max@R, Complete@k and English inclination.

They need ranks over the whole pool, so they work on a dense score matrix ``scores[Q, D]`` (rows:
``query_ids``, columns: ``doc_ids``) and are vectorised. Ranks use the same order as ``ranking.ranked_docs``:
score descending, ties by document id descending. The rows are the queries evaluated; each needs at least
one gold document (qrels value > 0) in the pool, and qrels of queries outside ``query_ids`` are ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from clearir.errors import ClearirError
from clearir.metrics.ranking import Qrels

# Gold (query, document) pairs ranked per block; bounds the temporary [block, D] arrays.
_BLOCK = 512


def _id_order(doc_ids: Sequence[str]) -> np.ndarray:
    """Position of each document in ascending id order (the tie-break key)."""
    order = sorted(range(len(doc_ids)), key=doc_ids.__getitem__)
    position = np.empty(len(doc_ids), dtype=np.int64)
    position[order] = np.arange(len(doc_ids))
    return position


def _check_matrix(query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray) -> np.ndarray:
    scores = np.asarray(scores)
    if scores.shape != (len(query_ids), len(doc_ids)):
        raise ClearirError(
            f"score matrix has shape {scores.shape}; expected ({len(query_ids)}, {len(doc_ids)}) "
            "(one row per query id, one column per document id)"
        )
    if len(set(doc_ids)) != len(doc_ids):
        raise ClearirError("doc_ids contain duplicates; expected each pool document once")
    if len(set(query_ids)) != len(query_ids):
        raise ClearirError("query_ids contain duplicates; expected each query once")
    if np.isnan(scores).any():
        row = int(np.argwhere(np.isnan(scores))[0][0])
        raise ClearirError(f"score matrix has NaN for query {query_ids[row]!r}; expected numbers")
    return scores


def _gold_pairs(
    qrels: Qrels, query_ids: Sequence[str], doc_ids: Sequence[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Row and column index of every gold (query, document) pair, rows in query order."""
    column = {doc_id: j for j, doc_id in enumerate(doc_ids)}
    rows: list[int] = []
    cols: list[int] = []
    for i, qid in enumerate(query_ids):
        gold = [doc for doc, rel in qrels.get(qid, {}).items() if rel > 0]
        if not gold:
            raise ClearirError(f"query {qid!r} has no gold document in the qrels; expected at least one")
        for doc in gold:
            if doc not in column:
                raise ClearirError(f"gold document {doc!r} of query {qid!r} is not in the pool (doc_ids)")
            rows.append(i)
            cols.append(column[doc])
    return np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)


def _count_above(
    scores: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    id_order: np.ndarray,
    mask: np.ndarray | None = None,
) -> np.ndarray:
    """Per pair i: how many documents (within ``mask``) rank above document ``cols[i]`` in row ``rows[i]``."""
    counts = np.empty(len(rows), dtype=np.int64)
    for start in range(0, len(rows), _BLOCK):
        r, c = rows[start : start + _BLOCK], cols[start : start + _BLOCK]
        block = scores[r]
        target = scores[r, c][:, None]
        above = (block > target) | ((block == target) & (id_order[None, :] > id_order[c][:, None]))
        if mask is not None:
            above &= mask[None, :]
        counts[start : start + _BLOCK] = above.sum(axis=1)
    return counts


# The Complete@k cut-offs clearir reports.
COMPLETE_KS: tuple[int, ...] = (1, 5, 10, 20)


def gold_ranks(
    qrels: Qrels, query_ids: Sequence[str], doc_ids: Sequence[str], scores: np.ndarray
) -> dict[str, dict[str, int]]:
    """1-based rank of each gold document in the whole pool: ``query id -> gold doc id -> rank``."""
    scores = _check_matrix(query_ids, doc_ids, scores)
    rows, cols = _gold_pairs(qrels, query_ids, doc_ids)
    ranks = _count_above(scores, rows, cols, _id_order(doc_ids)) + 1
    out: dict[str, dict[str, int]] = {qid: {} for qid in query_ids}
    for r, c, rank in zip(rows.tolist(), cols.tolist(), ranks.tolist(), strict=True):
        out[query_ids[r]][doc_ids[c]] = rank
    return out


def max_rank(ranks: dict[str, dict[str, int]]) -> dict[str, int]:
    """Max@R: the rank of each query's worst-ranked gold document (lower is better)."""
    return {qid: max(doc_ranks.values()) for qid, doc_ranks in ranks.items()}


def complete_at(ranks: dict[str, dict[str, int]], k: int) -> dict[str, float]:
    """Complete@k: 1.0 for a query whose gold documents are all in the top k, else 0.0."""
    if k < 1:
        raise ClearirError(f"Complete@k needs k >= 1, got {k}")
    return {qid: float(worst <= k) for qid, worst in max_rank(ranks).items()}


def inclination(
    qrels: Qrels,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    scores: np.ndarray,
    doc_langs: Sequence[str],
    query_lang: str,
    other_lang: str = "en",
) -> dict[str, int]:
    """English inclination: per query, the number of non-relevant ``other_lang`` documents ranked above its
    relevant ``query_lang`` document (the best-ranked one, if there are several)."""
    scores = _check_matrix(query_ids, doc_ids, scores)
    if len(doc_langs) != len(doc_ids):
        raise ClearirError(
            f"doc_langs has {len(doc_langs)} entries; expected one per document ({len(doc_ids)})"
        )
    langs = np.asarray(doc_langs)
    rows, cols = _gold_pairs(qrels, query_ids, doc_ids)
    id_order = _id_order(doc_ids)
    ranks = _count_above(scores, rows, cols, id_order) + 1
    # Per query, the best-ranked gold document in the query's language.
    own = langs[cols] == query_lang
    best = np.full(len(query_ids), -1, dtype=np.int64)
    best_rank = np.full(len(query_ids), np.iinfo(np.int64).max, dtype=np.int64)
    for r, c, rank in zip(rows[own].tolist(), cols[own].tolist(), ranks[own].tolist(), strict=True):
        if rank < best_rank[r]:
            best[r], best_rank[r] = c, rank
    if (best < 0).any():
        qid = query_ids[int(np.argmax(best < 0))]
        raise ClearirError(f"query {qid!r} has no gold document in language {query_lang!r} in the pool")
    # Other-language documents above it, less the gold ones among them.
    every_row = np.arange(len(query_ids))
    above = _count_above(scores, every_row, best, id_order, mask=langs == other_lang)
    gold_other = langs[cols] == other_lang
    gold_above = np.bincount(
        rows[gold_other],
        weights=(ranks[gold_other] < best_rank[rows[gold_other]]).astype(np.float64),
        minlength=len(query_ids),
    ).astype(np.int64)
    return dict(zip(query_ids, (above - gold_above).tolist(), strict=True))


def evaluate_multigold(
    qrels: Qrels,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    scores: np.ndarray,
    doc_langs: Sequence[str] | None = None,
    query_lang: str | None = None,
    ks: Sequence[int] = COMPLETE_KS,
    other_lang: str = "en",
) -> dict[str, float]:
    """Summary over queries: ``max_rank_mean``, ``max_rank_median``, ``complete_at_{k}`` and, when
    ``doc_langs`` and ``query_lang`` are given and ``query_lang != other_lang``, ``inclination_share``
    (share of queries with at least one non-relevant ``other_lang`` document above the relevant one) and
    ``inclination_mean``."""
    if (doc_langs is None) != (query_lang is None):
        raise ClearirError("give both doc_langs and query_lang (for inclination) or neither")
    if not query_ids:
        raise ClearirError("no queries to evaluate; expected at least one query id")
    ranks = gold_ranks(qrels, query_ids, doc_ids, scores)
    worst = np.asarray(list(max_rank(ranks).values()), dtype=np.float64)
    out = {"max_rank_mean": float(worst.mean()), "max_rank_median": float(np.median(worst))}
    for k in ks:
        if k < 1:
            raise ClearirError(f"Complete@k needs k >= 1, got {k}")
        out[f"complete_at_{k}"] = float((worst <= k).mean())
    if doc_langs is not None and query_lang is not None and query_lang != other_lang:
        counts = np.asarray(
            list(inclination(qrels, query_ids, doc_ids, scores, doc_langs, query_lang, other_lang).values())
        )
        out["inclination_share"] = float((counts >= 1).mean())
        out["inclination_mean"] = float(counts.mean())
    return out
