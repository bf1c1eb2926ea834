"""The language matrix in the run report: heatmaps of nDCG@10 per (query, document) language and of
Complete@10 per bilingual pool, Δ vs. the base model with significant cells marked, only when the results hold
``matrix``/``pairs`` evaluations; escaped labels, and the page as headless Chromium renders it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from clearir.report import EvalEntry, ModelEntry, RunResults, Significance, write_report
from clearir.report.blocks import HEAT_COLORS
from clearir.report.compare import comparison_rows, english_retention
from clearir.report.html import render_html
from clearir.report.matrix import heatmaps, matrix_sections
from clearir.report.summary import summary_markdown
from tests.test_report_html import _colors, _Page, _run_chromium
from tests.test_report_tables import synthetic_results

EVIL = "<script>document.title='x'</script>&ar"
LANGS = ("en", "de", EVIL)
# The fine-tuned model's change per (query, document) cell: the largest better and the largest worse change
# are equally large, so both are drawn at full colour.
DELTA = {("de", "en"): 0.08, (EVIL, "de"): -0.08, ("en", EVIL): 0.01}


def _base_ndcg(query: str, doc: str) -> float:
    return 0.9 if query == doc else 0.6 + 0.05 * LANGS.index(query) - 0.02 * LANGS.index(doc)


def matrix_results(with_classic: bool = False) -> RunResults:
    """The base model and CLEAR trained on de, evaluated on the 3 x 3 matrix and the 3 bilingual pools."""
    models = [ModelEntry("base", "/models/e5"), ModelEntry("clear-de", "/runs/clear-de", "clear", "de")]
    evaluations, significance = [], []
    for model in models:
        tuned = not model.is_base
        for query in LANGS:
            for doc in LANGS:
                ndcg = _base_ndcg(query, doc) + (DELTA.get((query, doc), 0.0) if tuned else 0.0)
                evaluations.append(
                    EvalEntry(model.name, "xquad", "matrix", query, (doc,), {"ndcg_at_10": round(ndcg, 6)})
                )
                if with_classic and "en" in (query, doc) and query != doc:
                    evaluations.append(
                        EvalEntry(model.name, "xquad", "crosslingual", query, (doc,), {"ndcg_at_10": ndcg})
                    )
        for i, first in enumerate(LANGS):
            for second in LANGS[i + 1 :]:
                for query in (second, first):
                    complete = 0.5 + 0.1 * LANGS.index(query) + (0.05 if tuned and query == "de" else 0.0)
                    metrics = {"ndcg_at_10": 0.7, "complete_at_10": round(complete, 6), "max_rank_mean": 9.0}
                    evaluations.append(
                        EvalEntry(model.name, "xquad", "pairs", query, (first, second), metrics)
                    )
    for (query, doc), delta in DELTA.items():
        p = 0.001 if abs(delta) > 0.05 else 0.4
        test = (delta, delta - 0.02, delta + 0.02, p, 300)
        significance.append(Significance("clear-de", "xquad", "matrix", query, (doc,), "ndcg_at_10", *test))
    significance.append(
        Significance(
            "clear-de", "xquad", "pairs", "de", ("en", "de"), "complete_at_10", 0.05, 0.01, 0.09, 0.01, 300
        )
    )
    return RunResults(
        name="matrix <b>run</b>",
        created="2026-01-01T00:00:00Z",
        config={},
        versions={},
        models=models,
        evaluations=evaluations,
        significance=significance,
    )


def test_heatmaps_hold_values_deltas_and_tests() -> None:
    maps = heatmaps(matrix_results())
    assert [(h.kind.scenario, h.model) for h in maps] == [
        ("matrix", "base"),
        ("matrix", "clear-de"),
        ("pairs", "base"),
        ("pairs", "clear-de"),
    ]
    base, tuned, pools, tuned_pools = maps
    assert base.langs == LANGS and len(base.values) == 9
    assert base.values[("de", "en")] == _base_ndcg("de", "en")
    assert tuned.delta(("de", "en")) == pytest.approx(0.08) and tuned.delta(("en", "de")) == 0.0
    assert set(tuned.tests) == set(DELTA)
    # Pools: a row per query language, a column per the pool's other language, no diagonal.
    assert len(pools.values) == 6 and ("de", "de") not in pools.values
    assert pools.values[("de", EVIL)] == 0.6 and tuned_pools.delta(("de", "en")) == pytest.approx(0.05)

    block = next(b for b in matrix_sections(matrix_results())[1][1] if b.kind == "heatmap")
    assert block.header == ("query ↓ · pool with →", *LANGS)
    tuned_block = [b for b in matrix_sections(matrix_results())[0][1] if b.kind == "heatmap"][1]
    cells = {(row[0].text, LANGS[j]): cell for row in tuned_block.rows for j, cell in enumerate(row[1:])}
    assert cells[("de", "en")].text == "+0.080*" and cells[("de", "en")].quality == "better"
    assert cells[(EVIL, "de")].text == "-0.080*" and cells[(EVIL, "de")].quality == "worse"
    assert cells[("en", EVIL)].text == "+0.010"  # p = 0.4: not marked
    assert cells[("de", "en")].shade == pytest.approx(1.0) and cells[(EVIL, "de")].shade == pytest.approx(1.0)
    assert "p = 0.0010" in cells[("de", "en")].title and "not tested" in cells[("en", "de")].title


def test_no_matrix_no_section_and_classic_tables_unchanged() -> None:
    classic = synthetic_results()
    assert matrix_sections(classic) == []
    assert "Language matrix" not in summary_markdown(classic)
    # Classic and matrix together: the classic rows, no duplicates and no rows of two other languages.
    both = matrix_results(with_classic=True)
    rows = comparison_rows(both)
    assert sorted({r.scenario for r in rows}) == ["crosslingual", "matrix", "pairs"]
    directions = [(r.direction, r.metric, r.trained_on) for r in rows]
    assert len(directions) == len(set(directions))
    assert not any("de" in r.direction and EVIL in r.direction for r in rows)
    assert {r.scenario for r in rows if r.direction == "de→en"} == {"crosslingual"}
    # The matrix alone stands in for the classic directions: de→en is a row, en→en is English retention.
    alone = comparison_rows(matrix_results())
    row = next(r for r in alone if r.direction == "de→en" and r.metric == "ndcg_at_10")
    assert row.kind == "L→en" and row.by_loss["clear"].delta is not None
    assert abs(row.by_loss["clear"].delta - 0.08) < 1e-9 and row.by_loss["clear"].significant
    assert [r.delta for r in english_retention(matrix_results())] == [0.0]


def test_matrix_markdown_and_html_escape_labels() -> None:
    results = matrix_results()
    text = summary_markdown(results)
    assert "## Language matrix: xquad, query language × document language" in text
    assert "| query ↓ · documents → | en | de | &lt;script&gt;" in text
    assert "+0.080*" in text
    page = render_html(results, {})
    assert "<script" not in page.lower()
    assert "&lt;script&gt;document.title=&#x27;x&#x27;&lt;/script&gt;&amp;ar" in page
    assert "class='num heat sig'" in page


def test_heatmaps_in_headless_chromium(tmp_path: Path) -> None:
    results = matrix_results()
    write_report(results, tmp_path / "run")
    url = (tmp_path / "run" / "report.html").as_uri()
    page = _Page()
    page.feed(_run_chromium(tmp_path, "--dump-dom", url).stdout)
    assert page.title == "clearir report — matrix <b>run</b>" and page.scripts == 0
    cells = [" ".join(c.split()) for c in page.cells]
    assert EVIL in cells and "query ↓ · documents →" in cells and "+0.080*" in cells and "-0.080*" in cells

    shot = tmp_path / "shot.png"
    _run_chromium(tmp_path, "--window-size=1280,6000", f"--screenshot={shot}", url)
    colors, counts = _colors(np.asarray(Image.open(shot).convert("RGB")).astype(int))
    # The full-strength better (green) and worse (red) cells are drawn, each a filled cell, as is the base
    # model's highest value (blue).
    for quality in ("better", "worse", ""):
        rgb = np.array(HEAT_COLORS[quality])
        assert counts[np.abs(colors - rgb).max(axis=1) <= 3].sum() > 400, quality
