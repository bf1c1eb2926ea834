"""Standard ranking metrics against pytrec_eval (the independent reference), and their conventions."""

from __future__ import annotations

import random

import pytest
import pytrec_eval

from clearir.errors import ClearirError
from clearir.metrics.ranking import DEFAULT_MEASURES, evaluate, parse_measure, per_query, ranked_docs

CUTS_NDCG = (1, 3, 5, 10, 20, 100)
CUTS_RECALL = (1, 5, 10, 20, 100)


def _random_case(seed: int, graded: bool) -> tuple[dict, dict]:
    """Many queries with heavy score ties, unjudged and non-relevant retrieved documents, queries whose
    relevant documents are not retrieved, queries with no relevant document, queries missing from the run and
    run queries without qrels."""
    rng = random.Random(seed)
    pool = [f"d{i}" for i in range(300)] + ["D7", "d7x", "Z", "é1"]
    qrels: dict[str, dict[str, int]] = {}
    run: dict[str, dict[str, float]] = {}
    for q in range(150):
        qid = f"q{q}"
        judged = rng.sample(pool, rng.randint(1, 12))
        levels = (0, 1, 2, 3) if graded else (0, 1)
        qrels[qid] = {doc: rng.choice(levels) for doc in judged}
        if q % 10 == 0:
            qrels[qid] = {doc: 0 for doc in judged}  # no relevant document at all
        if q % 7 == 3:
            continue  # missing from the run
        retrieved = rng.sample(pool, rng.randint(1, 150))
        if q % 5 == 1:
            retrieved = [
                doc for doc in retrieved if qrels[qid].get(doc, 0) <= 0
            ]  # relevant ones not retrieved
        # Few distinct scores, so ties decide many positions.
        run[qid] = {doc: float(rng.randint(0, 6)) / 2 for doc in retrieved}
    run["not_in_qrels"] = {"d1": 1.0, "d2": 0.5}
    return qrels, run


@pytest.mark.parametrize("graded", [True, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_measures_agree_with_pytrec_eval(seed: int, graded: bool) -> None:
    qrels, run = _random_case(seed, graded)
    assert any(q not in run for q in qrels) and any(q not in qrels for q in run)
    trec_measures = (
        {"map", "recip_rank"} | {f"ndcg_cut_{k}" for k in CUTS_NDCG} | {f"recall_{k}" for k in CUTS_RECALL}
    )
    reference = pytrec_eval.RelevanceEvaluator(qrels, trec_measures).evaluate(run)
    ours = per_query(qrels, run, DEFAULT_MEASURES)
    pairs = [("map", "map")]
    pairs += [(f"ndcg_at_{k}", f"ndcg_cut_{k}") for k in CUTS_NDCG]
    pairs += [(f"recall_at_{k}", f"recall_{k}") for k in CUTS_RECALL]
    for qid in qrels:
        # pytrec_eval leaves out queries missing from the run; we score them 0.
        ref = reference.get(qid, dict.fromkeys(trec_measures, 0.0))
        for name, trec_name in pairs:
            assert ours[name][qid] == pytest.approx(ref[trec_name], abs=1e-6), (qid, name)
        # recip_rank on the run cut to the top 10 is recip_rank when the first hit is within rank 10, else 0.
        expected_mrr = ref["recip_rank"] if ref["recip_rank"] >= 1 / 10 - 1e-12 else 0.0
        assert ours["mrr_at_10"][qid] == pytest.approx(expected_mrr, abs=1e-6), qid
    # Means run over all qrels queries, those missing from the run included (as 0).
    means = evaluate(qrels, run)
    for name, values in ours.items():
        assert means[name] == pytest.approx(sum(values.values()) / len(qrels))
    assert 0 < means["ndcg_at_10"] < 1


def test_ranked_docs_breaks_ties_like_pytrec_eval() -> None:
    """A single relevant document's reciprocal rank in pytrec_eval reveals its position; checking every
    document pins down pytrec_eval's whole order, with ties among ids of different case, length and script."""
    rng = random.Random(5)
    alphabet = ["a", "b", "B", "Z", "0", "9", "_", "-", "é", "ß", "я", "中"]
    for _ in range(30):
        ids = {"".join(rng.choices(alphabet, k=rng.randint(1, 4))) for _ in range(rng.randint(2, 25))}
        scores = {doc: float(rng.choice([0.0, 0.5, 0.5, -1.0, 2.0])) for doc in ids}
        ours = ranked_docs(scores)
        for position, doc in enumerate(ours, start=1):
            result = pytrec_eval.RelevanceEvaluator({"q": {doc: 1}}, {"recip_rank"}).evaluate({"q": scores})
            assert result["q"]["recip_rank"] == pytest.approx(1 / position), (scores, doc)


def test_tie_order_decides_the_metric() -> None:
    # Equal scores: "b" ranks above "a" (id descending), "a10" above "a9" (lexicographic, not numeric).
    assert ranked_docs({"a": 1.0, "b": 1.0, "c": 2.0}) == ["c", "b", "a"]
    assert ranked_docs({"a9": 0.0, "a10": 0.0}) == ["a9", "a10"]
    qrels = {"q": {"a": 1}}
    run = {"q": {"a": 1.0, "b": 1.0}}
    assert evaluate(qrels, run, ["mrr_at_10", "recall_at_1"]) == {"mrr_at_10": 0.5, "recall_at_1": 0.0}
    assert evaluate({"q": {"b": 1}}, run, ["mrr_at_10", "recall_at_1"]) == {
        "mrr_at_10": 1.0,
        "recall_at_1": 1.0,
    }


def test_missing_query_scores_zero_and_extra_run_query_is_ignored() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    run = {"q1": {"a": 3.0, "x": 1.0}, "other": {"b": 1.0}}
    values = per_query(qrels, run, ["ndcg_at_10", "map"])
    assert values == {"ndcg_at_10": {"q1": 1.0, "q2": 0.0}, "map": {"q1": 1.0, "q2": 0.0}}
    assert evaluate(qrels, run, ["map"]) == {"map": 0.5}


def test_graded_ndcg_by_hand() -> None:
    # Ranking c(2), a(0), b(1); ideal c(2), b(1). DCG@3 = 2/log2(2) + 1/log2(4) = 2.5; IDCG = 2 + 1/log2(3).
    qrels = {"q": {"a": 0, "b": 1, "c": 2}}
    run = {"q": {"a": 0.5, "b": 0.1, "c": 0.9}}
    expected = 2.5 / (2 + 1 / 1.584962500721156)
    assert evaluate(qrels, run, ["ndcg_at_3"])["ndcg_at_3"] == pytest.approx(expected)


def test_measure_names() -> None:
    assert parse_measure("ndcg_at_7").k == 7 and parse_measure("recall_at_1000").kind == "recall"
    assert parse_measure("map").k is None
    for bad in ("ndcg", "ndcg_at_0", "p_at_10", "map_at_10", "mrr@10"):
        with pytest.raises(ClearirError, match="unknown measure"):
            parse_measure(bad)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match=r"query 'q'.*'a' is NaN"):
        evaluate({"q": {"a": 1}}, {"q": {"a": float("nan")}}, ["map"])
    with pytest.raises(ClearirError, match="qrels are empty"):
        evaluate({}, {"q": {"a": 1.0}})
