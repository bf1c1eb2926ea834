"""The run report's tables as blocks (:mod:`clearir.report.blocks`): base vs. each loss with deltas, one per
dataset (and one compact table for the terminal), and the "fine-tune, SHIFT, or both" tables."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table

from clearir.metrics.registry import Metric, metric
from clearir.report.blocks import Block, Cell, markdown_lines, md_escape
from clearir.report.blocks import rich_table as render_table
from clearir.report.compare import (
    HEADLINE_METRICS,
    SHIFT_DIFFS,
    SHIFT_MEASURES,
    SHIFT_ROLES,
    ComparisonRow,
    Delta,
    ShiftRow,
    ShiftTable,
    comparison_rows,
    shift_tables,
)
from clearir.report.results import RunResults

__all__ = ["md_escape"]  # made literal by the renderers; kept here for the report's callers

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


def short_scope(row: ComparisonRow) -> str:
    """``hi``, or ``ar (0-shot, hi)`` for a language evaluated zero-shot with the models trained on hi."""
    return row.lang if not row.zero_shot else f"{row.lang} (0-shot, {row.trained_on})"


def comparison_table(
    rows: list[ComparisonRow],
    losses: list[str],
    scope: Callable[[ComparisonRow], str] = scope_label,
    with_dataset: bool = False,
) -> Block:
    """Rows (language, direction, metric), columns base then each loss and its delta (hover: the p-value);
    a language and a direction are named on their first row only, each language starts a group."""
    header = [*(["dataset"] if with_dataset else []), "language", "direction", "metric", "base"]
    for loss in losses:
        header += [loss, "Δ"]
    first = len(header) - 1 - 2 * len(losses)
    cells: list[tuple[Cell, ...]] = []
    groups: list[int] = []
    previous: tuple[str, str, str] | None = None
    for row in rows:
        spec = metric(row.metric)
        key = (row.dataset, scope(row), row.direction)
        new_scope = previous is None or key[:2] != previous[:2]
        if new_scope:
            groups.append(len(cells))
        line = [Cell(row.dataset if new_scope else "")] if with_dataset else []
        line += [
            Cell(key[1] if new_scope else ""),
            Cell(row.direction if new_scope or key != previous else ""),
            Cell(spec.label),
            Cell(format_value(spec, row.base)),
        ]
        for loss in losses:
            delta = row.by_loss[loss]
            title = f"p = {delta.p_value:.4f}" if delta.p_value is not None else ""
            line.append(Cell(format_value(spec, delta.value)))
            line.append(Cell(format_delta(spec, delta), delta_quality(spec, delta.delta), title))
        cells.append(tuple(line))
        previous = key
    return Block(
        "table",
        header=tuple(header),
        rows=tuple(cells),
        numeric=tuple(range(first, len(header))),
        groups=tuple(groups),
    )


def results_blocks(results: RunResults, metrics: tuple[str, ...] | None = None) -> list[Block]:
    """One table per dataset under its name (``comparison_table``); ``metrics`` restricts the metric keys."""
    rows = comparison_rows(results, metrics)
    blocks: list[Block] = []
    for dataset in dict.fromkeys(r.dataset for r in rows):
        blocks.append(Block("subheading", dataset))
        blocks.append(comparison_table([r for r in rows if r.dataset == dataset], results.losses))
    return blocks


def markdown_table(results: RunResults, metrics: tuple[str, ...] | None = None) -> str:
    """``results_blocks`` as markdown."""
    return "\n".join(markdown_lines(results_blocks(results, metrics))[1:]) + "\n"


def rich_table(results: RunResults, metrics: tuple[str, ...] | None = HEADLINE_METRICS) -> Table:
    """The terminal table: the headline metrics by default, deltas green when better and red when worse;
    a dataset column only with several datasets."""
    rows = comparison_rows(results, metrics)
    datasets = dict.fromkeys(r.dataset for r in rows)
    block = comparison_table(rows, results.losses, short_scope, with_dataset=len(datasets) > 1)
    return render_table(
        block,
        title=f"clearir run {results.name}: base vs. " + ", ".join(results.losses),
        caption=f"Δ vs. base; * p < 0.05; {lower_is_better(HEADLINE_METRICS).lower()}; "
        "0-shot, X: a language no model was trained on, with the models trained on X",
    )


def lower_is_better(keys: tuple[str, ...]) -> str:
    """``Lower is better for Max@R and English inclination``: the named metrics that are."""
    labels = [metric(k).label for k in keys if not metric(k).higher_is_better]
    if not labels:
        return ""
    names = labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]
    return f"Lower is better for {names}"


# The "fine-tune, SHIFT, or both" tables' column headers: the four models, then the paired differences.
SHIFT_HEADER = ("direction", "metric", *SHIFT_ROLES, *(f"{a} − {b}" for a, b in SHIFT_DIFFS))


SHIFT_NOTE = (
    "FT is the fine-tuned model named above each table; differences are of the mean per-query values; "
    "* marks p < 0.05 in a paired randomization test (sign flips over queries), Holm-adjusted within each "
    f"table. {lower_is_better(tuple(dict.fromkeys(key for _, key in SHIFT_MEASURES)))}."
)


def shift_cells(row: ShiftRow) -> tuple[Cell, ...]:
    """One row of a "fine-tune, SHIFT, or both" table (``SHIFT_HEADER``'s order)."""
    spec = metric(row.metric)
    cells = [Cell(row.direction), Cell(spec.label)]
    cells += [Cell(format_value(spec, row.values[role])) for role in SHIFT_ROLES]
    for diff in row.diffs:
        if diff is None:
            cells.append(Cell(MISSING, "same"))
            continue
        text = spec.format(diff.diff, sign=True) + ("*" if diff.significant else "")
        title = f"p = {diff.p_value:.4f}, Holm {diff.p:.4f}"
        cells.append(Cell(text, delta_quality(spec, diff.diff), title))
    return tuple(cells)


def shift_title(table: ShiftTable) -> str:
    return (
        f"{table.lang} ({table.dataset}): FT = {table.models['FT']} ({table.loss}); "
        f"base+SHIFT = {table.models['base+SHIFT']}"
    )


def shift_blocks(results: RunResults) -> list[Block]:
    """The "fine-tune, SHIFT, or both" tables, one per training language and fine-tuned model, each under
    its title; none when SHIFT was not evaluated."""
    blocks: list[Block] = []
    for table in shift_tables(results):
        blocks.append(Block("subheading", shift_title(table)))
        rows = tuple(shift_cells(row) for row in table.rows)
        blocks.append(
            Block("table", header=SHIFT_HEADER, rows=rows, numeric=tuple(range(2, len(SHIFT_HEADER))))
        )
    return blocks
