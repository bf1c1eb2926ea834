"""The report's figures as PNG bytes (matplotlib's Agg canvas, no pyplot state): nDCG@10 per language and
direction, Max@R and Complete@10 in the mixed pool, and the training-loss curves per component."""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from clearir.metrics.registry import metric
from clearir.report.compare import KINDS, ComparisonRow, comparison_rows
from clearir.report.figures import BASE_COLOR, color, plain, png, style_axes
from clearir.report.results import RunResults


def series_colors(losses: list[str]) -> dict[str, str]:
    """One color per series, the same in every figure: base grey, then a fixed palette by loss order."""
    return {"base": BASE_COLOR, **{loss: color(i) for i, loss in enumerate(losses)}}


def _group_label(row: ComparisonRow, with_direction: bool = False) -> str:
    label = row.lang if not row.zero_shot else f"{row.lang}\n(0-shot, {row.trained_on})"
    return plain(f"{label}\n{row.direction}" if with_direction else label)


def _bars(ax: Axes, rows: list[ComparisonRow], losses: list[str], labels: list[str]) -> None:
    """Grouped bars: a group per row, a bar per series (base, then each loss); no value leaves a gap."""
    colors = series_colors(losses)
    series = ["base", *losses]
    width = 0.8 / len(series)
    x = np.arange(len(rows))
    annotate = len(rows) * len(series) <= 24
    spec = metric(rows[0].metric)
    for i, name in enumerate(series):
        values = [r.base if name == "base" else r.by_loss[name].value for r in rows]
        heights = [math.nan if v is None else v for v in values]
        bars = ax.bar(
            x + (i - (len(series) - 1) / 2) * width, heights, width, label=plain(name), color=colors[name]
        )
        if annotate:
            texts = ["" if v is None else f"{v:.{spec.digits}f}" for v in values]
            ax.bar_label(bars, labels=texts, fontsize=7, padding=2, rotation=90)
    ax.set_xticks(x, labels)
    style_axes(ax, "y")


def _panel_grid(count: int, widest: int, height: float) -> tuple[Figure, list[Axes]]:
    """A figure with ``count`` panels in up to two columns, each wide enough for ``widest`` bar groups."""
    columns = 1 if count == 1 or widest > 6 else 2
    rows = math.ceil(count / columns)
    fig = Figure(figsize=(max(5.0, 1.2 + 1.0 * widest) * columns, height * rows + 0.8), layout="constrained")
    axes = list(fig.subplots(rows, columns, squeeze=False).ravel())
    for ax in axes[count:]:
        ax.set_visible(False)
    return fig, axes[:count]


def _finish(fig: Figure, title: str, losses: list[str]) -> bytes:
    """Title above the panels and one legend for the whole figure below them."""
    colors = series_colors(losses)
    handles = [Patch(color=colors[name], label=plain(name)) for name in ["base", *losses]]
    fig.legend(handles=handles, loc="outside lower center", ncols=len(handles), frameon=False, fontsize=10)
    fig.suptitle(plain(title), fontsize=13, fontweight="bold")
    return png(fig)


def ndcg_by_direction(results: RunResults) -> bytes | None:
    """nDCG@10 per language, one panel per direction (L→en, en→L, L→L, mixed pools), bars per model."""
    rows = comparison_rows(results, ("ndcg_at_10",))
    panels = [(kind, [r for r in rows if r.kind == kind]) for kind in KINDS]
    panels = [(kind, panel) for kind, panel in panels if panel]
    if not panels:
        return None
    fig, axes = _panel_grid(len(panels), max(len(panel) for _, panel in panels), 3.0)
    for ax, (kind, panel) in zip(axes, panels, strict=True):
        _bars(ax, panel, results.losses, [_group_label(r) for r in panel])
        ax.set_title(kind, loc="left", fontsize=11, fontweight="bold")
        ax.set_ylabel("nDCG@10")
        ax.set_ylim(0, 1.15)
    return _finish(fig, f"nDCG@10 per language and direction — {results.name}", results.losses)


def mixed_pool(results: RunResults) -> bytes | None:
    """Max@R (lower is better) and Complete@10 (higher is better) in the mixed pools, bars per model."""
    panels = []
    for key, note in (("max_rank_mean", "lower is better"), ("complete_at_10", "higher is better")):
        rows = [r for r in comparison_rows(results, (key,)) if "pool" in r.kind]
        if rows:
            panels.append((key, note, rows))
    if not panels:
        return None
    fig, axes = _panel_grid(len(panels), max(len(rows) for _, _, rows in panels), 3.2)
    for ax, (key, note, rows) in zip(axes, panels, strict=True):
        _bars(ax, rows, results.losses, [_group_label(r, with_direction=True) for r in rows])
        spec = metric(key)
        ax.set_title(f"{spec.label} ({note})", loc="left", fontsize=11, fontweight="bold")
        ax.set_ylabel(spec.label)
        top = 1.0 if key == "complete_at_10" else max(ax.get_ylim()[1], 1.0)
        ax.set_ylim(0, top * 1.15)
    return _finish(fig, f"Mixed-language pools — {results.name}", results.losses)


def loss_curves(results: RunResults) -> bytes | None:
    """One panel per fine-tuned model: each logged loss component against the training step."""
    curves = [c for c in results.loss_curves if c.steps]
    if not curves:
        return None
    columns = min(3, len(curves))
    grid_rows = math.ceil(len(curves) / columns)
    fig = Figure(figsize=(4.2 * columns, 3.0 * grid_rows), layout="constrained")
    axes = fig.subplots(grid_rows, columns, squeeze=False).ravel()
    for ax, curve in zip(axes, curves, strict=False):
        for i, (component, values) in enumerate(curve.components.items()):
            width = 2.2 if component == "loss" else 1.4
            ax.plot(curve.steps, values, label=plain(component), color=color(i), linewidth=width, marker=".")
        ax.set_title(plain(curve.model), loc="left", fontsize=11, fontweight="bold")
        ax.set_xlabel("step")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        style_axes(ax)
        ax.legend(frameon=False, fontsize=8)
    for ax in axes[len(curves) :]:
        ax.set_visible(False)
    fig.suptitle(plain(f"Training loss per component — {results.name}"), fontsize=12)
    return png(fig)


PLOTS = {
    "ndcg_by_direction.png": ndcg_by_direction,
    "mixed_pool.png": mixed_pool,
    "loss_curves.png": loss_curves,
}


def render_plots(results: RunResults) -> dict[str, bytes]:
    """Every figure that has data, by file name."""
    pngs = {name: plot(results) for name, plot in PLOTS.items()}
    return {name: png for name, png in pngs.items() if png is not None}
