"""The language matrix of a run as heatmaps (blocks of kind ``heatmap``, :mod:`clearir.report.blocks`): for
each dataset evaluated with the ``matrix`` scenario, nDCG@10 per (query language, document language) of the
base model and, for every other model, its change per cell against the base model with significant cells
marked; for the ``pairs`` scenario, Complete@10 per (query language, the pool's other language) likewise.
Shown only when the results hold such evaluations."""

from __future__ import annotations

from dataclasses import dataclass

from clearir.metrics.registry import metric
from clearir.metrics.significance import ALPHA
from clearir.report.blocks import Block, Cell
from clearir.report.results import HEATMAP_METRIC, EvalEntry, RunResults, Significance
from clearir.report.tables import delta_quality

MISSING = "—"
# The smallest colour intensity of a cell with a value, so that the weakest cell is still tinted.
_FLOOR = 0.08


@dataclass(frozen=True)
class MatrixKind:
    """One matrix: its scenario, metric, what its columns are, and how a cell's column is read off an
    evaluation."""

    scenario: str
    metric: str
    title: str
    cells: str
    corner: str

    def cell(self, item: EvalEntry | Significance) -> tuple[str, str] | None:
        """(query language, column language) of an evaluation or test, or None if it is not a cell."""
        if item.scenario != self.scenario:
            return None
        if self.scenario == "matrix" and len(item.doc_langs) == 1:
            return item.query_lang, item.doc_langs[0]
        others = [lang for lang in item.doc_langs if lang != item.query_lang]
        if self.scenario == "pairs" and len(item.doc_langs) == 2 and len(others) == 1:
            return item.query_lang, others[0]
        return None


MATRICES = (
    MatrixKind(
        "matrix",
        HEATMAP_METRIC["matrix"],
        "query language × document language",
        "(query language, document language)",
        "query ↓ · documents →",
    ),
    MatrixKind(
        "pairs",
        HEATMAP_METRIC["pairs"],
        "bilingual pools of any two languages",
        "(query language, the other language of its pool of both)",
        "query ↓ · pool with →",
    ),
)


@dataclass(frozen=True)
class Heatmap:
    """One model's matrix on one dataset: ``values`` per (row, column) language, and for a model other than
    the base model its ``deltas`` against the base model with the run's paired test where it has one."""

    dataset: str
    kind: MatrixKind
    model: str
    langs: tuple[str, ...]
    values: dict[tuple[str, str], float | None]
    base: dict[tuple[str, str], float | None]
    tests: dict[tuple[str, str], Significance]
    is_base: bool

    def delta(self, cell: tuple[str, str]) -> float | None:
        value, base = self.values.get(cell), self.base.get(cell)
        return None if value is None or base is None else value - base


def heatmaps(results: RunResults) -> list[Heatmap]:
    """Every model's heatmap of each matrix kind and dataset the base model was evaluated on, the base model
    first."""
    out: list[Heatmap] = []
    base_name = results.base.name
    for kind in MATRICES:
        cells: dict[tuple[str, str], dict[tuple[str, str], float | None]] = {}
        for entry in results.evaluations:
            if (where := kind.cell(entry)) is not None:
                cells.setdefault((entry.model, entry.dataset), {})[where] = entry.metrics.get(kind.metric)
        datasets = list(dict.fromkeys(dataset for model, dataset in cells if model == base_name))
        for dataset in datasets:
            base = cells[(base_name, dataset)]
            # In the order of the evaluations' pools (the pivot first, as the scenarios list them).
            langs = tuple(
                dict.fromkeys(
                    lang
                    for e in results.evaluations
                    if e.model == base_name and e.dataset == dataset and kind.cell(e) is not None
                    for lang in (*e.doc_langs, e.query_lang)
                )
            )
            for model in results.models:
                values = cells.get((model.name, dataset))
                if values is None:
                    continue
                tests = {
                    where: test
                    for test in results.significance
                    if test.model == model.name
                    and test.reference == base_name
                    and test.metric == kind.metric
                    and test.dataset == dataset
                    and test.scenario == kind.scenario
                    and (where := kind.cell(test)) is not None
                }
                out.append(Heatmap(dataset, kind, model.name, langs, values, base, tests, model.is_base))
    return out


def _shades(values: list[float]) -> tuple[float, float]:
    """(low, span) that map ``values`` onto 0..1."""
    low, high = min(values, default=0.0), max(values, default=0.0)
    return low, (high - low) or 1.0


def heatmap_block(heatmap: Heatmap) -> Block:
    """The heatmap as a table block: a row per query language, a column per document (or pool) language; the
    base model's values shaded by size, another model's changes green (better) or red (worse) by size, with
    ``*`` where the paired test against the base model has p < 0.05 (hover: values and p-value)."""
    spec = metric(heatmap.kind.metric)
    langs = heatmap.langs
    if heatmap.is_base:
        present = [v for v in heatmap.values.values() if v is not None]
        low, span = _shades(present)
    else:
        deltas = [abs(d) for cell in heatmap.values if (d := heatmap.delta(cell)) is not None]
        low, span = 0.0, max(deltas, default=0.0) or 1.0
    rows = []
    for query in langs:
        cells = [Cell(query)]
        for column in langs:
            where = (query, column)
            value = heatmap.values.get(where)
            if value is None:
                cells.append(Cell(MISSING))
                continue
            if heatmap.is_base:
                shade = _FLOOR + (1 - _FLOOR) * (value - low) / span
                cells.append(Cell(spec.format(value), "", f"{query}→{column}: {spec.format(value)}", shade))
                continue
            delta = heatmap.delta(where)
            if delta is None:
                cells.append(Cell(spec.format(value), "", f"{query}→{column}: {spec.format(value)}"))
                continue
            test = heatmap.tests.get(where)
            significant = test is not None and test.p_value < ALPHA
            quality = delta_quality(spec, delta)
            base = heatmap.base[where]
            title = f"{query}→{column}: {spec.format(value)} (base {spec.format(base or 0.0)})"
            title += f"; p = {test.p_value:.4f}" if test is not None else "; not tested"
            shade = abs(delta) / span  # no change: white
            cells.append(
                Cell(spec.format(delta, sign=True) + ("*" if significant else ""), quality, title, shade)
            )
        rows.append(tuple(cells))
    header = (heatmap.kind.corner, *langs)
    return Block("heatmap", header=header, rows=tuple(rows), numeric=tuple(range(1, len(header))))


def matrix_sections(results: RunResults) -> list[tuple[str, list[Block]]]:
    """One section per dataset and matrix kind: a heading, a note on reading it, and a heatmap per model;
    none when the results hold no ``matrix`` or ``pairs`` evaluation."""
    sections: dict[tuple[str, str], list[Block]] = {}
    for heatmap in heatmaps(results):
        spec = metric(heatmap.kind.metric)
        blocks = sections.setdefault((heatmap.dataset, heatmap.kind.scenario), [])
        if not blocks:
            blocks.append(
                Block(
                    "note",
                    f"{spec.label} per {heatmap.kind.cells}: the base model's values (darker is "
                    "higher), then each model's change against the base model (green better, red worse, "
                    f"darker is larger; * marks p < {ALPHA} in the paired randomization test). Hover a cell "
                    "for its values.",
                )
            )
        label = (
            f"{spec.label}, {heatmap.model} (base model)"
            if heatmap.is_base
            else f"Δ {spec.label} vs. base model, {heatmap.model}"
        )
        blocks += [Block("subheading", label), heatmap_block(heatmap)]
    titles = {kind.scenario: kind.title for kind in MATRICES}
    return [
        (f"Language matrix: {dataset}, {titles[scenario]}", blocks)
        for (dataset, scenario), blocks in sections.items()
    ]
