"""The run report's content as blocks (:mod:`clearir.report.blocks`): the headline, English retention,
figures, the full table, the language matrix as heatmaps (when ``matrix`` or ``pairs`` was evaluated),
fine-tune vs. SHIFT vs. both (when SHIFT was evaluated), training, timing,
configuration and versions; ``summary.md`` is its markdown (``report.html`` its page:
``clearir.report.html``)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from clearir.metrics.registry import ENGLISH_METRIC, metric
from clearir.precision import describe
from clearir.report.blocks import Block, Cell, Section, markdown
from clearir.report.compare import (
    CROSS_METRIC,
    MIXED_METRIC,
    REPORTED,
    comparison_rows,
    english_retention,
    headlines,
    shift_tables,
)
from clearir.report.matrix import matrix_sections
from clearir.report.results import RunResults
from clearir.report.tables import SHIFT_NOTE, lower_is_better, results_blocks, shift_blocks

# The figures (``clearir.report.plots``) by file name: their section and caption.
FIGURES = {
    "ndcg_by_direction.png": (
        "Figures",
        f"{metric(CROSS_METRIC).label} per language and direction, base model vs. each loss.",
    ),
    "mixed_pool.png": (
        "Figures",
        f"Mixed-language pools: {metric(MIXED_METRIC).label} (rank of the worst-ranked gold document) and "
        f"{metric('complete_at_10').label}.",
    ),
    "loss_curves.png": ("Training", "Training loss per component."),
}


def heading(results: RunResults) -> str:
    return f"clearir run: {results.name}"


def _quality(value: float, higher_is_better: bool) -> str:
    return "same" if value == 0 else "better" if (value > 0) == higher_is_better else "worse"


def _cards(results: RunResults) -> Block:
    """The headline and English retention in numbers (the HTML page's cards)."""
    cross, mixed, english = metric(CROSS_METRIC), metric(MIXED_METRIC), metric(ENGLISH_METRIC)
    cards = []
    for head in headlines(comparison_rows(results)):
        cards.append(
            (
                Cell(f"{head.loss} · cross-lingual {cross.label}"),
                Cell(cross.format(head.mean_delta, True), _quality(head.mean_delta, cross.higher_is_better)),
                Cell(f"mean change vs. base over L→en and en→L; {head.improved} of {head.total} better"),
            )
        )
        if head.max_rank_delta is not None:
            delta = head.max_rank_delta
            cards.append(
                (
                    Cell(f"{head.loss} · mixed-pool {mixed.label}"),
                    Cell(mixed.format(delta, True), _quality(delta, mixed.higher_is_better)),
                    Cell(
                        f"mean change vs. base, L queries in an en ∪ L pool ({lower_is_better((mixed.key,))})"
                    ),
                )
            )
    for item in english_retention(results):
        trained = f" ({item.train_lang})" if item.train_lang else ""
        cards.append(
            (
                Cell(f"English · {item.loss}{trained}"),
                Cell(english.format(item.delta, True), item.quality),
                Cell(
                    f"en→en {english.label} {english.format(item.base)} → {english.format(item.value)} "
                    f"on {item.dataset}: {item.verdict}"
                ),
            )
        )
    return Block("cards", rows=tuple(cards))


def _intro(results: RunResults) -> str:
    return (
        f"Created {results.created}; total time {results.total_seconds / 60:.1f} min; "
        f"base model {results.base.path}; losses: {', '.join(results.losses) or 'none'}; "
        f"trained on: {', '.join(results.train_langs) or 'none'}{_precision(results)}."
    )


def report_sections(results: RunResults, figures: Sequence[str] = ()) -> list[Section]:
    """The run report as (section title, blocks); the first section has no title. ``figures``: the PNG
    file names written beside the report (``clearir.report.plots.render_plots``)."""
    heads = headlines(comparison_rows(results))
    retention = english_retention(results)
    sections: list[Section] = [
        ("", [Block("p", _intro(results)), _cards(results)]),
        (
            "Headline",
            [
                Block(
                    "list",
                    items=tuple(Cell(h.sentence()) for h in heads)
                    or (Cell("No fine-tuned model was compared with the base model."),),
                )
            ],
        ),
        (
            "English retention",
            [
                Block(
                    "list",
                    items=tuple(Cell(r.sentence(), r.quality) for r in retention)
                    or (Cell("en→en was not evaluated."),),
                )
            ],
        ),
    ]

    def figure_blocks(section: str) -> list[Block]:
        return [
            Block("figure", caption, header=(name,))
            for name, (where, caption) in FIGURES.items()
            if where == section and name in figures
        ]

    if shown := figure_blocks("Figures"):
        sections.append(("Figures", shown))
    table = results_blocks(results)
    note = (
        "Δ = model − base; * marks p < 0.05 (paired randomization test against the base model). "
        f"{lower_is_better(REPORTED)}. Green is better, red is worse."
    )
    sections.append(
        (
            "Results",
            [Block("note", note), *table]
            if table
            else [Block("p", "No fine-tuned model was compared with the base model.")],
        )
    )
    sections += matrix_sections(results)
    if shift_tables(results):
        sections.append(("Fine-tune, SHIFT, or both", [Block("note", SHIFT_NOTE), *shift_blocks(results)]))
    models = tuple(
        (Cell(m.name), Cell(m.loss or "(base)"), Cell(m.train_lang or ""), Cell(m.path))
        for m in results.models
    )
    sections.append(
        (
            "Training",
            [
                *figure_blocks("Training"),
                Block("table", header=("model", "loss", "trained on", "path"), rows=models),
            ],
        )
    )
    timings = tuple(
        (Cell(t.phase), Cell(f"{t.seconds:.1f}"), Cell("yes" if t.reused else ""), Cell(t.detail))
        for t in results.timings
    )
    sections.append(
        (
            "Timing",
            [Block("table", header=("phase", "seconds", "reused", "detail"), rows=timings, numeric=(1,))],
        )
    )
    config = json.dumps(results.config, indent=2, ensure_ascii=False)
    sections.append(("Configuration", [Block("pre", config, lang="json")]))
    versions = tuple((Cell(name), Cell(version)) for name, version in results.versions.items())
    sections.append(("Versions", [Block("table", header=("package", "version"), rows=versions)]))
    return sections


def summary_markdown(results: RunResults, figures: Sequence[str] = ()) -> str:
    """``summary.md``: the report's sections as markdown; text from data is escaped (``md_escape``)."""
    return markdown(heading(results), report_sections(results, figures))


def _precision(results: RunResults) -> str:
    """``; precision bf16 (auto)`` when the run recorded its precision."""
    asked, used = results.config.get("precision"), results.config.get("precision_resolved")
    if not used:
        return ""
    return f"; precision {describe(str(asked or used), str(used))}"
