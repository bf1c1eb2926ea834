"""The summary table (base vs. each loss, with deltas) as markdown and as a rich table for the terminal, and
the "fine-tune, SHIFT, or both" tables."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from clearir.metrics.registry import Metric, metric
from clearir.report.compare import (
    HEADLINE_METRICS,
    SHIFT_DIFFS,
    SHIFT_ROLES,
    ComparisonRow,
    Delta,
    ShiftRow,
    ShiftTable,
    comparison_rows,
    shift_tables,
)
from clearir.report.results import RunResults

MISSING = "—"


def format_value(spec: Metric, value: float | None) -> str:
    return MISSING if value is None else spec.format(value)


def format_delta(spec: Metric, delta: Delta) -> str:
    """``+0.043`` (``*`` appended when significant against the base model), ``—`` when unknown."""
    if delta.delta is None:
        return MISSING
    return spec.format(delta.delta, sign=True) + ("*" if delta.significant else "")


def delta_quality(spec: Metric, delta: float | None) -> str:
    """``better``, ``worse`` or ``same`` for the metric's direction of improvement."""
    if delta is None or abs(delta) < spec.neutral:
        return "same"
    return "better" if (delta > 0) == spec.higher_is_better else "worse"


def scope_label(row: ComparisonRow) -> str:
    """``hi`` for a trained language, ``ar (zero-shot, trained on hi)`` otherwise."""
    return row.lang if not row.zero_shot else f"{row.lang} (zero-shot, trained on {row.trained_on})"


def md_escape(text: str) -> str:
    """Text from data made literal in markdown (also in a table cell): no raw HTML, no formatting."""
    for char, repl in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, repl)
    for char in "|`*_":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def markdown_table(results: RunResults, metrics: tuple[str, ...] | None = None) -> str:
    """One markdown table per dataset: rows (language, direction, metric), columns base then each loss and its
    delta. Repeated language and direction cells are left blank; ``*`` marks p < 0.05."""
    rows = comparison_rows(results, metrics)
    losses = results.losses
    header = ["language", "direction", "metric", "base"]
    for loss in losses:
        header += [md_escape(loss), "Δ"]
    blocks: list[str] = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        lines = [f"**{md_escape(dataset)}**", "", "| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] * 3 + ["---:"] * (1 + 2 * len(losses))) + "|")
        last_scope, last_direction = None, None
        for row in (r for r in rows if r.dataset == dataset):
            spec = metric(row.metric)
            scope = scope_label(row)
            cells = [
                md_escape(scope) if scope != last_scope else "",
                md_escape(row.direction) if (scope, row.direction) != (last_scope, last_direction) else "",
                spec.label,
                format_value(spec, row.base),
            ]
            for loss in losses:
                cells += [format_value(spec, row.by_loss[loss].value), format_delta(spec, row.by_loss[loss])]
            lines.append("| " + " | ".join(cells) + " |")
            last_scope, last_direction = scope, row.direction
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


_STYLE = {"better": "bold green", "worse": "bold red", "same": "dim"}


def short_scope(row: ComparisonRow) -> str:
    """``hi``, or ``ar (0-shot, hi)`` for a language evaluated zero-shot with the models trained on hi."""
    return row.lang if not row.zero_shot else f"{row.lang} (0-shot, {row.trained_on})"


def rich_table(results: RunResults, metrics: tuple[str, ...] | None = HEADLINE_METRICS) -> Table:
    """The terminal table: the headline metrics by default, deltas green when better and red when worse;
    repeated dataset, language and direction cells left blank. Every text from data is a ``Text`` (never
    parsed as rich markup)."""
    rows = comparison_rows(results, metrics)
    losses = results.losses
    datasets = list(dict.fromkeys(r.dataset for r in rows))
    table = Table(
        title=Text(f"clearir run {results.name}: base vs. " + ", ".join(losses)),
        caption="Δ vs. base; * p < 0.05; lower is better for Max@R and English inclination; "
        "0-shot, X: a language no model was trained on, with the models trained on X",
        header_style="bold",
    )
    if len(datasets) > 1:
        table.add_column("dataset")
    for name in ("language", "direction", "metric"):
        table.add_column(name)
    table.add_column("base", justify="right")
    for loss in losses:
        table.add_column(Text(loss), justify="right")
        table.add_column("Δ", justify="right")
    previous: tuple[str, str, str] | None = None
    for row in rows:
        key = (row.dataset, short_scope(row), row.direction)
        if previous is not None and key[:2] != previous[:2]:
            table.add_section()
        new_scope = previous is None or key[:2] != previous[:2]
        spec = metric(row.metric)
        cells: list[Text] = [Text(row.dataset if new_scope else "")] if len(datasets) > 1 else []
        cells += [
            Text(key[1] if new_scope else ""),
            Text(row.direction if new_scope or key != previous else ""),
            Text(spec.label),
            Text(format_value(spec, row.base)),
        ]
        for loss in losses:
            delta = row.by_loss[loss]
            cells.append(Text(format_value(spec, delta.value)))
            cells.append(Text(format_delta(spec, delta), style=_STYLE[delta_quality(spec, delta.delta)]))
        table.add_row(*cells)
        previous = key
    return table


# The "fine-tune, SHIFT, or both" tables' column headers: the four models, then the paired differences.
SHIFT_HEADER = ["direction", "metric", *SHIFT_ROLES, *(f"{a} − {b}" for a, b in SHIFT_DIFFS)]
SHIFT_NOTE = (
    "FT is the fine-tuned model named above each table; differences are of the mean per-query values; "
    "* marks p < 0.05 in a paired randomization test (sign flips over queries), Holm-adjusted within each "
    "table. Lower is better for Max@R."
)


def shift_cells(row: ShiftRow) -> list[str]:
    """One row of a "fine-tune, SHIFT, or both" table as plain text cells (``SHIFT_HEADER``'s order)."""
    spec = metric(row.metric)
    cells = [row.direction, spec.label, *(format_value(spec, row.values[role]) for role in SHIFT_ROLES)]
    for diff in row.diffs:
        cells.append(
            MISSING if diff is None else spec.format(diff.diff, sign=True) + ("*" if diff.significant else "")
        )
    return cells


def shift_title(table: ShiftTable) -> str:
    return (
        f"{table.lang} ({table.dataset}): FT = {table.models['FT']} ({table.loss}); "
        f"base+SHIFT = {table.models['base+SHIFT']}"
    )


def shift_markdown(results: RunResults) -> str:
    """The "fine-tune, SHIFT, or both" tables as markdown, one per training language and fine-tuned model;
    empty when SHIFT was not evaluated."""
    blocks = []
    for table in shift_tables(results):
        lines = [f"**{md_escape(shift_title(table))}**", ""]
        lines.append("| " + " | ".join(SHIFT_HEADER) + " |")
        lines.append("|" + "|".join(["---"] * 2 + ["---:"] * (len(SHIFT_HEADER) - 2)) + "|")
        for row in table.rows:
            direction, *numbers = shift_cells(row)
            lines.append("| " + " | ".join([md_escape(direction), *numbers]) + " |")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""
