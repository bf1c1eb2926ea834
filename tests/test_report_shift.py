"""Fine-tune, SHIFT, or both, on hand-made results: which pairs are tested, the tables' values, differences
and Holm-adjusted marks, the markdown and HTML sections, and a results.json from before references were
named."""

from __future__ import annotations

import json

import pytest

from clearir.errors import ClearirError
from clearir.report import EvalEntry, ModelEntry, RunResults, Significance, load_results, write_report
from clearir.report.compare import SHIFT_DIFFS, shift_tables, significance_pairs
from clearir.report.html import render_html
from clearir.report.summary import summary_markdown
from tests.test_report_tables import synthetic_results

# (scenario, query, pool, metric) -> base value; L stands for the training language.
BASE = {
    ("bilingual", "L", ("en", "L"), "complete_at_10"): 0.30,
    ("bilingual", "L", ("en", "L"), "max_rank_mean"): 60.0,
    ("bilingual", "L", ("en", "L"), "ndcg_at_10"): 0.60,
    ("bilingual", "en", ("en", "L"), "complete_at_10"): 0.50,
    ("bilingual", "en", ("en", "L"), "max_rank_mean"): 30.0,
    ("bilingual", "en", ("en", "L"), "ndcg_at_10"): 0.70,
    ("crosslingual", "L", ("en",), "ndcg_at_10"): 0.60,
    ("crosslingual", "en", ("L",), "ndcg_at_10"): 0.55,
    ("monolingual", "L", ("L",), "ndcg_at_10"): 0.70,
    ("monolingual", "en", ("en",), "ndcg_at_10"): 0.80,
    # Not in the tables: the multilingual pool.
    ("multilingual", "L", ("en", "L"), "ndcg_at_10"): 0.40,
}


def _shift_gain(key: tuple) -> float:
    """SHIFT moves only the mixed pools."""
    scenario, query, _, metric = key
    if scenario not in ("bilingual", "multilingual"):
        return 0.0
    scale = 1.0 if query == "L" else 0.4
    return scale * {"complete_at_10": 0.5, "max_rank_mean": -50.0, "ndcg_at_10": 0.2}[metric]


def _tune_gain(key: tuple) -> float:
    _, query, docs, metric = key
    if docs == ("en",) and query == "en":
        return -0.01
    return {"complete_at_10": 0.1, "max_rank_mean": -10.0, "ndcg_at_10": 0.05}[metric]


def shift_results(lang: str = "hi") -> RunResults:
    """base, base+shift, clear-<lang> and its SHIFT variant, infonce-<lang> without one; tests of every pair
    ``significance_pairs`` names, with p = 0.001 where the difference is not 0, except en→en FT − base+SHIFT
    (p = 0.02), p = 1 where it is 0."""
    models = [
        ModelEntry("base", "/models/e5"),
        ModelEntry("base+shift", "/models/e5", "shift"),
        ModelEntry(f"clear-{lang}", "/runs/clear", "clear", lang),
        ModelEntry(f"clear-{lang}+shift", "/runs/clear", "clear + shift", lang),
        ModelEntry(f"infonce-{lang}", "/runs/infonce", "infonce", lang),
    ]
    values: dict[tuple[str, tuple], float] = {}
    evaluations = []
    # (fine-tuned, shifted) per model.
    roles = dict(zip([m.name for m in models], [(0, 0), (0, 1), (1, 0), (1, 1), (1, 0)], strict=True))
    for model in models:
        tuned, shifted = roles[model.name]
        grouped: dict[tuple, dict[str, float]] = {}
        for key, base in BASE.items():
            scenario, query, docs, metric = key
            real = (scenario, query.replace("L", lang), tuple(d.replace("L", lang) for d in docs))
            value = round(base + tuned * _tune_gain(key) + shifted * _shift_gain(key), 6)
            grouped.setdefault(real, {})[metric] = value
            values[(model.name, ("xquad", *real), metric)] = value
        evaluations += [
            EvalEntry(model.name, "xquad", s, q, d, metrics, num_queries=100, num_docs=200)
            for (s, q, d), metrics in grouped.items()
        ]
    significance = []
    for model, reference in significance_pairs(models):
        for (name, key, metric), value in values.items():
            if name != model:
                continue
            diff = value - values[(reference, key, metric)]
            p = 0.001 if abs(diff) > 1e-9 else 1.0
            if key[1:] == ("monolingual", "en", ("en",)) and reference == "base+shift" and "+" not in model:
                p = 0.02
            significance.append(
                Significance(model, *key, metric, diff, diff - 0.01, diff + 0.01, p, 100, reference)
            )
    return RunResults("shift-demo", "2026-01-01T00:00:00Z", {}, {}, models, evaluations, [], [], significance)


def test_pairs_name_their_reference() -> None:
    results = shift_results()
    pairs = significance_pairs(results.models)
    assert pairs == [
        ("base+shift", "base"),
        ("clear-hi", "base"),
        ("clear-hi+shift", "base"),
        ("infonce-hi", "base"),
        ("clear-hi", "base+shift"),
        ("clear-hi+shift", "base+shift"),
        ("clear-hi+shift", "clear-hi"),
    ]
    # Without base + SHIFT: every model against the base model only.
    plain = synthetic_results()
    assert significance_pairs(plain.models) == [(m.name, "base") for m in plain.models[1:]]


def test_table_values_differences_and_holm() -> None:
    results = shift_results()
    (table,) = shift_tables(results)
    assert (table.dataset, table.lang, table.loss) == ("xquad", "hi", "clear")
    assert table.models == {
        "base": "base",
        "base+SHIFT": "base+shift",
        "FT": "clear-hi",
        "FT+SHIFT": "clear-hi+shift",
    }
    assert [(r.direction, r.metric) for r in table.rows] == [
        ("hi→en+hi", "complete_at_10"),
        ("hi→en+hi", "max_rank_mean"),
        ("hi→en+hi", "ndcg_at_10"),
        ("en→en+hi", "complete_at_10"),
        ("en→en+hi", "max_rank_mean"),
        ("en→en+hi", "ndcg_at_10"),
        ("hi→en", "ndcg_at_10"),
        ("en→hi", "ndcg_at_10"),
        ("hi→hi", "ndcg_at_10"),
        ("en→en", "ndcg_at_10"),
    ]
    tests = {(s.model, s.reference, s.key, s.metric): s for s in results.significance}
    for row in table.rows:
        for (a, b), diff in zip(SHIFT_DIFFS, row.diffs, strict=True):
            assert diff.diff == pytest.approx(row.values[a] - row.values[b])
    complete = table.rows[0]
    assert complete.values == pytest.approx({"base": 0.3, "base+SHIFT": 0.8, "FT": 0.4, "FT+SHIFT": 0.9})
    assert [d.diff for d in complete.diffs] == pytest.approx([-0.4, 0.1, 0.5])
    # The table's differences are the tested ones.
    key = ("xquad", "bilingual", "hi", ("en", "hi"))
    assert tests[("clear-hi", "base+shift", key, "complete_at_10")].diff == pytest.approx(-0.4)
    # 30 tests: 25 with p = 0.001 (Holm: at most 0.03), en→en FT − base+SHIFT p = 0.02 → 5 × 0.02 = 0.1,
    # 4 with p = 1 (SHIFT in the direct directions).
    assert all(d.significant for d in complete.diffs)
    english = table.rows[-1].diffs
    assert (
        english[0].p_value == 0.02 and english[0].p_holm == pytest.approx(0.1) and not english[0].significant
    )
    assert english[2].diff == 0 and english[2].p_holm == 1.0
    # SHIFT changes nothing in the direct directions.
    assert all(r.diffs[2].diff == 0 for r in table.rows[6:])


def test_sections_render_in_markdown_and_html() -> None:
    results = shift_results(lang="h<i>")
    summary = summary_markdown(results)
    section = summary.split("## Fine-tune, SHIFT, or both", 1)[1].split("## Timing", 1)[0]
    assert "Holm-adjusted within each table" in section
    assert "**h&lt;i&gt; (xquad): FT = clear-h&lt;i&gt; (clear); base+SHIFT = base+shift**" in section
    mixed = "| h&lt;i&gt;→en+h&lt;i&gt; | Complete@10 | 0.300 | 0.800 | 0.400 | 0.900 |"
    assert mixed + " -0.400* | +0.100* | +0.500* |" in section
    assert "| en→en | nDCG@10 | 0.800 | 0.800 | 0.790 | 0.790 | -0.010 | -0.010* | +0.000 |" in section
    assert "<i>" not in summary
    # Existing sections stay: the results table comes first, then this section, then timing.
    assert (
        summary.index("## Results")
        < summary.index("## Fine-tune, SHIFT, or both")
        < summary.index("## Timing")
    )

    page = render_html(results, {})
    assert "<h2>Fine-tune, SHIFT, or both</h2>" in page and "<i>" not in page
    assert "<h3>h&lt;i&gt; (xquad): FT = clear-h&lt;i&gt; (clear); base+SHIFT = base+shift</h3>" in page
    assert "title='p = 0.0200, Holm 0.1000'>-0.010</td>" in page
    assert page.index("<h2>Results</h2>") < page.index("Fine-tune, SHIFT") < page.index("<h2>Training</h2>")
    (table,) = shift_tables(results)
    assert table.sentence() == (
        "Fine-tune, SHIFT, or both: FT = clear-h<i> (clear), xquad h<i>→en+h<i> Complete@10: base 0.300, "
        "base+SHIFT 0.800, FT 0.400, FT+SHIFT 0.900; FT − base+SHIFT -0.400*, FT+SHIFT − base+SHIFT +0.100*, "
        "FT+SHIFT − FT +0.500*."
    )

    # Without SHIFT there is no such section.
    plain = synthetic_results()
    assert shift_tables(plain) == []
    assert "Fine-tune, SHIFT" not in summary_markdown(plain) and "Fine-tune, SHIFT" not in render_html(
        plain, {}
    )


def test_results_json_without_reference_still_loads(tmp_path) -> None:
    results = shift_results()
    write_report(results, tmp_path)
    document = json.loads((tmp_path / "results.json").read_text())
    assert len(document["derived"]["fine_tune_shift_or_both"]) == 1
    assert load_results(tmp_path / "results.json") == results
    # A results.json from before references were named: its tests are against the base model.
    old = synthetic_results()
    document = old.to_dict()
    for test in document["significance"]:
        del test["reference"]
    (tmp_path / "old.json").write_text(json.dumps(document))
    loaded = load_results(tmp_path / "old.json")
    assert [s.reference for s in loaded.significance] == ["base"]
    assert loaded == old
    document["significance"][0]["reference"] = "ghost"
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ClearirError, match="unknown reference model 'ghost'"):
        load_results(tmp_path / "bad.json")
