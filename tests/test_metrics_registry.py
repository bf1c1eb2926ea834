"""The metric registry drives every report: a metric shown in the run report is a row of its tables in
summary.md and report.html, a metric shown in the ablation is one of its focus targets, and the evaluation's
scores are the registry's aggregates of the per-query values."""

from __future__ import annotations

import pytest

from clearir.experiment.store import FOCUS, targets_of
from clearir.metrics.registry import ABLATION, METRICS, RUN, ranking_measures, shown_in, summarize
from clearir.report import EvalEntry, RunResults
from clearir.report.html import render_html
from clearir.report.summary import summary_markdown
from tests.test_report_tables import synthetic_results


def _with_every_metric(results: RunResults) -> RunResults:
    """``results`` with a value of every registry metric in each evaluation (0.5, or 0.6 fine-tuned)."""
    evaluations = [
        EvalEntry(
            e.model,
            e.dataset,
            e.scenario,
            e.query_lang,
            e.doc_langs,
            {m.key: e.metrics.get(m.key, 0.6 if e.model != "base" else 0.5) for m in METRICS},
            e.num_queries,
            e.num_docs,
        )
        for e in results.evaluations
    ]
    return RunResults(
        results.name, results.created, results.config, results.versions, results.models, evaluations
    )


@pytest.mark.parametrize("spec", shown_in(RUN), ids=lambda m: m.key)
def test_every_run_metric_is_a_row_of_both_run_reports(spec) -> None:
    results = _with_every_metric(synthetic_results())
    summary, page = summary_markdown(results), render_html(results, {})
    direction = "hi→en+hi" if spec.mixed_only else "hi→en"
    assert f"| {spec.label} |" in summary
    assert f"<td>{spec.label}</td>" in page
    assert direction in summary and direction in page


@pytest.mark.parametrize("spec", shown_in(ABLATION), ids=lambda m: m.key)
def test_every_ablation_metric_is_a_focus_target(spec) -> None:
    kinds = [kind for kind, key in FOCUS if key == spec.key]
    mixed = ["mixed pool, L queries", "mixed pool, en queries"]
    assert kinds == (mixed if spec.mixed_only else ["en→en", "L→en", "en→L", "L→L", *mixed])
    targets = targets_of("xquad", ["de"])
    assert {(t.kind, t.metric) for t in targets} == set(FOCUS)


def test_scores_are_the_registry_aggregates() -> None:
    per_query = {
        "ndcg_at_10": {"a": 1.0, "b": 0.0},
        "max_rank": {"a": 1.0, "b": 2.0, "c": 9.0},
        "inclination": {"a": 0.0, "b": 3.0},
        "map_at_100": {"a": 0.5, "b": 0.25},
    }
    scores = summarize(per_query)
    assert list(scores) == [
        "ndcg_at_10",
        "max_rank_mean",
        "max_rank_median",
        "inclination_share",
        "inclination_mean",
        "map_at_100",
    ]
    assert scores["max_rank_mean"] == 4.0 and scores["max_rank_median"] == 2.0
    assert scores["inclination_share"] == 0.5 and scores["inclination_mean"] == 1.5
    assert scores["map_at_100"] == 0.375
    # Every ranking measure an entry names is computed per query.
    assert {m.measure for m in METRICS if m.measure.startswith(("ndcg", "recall", "mrr"))} <= set(
        ranking_measures()
    )
