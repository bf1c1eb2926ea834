"""Figures of an ablation (PNG bytes, matplotlib's Agg canvas): for each varied setting, the metrics against
its values, one row of panels per training language, mean ± std over seeds, the base model as a dashed line.

Points that agree on every other varied setting form a line; a point for which another setting does not
matter (InfoNCE in the lines ``kl=on`` and ``kl=off`` of the loss figure) joins every line it agrees with;
a configuration for which the plotted setting does not matter is left out of its figure."""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from clearir.experiment.analysis import Analysis, Config
from clearir.experiment.grid import Plan, format_setting
from clearir.experiment.settings import irrelevant
from clearir.experiment.store import Target
from clearir.metrics.registry import metric as registry_metric
from clearir.report.figures import BASE_COLOR, color, plain, png, style_axes

# (kind, metric) per panel column.
PLOT_TARGETS = (
    ("L→en", "ndcg_at_10"),
    ("en→en", "ndcg_at_10"),
    ("mixed pool, L queries", "complete_at_10"),
)


def _order(values: list[Any]) -> list[Any]:
    """Numbers and booleans ascending; anything else in plan order."""
    if all(isinstance(v, int | float) for v in values):
        return sorted(values)
    return values


def plot_lines(plan: Plan, key: str, configs: list[Config]) -> list[tuple[str, list[Config]]]:
    """Lines of ``configs`` along setting ``key``: (label, points), see the module doc."""
    others = {
        c.id: frozenset(
            (k, getattr(c.settings, k))
            for k in plan.varying
            if k not in (key, "seed") and k not in irrelevant(c.settings)
        )
        for c in configs
    }
    groups = list(dict.fromkeys(others.values()))
    # A group contained in a larger one is drawn as part of it.
    groups = [g for g in groups if not any(g < other for other in groups)]
    lines = []
    for group in groups:
        points = [c for c in configs if others[c.id] <= group]
        label = ", ".join(
            format_setting(k, v) for k, v in sorted(group, key=lambda kv: plan.varying.index(kv[0]))
        )
        lines.append((label or "all", points))
    return lines


def setting_plot(plan: Plan, analysis: Analysis, key: str, dataset: str) -> bytes | None:
    """Metrics against setting ``key`` on ``dataset``; None when no line has two points."""
    langs = [lang for lang in plan.train_langs if any(lang in c.langs for c in analysis.configs)]
    panels = []
    for lang in langs:
        configs = [
            c
            for c in analysis.configs
            if lang in c.langs and not c.shift and key not in irrelevant(c.settings)
        ]
        for line_label, points in plot_lines(plan, key, configs):
            panels.append((lang, line_label, points))
    if not any(len({str(getattr(c.settings, key)) for c in points}) > 1 for _, _, points in panels):
        return None
    x_values = _order(plan.values(key))
    fig = Figure(figsize=(4.0 * len(PLOT_TARGETS), 2.9 * len(langs) + 0.6), layout="constrained")
    axes = fig.subplots(len(langs), len(PLOT_TARGETS), squeeze=False)
    for row, lang in enumerate(langs):
        lines = [(label, points) for panel_lang, label, points in panels if panel_lang == lang]
        for col, (kind, metric) in enumerate(PLOT_TARGETS):
            ax = axes[row][col]
            target = Target(dataset, "en" if kind == "en→en" else lang, kind, metric)
            for i, (label, points) in enumerate(lines):
                stats = [
                    (x_values.index(getattr(c.settings, key)), analysis.stats[(c.id, target)])
                    for c in points
                    if (c.id, target) in analysis.stats
                ]
                stats.sort(key=lambda item: item[0])
                # A small sideways offset per line keeps equal values of different lines visible.
                offset = (i - (len(lines) - 1) / 2) * 0.04
                if stats:
                    ax.errorbar(
                        [x + offset for x, _ in stats],
                        [s.mean for _, s in stats],
                        yerr=[s.std for _, s in stats],
                        label=plain(label),
                        color=color(i),
                        marker="o",
                        capsize=3,
                        linewidth=1.6,
                    )
            if target in analysis.base:
                ax.axhline(
                    analysis.base[target], color=BASE_COLOR, linestyle="--", linewidth=1.2, label="base"
                )
            spec = registry_metric(metric)
            ax.set_title(
                plain(f"{lang}: {target.task} {spec.label}"), loc="left", fontsize=10, fontweight="bold"
            )
            ax.set_xticks(range(len(x_values)), [plain(format_setting(key, v)) for v in x_values], fontsize=8)
            ax.set_xlim(-0.5, len(x_values) - 0.5)
            style_axes(ax)
            if col == 0:
                ax.legend(frameon=False, fontsize=7)
    fig.suptitle(
        plain(f"Metrics vs. {key} on {dataset} (mean ± std over seeds) — {plan.out.name}"),
        fontsize=12,
        fontweight="bold",
    )
    return png(fig)


def render_plots(plan: Plan, analysis: Analysis) -> dict[str, bytes]:
    """One figure per varied setting (but the seed) that has a line of two points or more, by file name."""
    datasets = list(dict.fromkeys(t.dataset for t in analysis.base))
    if not datasets:
        return {}
    pngs = {}
    for key in (k for k in plan.varying if k != "seed"):
        png = setting_plot(plan, analysis, key, datasets[0])
        if png is not None:
            pngs[f"vs_{key}.png"] = png
    return pngs
