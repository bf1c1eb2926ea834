"""Standard ranking metrics as pure functions of (qrels, run), matching trec_eval / pytrec_eval.

Conventions (all checked against pytrec_eval in the tests):

* Ranking: score descending, ties broken by document id descending (byte-wise, like trec_eval's ``strcmp``).
* A document is relevant when its qrels value is > 0; nDCG uses the qrels value as gain (negative values
  gain 0) with a ``log2(rank + 1)`` discount, and the ideal ranking is built from all judged documents.
* ``map`` uses the whole run (no depth cut); ``mrr_at_k`` is ``1 / rank`` of the first relevant document
  within the top k (0 otherwise).
* Every query in the qrels is evaluated: one missing from the run scores 0 on every measure, and one with no
  relevant document scores 0. Queries in the run but not in the qrels are ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from clearir.errors import ClearirError

Qrels = dict[str, dict[str, int]]
Run = dict[str, dict[str, float]]

DEFAULT_MEASURES: tuple[str, ...] = (
    "ndcg_at_1",
    "ndcg_at_3",
    "ndcg_at_5",
    "ndcg_at_10",
    "ndcg_at_20",
    "ndcg_at_100",
    "recall_at_1",
    "recall_at_5",
    "recall_at_10",
    "recall_at_20",
    "recall_at_100",
    "mrr_at_10",
    "map",
)

_CUT_MEASURE = re.compile(r"^(ndcg|recall|mrr)_at_([0-9]+)$")


@dataclass(frozen=True)
class Measure:
    """A parsed measure name: ``kind`` is ndcg, recall, mrr or map; ``k`` the cut (None for map)."""

    name: str
    kind: str
    k: int | None


def parse_measure(name: str) -> Measure:
    """Parse ``"map"`` or ``"<ndcg|recall|mrr>_at_<k>"`` (k >= 1); anything else raises ClearirError."""
    if name == "map":
        return Measure(name, "map", None)
    match = _CUT_MEASURE.match(name)
    if match is None or int(match.group(2)) < 1:
        raise ClearirError(
            f"unknown measure {name!r}; expected 'map' or '<ndcg|recall|mrr>_at_<k>' with k >= 1, "
            "e.g. ndcg_at_10"
        )
    return Measure(name, match.group(1), int(match.group(2)))


def ranked_docs(scores: Mapping[str, float]) -> list[str]:
    """Document ids by score descending, ties by document id descending (trec_eval's order)."""
    for doc_id, score in scores.items():
        if math.isnan(score):
            raise ClearirError(f"score of document {doc_id!r} is NaN; expected a number")
    return [doc_id for doc_id, _ in sorted(scores.items(), key=lambda item: (item[1], item[0]), reverse=True)]


def _query_values(
    judged: Mapping[str, int], scores: Mapping[str, float], measures: Sequence[Measure]
) -> list[float]:
    """All measures of one query, from the ranks of its relevant retrieved documents."""
    gains = sorted((rel for rel in judged.values() if rel > 0), reverse=True)
    n_relevant = len(gains)
    if n_relevant == 0:
        return [0.0] * len(measures)
    hits = [
        (rank, judged[doc]) for rank, doc in enumerate(ranked_docs(scores), start=1) if judged.get(doc, 0) > 0
    ]
    values = []
    for measure in measures:
        k = measure.k
        if measure.kind == "map":
            value = sum(i / rank for i, (rank, _) in enumerate(hits, start=1)) / n_relevant
        elif measure.kind == "recall":
            value = sum(1 for rank, _ in hits if rank <= k) / n_relevant
        elif measure.kind == "mrr":
            value = 1.0 / hits[0][0] if hits and hits[0][0] <= k else 0.0
        else:
            dcg = sum(gain / math.log2(rank + 1) for rank, gain in hits if rank <= k)
            ideal = sum(gain / math.log2(rank + 1) for rank, gain in enumerate(gains[:k], start=1))
            value = dcg / ideal
        values.append(value)
    return values


def per_query(qrels: Qrels, run: Run, measures: Sequence[str]) -> dict[str, dict[str, float]]:
    """Per-query values, ``measure -> query id -> value``, for every query in ``qrels`` (see module doc)."""
    parsed = [parse_measure(name) for name in measures]
    out: dict[str, dict[str, float]] = {m.name: {} for m in parsed}
    for qid, judged in qrels.items():
        try:
            values = _query_values(judged, run.get(qid, {}), parsed)
        except ClearirError as err:
            raise ClearirError(f"run, query {qid!r}: {err}") from None
        for measure, value in zip(parsed, values, strict=True):
            out[measure.name][qid] = value
    return out


def evaluate(qrels: Qrels, run: Run, measures: Sequence[str] = DEFAULT_MEASURES) -> dict[str, float]:
    """Mean of each measure over all queries in ``qrels`` (missing from the run: 0)."""
    if not qrels:
        raise ClearirError("qrels are empty; expected at least one query")
    return {
        name: sum(values.values()) / len(values) for name, values in per_query(qrels, run, measures).items()
    }
