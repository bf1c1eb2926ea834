"""Report data model and tables on synthetic results: deltas, zero-shot rows, English retention, escaping."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from clearir.errors import ClearirError
from clearir.report import (
    EvalEntry,
    LossCurve,
    ModelEntry,
    PhaseTiming,
    RunResults,
    Significance,
    load_results,
    rich_table,
    write_report,
)
from clearir.report.compare import comparison_rows, english_retention, headlines
from clearir.report.summary import summary_markdown
from clearir.report.tables import markdown_table, md_escape

# Base nDCG@10 per (query language, pool languages); fine-tuned models add OFFSET[loss] to every cross-lingual
# value, and lose ENGLISH_DROP[loss] on en→en.
BASE = {"L→en": 0.60, "en→L": 0.55, "L→L": 0.70, "mixed": 0.50}
OFFSET = {"infonce": 0.02, "clear": 0.05}
ENGLISH_DROP = {"infonce": -0.004, "clear": -0.02}


def _entries(model: str, lang: str, offset: float) -> list[EvalEntry]:
    def entry(scenario: str, query: str, docs: tuple[str, ...], ndcg: float, **extra: float) -> EvalEntry:
        metrics = {"ndcg_at_10": round(ndcg, 6), "recall_at_10": round(min(1.0, ndcg + 0.2), 6), **extra}
        return EvalEntry(model, "xquad", scenario, query, docs, metrics, num_queries=1190, num_docs=240)

    return [
        entry("cross", lang, ("en",), BASE["L→en"] + offset),
        entry("cross", "en", (lang,), BASE["en→L"] + offset),
        entry("mono", lang, (lang,), BASE["L→L"] + offset / 2),
        entry(
            "mixed",
            lang,
            ("en", lang),
            BASE["mixed"] + offset,
            max_rank_mean=round(20.0 - 100 * offset, 6),
            complete_at_10=round(0.4 + offset, 6),
            inclination_share=round(0.3 - offset, 6),
        ),
    ]


def synthetic_results(name: str = "demo", lang_label: str = "hi") -> RunResults:
    """Base + InfoNCE + CLEAR trained on ``lang_label`` and de, evaluated on them and zero-shot on ar."""
    train_langs = [lang_label, "de"]
    models = [ModelEntry("base", "/models/e5")]
    models += [
        ModelEntry(f"{loss}-{lang}", f"/runs/{loss}-{lang}", loss, lang)
        for lang in train_langs
        for loss in OFFSET
    ]
    evaluations: list[EvalEntry] = []
    for model in models:
        for lang in [*train_langs, "ar"]:
            trained_here = model.loss is not None and (lang == model.train_lang or lang == "ar")
            offset = OFFSET[model.loss] if trained_here and model.loss else 0.0
            offset = offset / 2 if lang == "ar" else offset
            evaluations += _entries(model.name, lang, offset)
        english = 0.80 + (ENGLISH_DROP[model.loss] if model.loss else 0.0)
        evaluations.append(EvalEntry(model.name, "xquad", "mono", "en", ("en",), {"ndcg_at_10": english}))
    curves = [
        LossCurve(
            m.name,
            (1, 2, 3, 4),
            {
                "loss": (2.0, 1.6, 1.3, 1.1),
                **({"forward": (1.9, 1.5, 1.2, 1.0)} if m.loss == "clear" else {}),
            },
        )
        for m in models
        if m.loss
    ]
    significance = [
        Significance(
            f"clear-{lang_label}",
            "xquad",
            "cross",
            lang_label,
            ("en",),
            "ndcg_at_10",
            0.05,
            0.03,
            0.07,
            0.001,
            1190,
        )
    ]
    return RunResults(
        name=name,
        created="2026-01-01T00:00:00Z",
        config={"langs": train_langs, "losses": list(OFFSET), "steps": 10, "note": name},
        versions={"python": "3.11", "torch": "2.13.0"},
        models=models,
        evaluations=evaluations,
        timings=[
            PhaseTiming("train", 61.0, detail=f"4 models ({lang_label})"),
            PhaseTiming("evaluate", 30.5, True),
        ],
        loss_curves=curves,
        significance=significance,
    )


def _row(rows, lang, trained_on, direction, metric):
    return next(
        r
        for r in rows
        if (r.lang, r.trained_on, r.direction, r.metric) == (lang, trained_on, direction, metric)
    )


def test_comparison_rows_deltas_and_zero_shot() -> None:
    rows = comparison_rows(synthetic_results())
    row = _row(rows, "hi", "hi", "hi→en", "ndcg_at_10")
    assert row.base == pytest.approx(0.60)
    assert row.by_loss["clear"].value == pytest.approx(0.65)
    assert row.by_loss["clear"].delta == pytest.approx(0.05)
    assert row.by_loss["infonce"].delta == pytest.approx(0.02)
    assert row.by_loss["clear"].p_value == 0.001 and row.by_loss["clear"].significant
    assert row.by_loss["infonce"].p_value is None
    # Lower is better for Max@R: the delta is negative for the better model.
    assert _row(rows, "de", "de", "de→en+de", "max_rank_mean").by_loss["clear"].delta == pytest.approx(-5.0)
    # ar was not trained on: one block per training language, each with half the offset.
    assert _row(rows, "ar", "hi", "ar→en", "ndcg_at_10").by_loss["clear"].delta == pytest.approx(0.025)
    assert _row(rows, "ar", "de", "en→ar", "ndcg_at_10").by_loss["infonce"].delta == pytest.approx(0.01)
    assert not any(r.lang == "hi" and r.trained_on == "de" for r in rows)
    # Mixed-only metrics appear only for mixed pools; en→en is not a comparison row.
    assert not any(r.metric == "max_rank_mean" and "+" not in r.direction for r in rows)
    assert not any(r.direction == "en→en" for r in rows)
    # Direction order inside a language: L→en, en→L, L→L, mixed.
    hi_dirs = list(dict.fromkeys(r.direction for r in rows if r.lang == "hi"))
    assert hi_dirs == ["hi→en", "en→hi", "hi→hi", "hi→en+hi"]


def test_multilingual_pool_is_its_own_direction() -> None:
    results = synthetic_results()
    extra = [
        EvalEntry(e.model, e.dataset, "multilingual", e.query_lang, e.doc_langs, e.metrics)
        for e in results.evaluations
        if e.is_mixed and e.query_lang == "hi"
    ]
    results.evaluations.extend(extra)
    rows = [r for r in comparison_rows(results, ("ndcg_at_10",)) if r.lang == "hi"]
    assert [(r.direction, r.kind) for r in rows[-2:]] == [
        ("hi→en+hi", "mixed pool, L queries"),
        ("hi→all (2)", "multilingual pool"),
    ]


def test_english_retention_and_headline() -> None:
    results = synthetic_results()
    retention = {r.model: r for r in english_retention(results)}
    assert set(retention) == {"infonce-hi", "clear-hi", "infonce-de", "clear-de"}
    assert retention["clear-hi"].delta == pytest.approx(-0.02)
    assert retention["clear-hi"].verdict == "English got worse"
    assert retention["infonce-de"].verdict == "English kept"
    assert "0.800 → 0.780 (-0.020, -2.5%)" in retention["clear-hi"].sentence()
    heads = {h.loss: h for h in headlines(comparison_rows(results))}
    assert heads["clear"].mean_delta == pytest.approx(0.05)
    assert (heads["clear"].improved, heads["clear"].total) == (4, 4)
    assert heads["infonce"].mean_delta == pytest.approx(0.02)
    assert heads["clear"].max_rank_delta == pytest.approx(-5.0)
    assert heads["clear"].sentence() == (
        "clear: cross-lingual nDCG@10 (L→en and en→L) +0.050 on average vs. base, 4 of 4 directions better; "
        "mixed-pool Max@R -5.00 (lower is better)."
    )


def test_markdown_table_cells() -> None:
    table = markdown_table(synthetic_results())
    lines = table.splitlines()
    assert lines[2].startswith("| language | direction | metric | base | infonce | Δ | clear | Δ |")
    assert "| hi | hi→en | nDCG@10 | 0.600 | 0.620 | +0.020 | 0.650 | +0.050* |" in lines
    assert "|  |  | Recall@10 | 0.800 | 0.820 | +0.020 | 0.850 | +0.050 |" in lines
    assert "|  |  | Max@R | 20.00 | 18.00 | -2.00 | 15.00 | -5.00 |" in lines
    assert (
        "| ar (zero-shot, trained on hi) | ar→en | nDCG@10 | 0.600 | 0.610 | +0.010 | 0.625 | +0.025 |"
        in lines
    )


def test_summary_escapes_markdown_and_states_retention() -> None:
    results = synthetic_results(name="<b>x</b> | y ``` z", lang_label="h|i")
    summary = summary_markdown(results)
    assert "# clearir run: &lt;b&gt;x&lt;/b&gt; \\| y \\`\\`\\` z" in summary
    # Raw text only inside the configuration's code fence, which is longer than any backtick run in it.
    before, fence_and_rest = summary.split("## Configuration", 1)
    assert "<b>" not in before
    assert "\n````json\n" in fence_and_rest and '"note": "<b>x</b> | y ``` z"' in fence_and_rest
    assert "| h\\|i | h\\|i→en | nDCG@10 |" in summary
    assert "English en→en nDCG@10 on xquad 0.800 → 0.780 (-0.020, -2.5%): English got worse." in summary
    assert md_escape("a\nb|c_d*") == "a b\\|c\\_d\\*"


def test_rich_table_renders_data_text_literally() -> None:
    results = synthetic_results(lang_label="[bold]hi[/bold]")
    console = Console(record=True, width=200, color_system=None)
    console.print(rich_table(results))
    text = console.export_text()
    assert "[bold]hi[/bold]→en" in text
    assert "+0.050*" in text and "Max@R" in text and "Recall@10" not in text
    assert "ar (0-shot, de)" in text
    header = next(line for line in text.splitlines() if "┃" in line)
    lines = [line.split("│") for line in text.splitlines() if "│" in line]
    # One dataset: no dataset column; a language and a direction are named once, on their first row.
    assert header.split("┃")[1].strip() == "language"
    assert [cells[1].strip() for cells in lines[:5]] == ["[bold]hi[/bold]", "", "", "", ""]
    mixed = "[bold]hi[/bold]→en+[bold]hi[/bold]"
    assert [cells[2].strip() for cells in lines[3:7]] == [mixed, "", "", ""]


def test_results_json_roundtrip_and_errors(tmp_path) -> None:
    results = synthetic_results()
    write_report(results, tmp_path)
    document = json.loads((tmp_path / "results.json").read_text())
    assert document["schema_version"] == 1
    assert {"comparisons", "english_retention", "headlines"} <= set(document["derived"])
    assert load_results(tmp_path / "results.json") == results
    document["schema_version"] = 99
    (tmp_path / "bad.json").write_text(json.dumps(document))
    with pytest.raises(ClearirError, match=r"bad\.json: schema_version 99"):
        load_results(tmp_path / "bad.json")
    with pytest.raises(ClearirError, match="exactly one base model"):
        RunResults("x", "t", {}, {}, [ModelEntry("a", "p", "clear", "hi")], [])
    with pytest.raises(ClearirError, match="unknown model 'ghost'"):
        RunResults(
            "x", "t", {}, {}, [ModelEntry("base", "p")], [EvalEntry("ghost", "d", "s", "en", ("en",), {})]
        )
    assert not list(tmp_path.glob(".*.tmp"))
