"""Multi-gold pool metrics: hand-worked examples, and the vectorised ranks against a brute-force loop."""

from __future__ import annotations

import numpy as np
import pytest

from clearir.errors import ClearirError
from clearir.metrics.multigold import (
    complete_at,
    evaluate_multigold,
    gold_ranks,
    inclination,
    max_rank,
)
from clearir.metrics.ranking import ranked_docs

DOCS = ["en/1", "en/2", "en/3", "de/1", "de/2", "de/3"]
LANGS = ["en", "en", "en", "de", "de", "de"]
QUERIES = ["q1", "q2", "q3"]
QRELS = {
    "q1": {"en/1": 1, "de/1": 1},
    "q2": {"en/2": 1, "de/2": 1, "de/1": 0},  # a 0 judgement is not gold
    "q3": {"en/3": 1, "de/3": 1},
    "q_other": {"en/1": 1},  # not a row of the matrix: ignored
}
SCORES = np.array(
    [
        # q1: en/1 > en/2 > en/3 > de/1 > de/2 > de/3, no ties.
        [0.9, 0.8, 0.7, 0.6, 0.1, 0.0],
        # q2: en/1, en/2, de/2 tie at 0.5 -> id descending: en/2, en/1, de/2; then de/3, en/3, de/1.
        [0.5, 0.5, 0.2, 0.1, 0.5, 0.3],
        # q3: de/3 first; the four 0.5s in id order en/2, en/1, de/2, de/1; en/3 last.
        [0.5, 0.5, 0.2, 0.5, 0.5, 1.0],
    ]
)


def test_hand_worked_example() -> None:
    ranks = gold_ranks(QRELS, QUERIES, DOCS, SCORES)
    assert ranks == {
        "q1": {"en/1": 1, "de/1": 4},
        "q2": {"en/2": 1, "de/2": 3},
        "q3": {"en/3": 6, "de/3": 1},
    }
    assert max_rank(ranks) == {"q1": 4, "q2": 3, "q3": 6}
    assert complete_at(ranks, 4) == {"q1": 1.0, "q2": 1.0, "q3": 0.0}
    # q1: en/2, en/3 above de/1 (en/1 is gold, not counted); q2: en/1 wins its tie with de/2 (id order);
    # q3: de/3 is first.
    assert inclination(QRELS, QUERIES, DOCS, SCORES, LANGS, "de") == {"q1": 2, "q2": 1, "q3": 0}


def test_hand_worked_summary() -> None:
    summary = evaluate_multigold(QRELS, QUERIES, DOCS, SCORES, LANGS, "de", ks=(1, 5, 10))
    # Max@R per query 4, 3, 6: mean 13/3, median 4; all gold in the top 5 for q1 and q2 only.
    # Inclination counts 2, 1, 0: two of three queries have one or more, mean 1.
    assert summary == pytest.approx(
        {
            "max_rank_mean": 13 / 3,
            "max_rank_median": 4.0,
            "complete_at_1": 0.0,
            "complete_at_5": 2 / 3,
            "complete_at_10": 1.0,
            "inclination_share": 2 / 3,
            "inclination_mean": 1.0,
        }
    )
    # English queries, or no languages given: no inclination.
    assert "inclination_share" not in evaluate_multigold(QRELS, QUERIES, DOCS, SCORES, LANGS, "en")
    assert set(evaluate_multigold(QRELS, QUERIES, DOCS, SCORES)) == {
        "max_rank_mean",
        "max_rank_median",
        "complete_at_1",
        "complete_at_5",
        "complete_at_10",
        "complete_at_20",
    }


def _random_pool(seed: int) -> tuple[dict, list[str], list[str], np.ndarray, list[str]]:
    """Tie-heavy random scores over a bilingual pool; each query has 1-3 gold docs, one of them in German."""
    rng = np.random.default_rng(seed)
    n_docs, n_queries = 60, 40
    doc_ids = [f"{lang}/{rng.integers(0, 10**6)}" for lang in ("de", "en") for _ in range(n_docs // 2)]
    doc_ids = list(dict.fromkeys(doc_ids))
    langs = [doc.split("/")[0] for doc in doc_ids]
    german = [i for i, lang in enumerate(langs) if lang == "de"]
    query_ids = [f"q{i}" for i in range(n_queries)]
    qrels = {}
    for qid in query_ids:
        gold = {doc_ids[int(rng.choice(german))]} | {
            doc_ids[int(j)] for j in rng.integers(0, len(doc_ids), 2)
        }
        qrels[qid] = dict.fromkeys(gold, 1)
    scores = rng.integers(0, 5, size=(n_queries, len(doc_ids))).astype(np.float32) / 4
    for i in range(0, n_queries, 3):  # some German gold documents on top: inclination 0
        german_gold = [doc_ids.index(doc) for doc in qrels[query_ids[i]] if doc.startswith("de/")]
        scores[i, german_gold] = 2.0
    return qrels, query_ids, doc_ids, scores, langs


@pytest.mark.parametrize("seed", range(5))
def test_gold_ranks_and_inclination_match_brute_force(seed: int) -> None:
    qrels, query_ids, doc_ids, scores, langs = _random_pool(seed)
    lang_of = dict(zip(doc_ids, langs, strict=True))
    ranks = gold_ranks(qrels, query_ids, doc_ids, scores)
    counts = inclination(qrels, query_ids, doc_ids, scores, langs, "de")
    for i, qid in enumerate(query_ids):
        order = ranked_docs({doc: float(s) for doc, s in zip(doc_ids, scores[i], strict=True)})
        assert ranks[qid] == {doc: order.index(doc) + 1 for doc in qrels[qid]}
        first_german_gold = min(order.index(doc) for doc in qrels[qid] if lang_of[doc] == "de")
        above = order[:first_german_gold]
        assert counts[qid] == sum(lang_of[doc] == "en" and doc not in qrels[qid] for doc in above)
    assert any(c > 0 for c in counts.values()) and any(c == 0 for c in counts.values())


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match="shape"):
        gold_ranks(QRELS, QUERIES, DOCS, SCORES[:, :5])
    with pytest.raises(ClearirError, match="'de/9' of query 'q1' is not in the pool"):
        gold_ranks({**QRELS, "q1": {"de/9": 1}}, QUERIES, DOCS, SCORES)
    with pytest.raises(ClearirError, match="'q2' has no gold document"):
        gold_ranks({**QRELS, "q2": {"de/2": 0}}, QUERIES, DOCS, SCORES)
    with pytest.raises(ClearirError, match="NaN for query 'q3'"):
        gold_ranks(QRELS, QUERIES, DOCS, np.where(SCORES == 1.0, np.nan, SCORES))
    with pytest.raises(ClearirError, match="no gold document in language 'fr'"):
        inclination(QRELS, QUERIES, DOCS, SCORES, LANGS, "fr")
    with pytest.raises(ClearirError, match="both doc_langs and query_lang"):
        evaluate_multigold(QRELS, QUERIES, DOCS, SCORES, doc_langs=LANGS)
    with pytest.raises(ClearirError, match="k >= 1"):
        complete_at(gold_ranks(QRELS, QUERIES, DOCS, SCORES), 0)
