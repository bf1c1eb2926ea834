"""The ablation's report, in ``clearir run``'s style: ``ablation.json`` (machine-readable), ``summary.md``,
``report.html`` (self-contained, figures inline) and the PNG figures, every file written atomically; and a
table for the terminal."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.table import Table

from clearir.experiment.analysis import VS_BASE, Analysis, Config, ConfigTest, analyse
from clearir.experiment.grid import Plan
from clearir.experiment.plots import render_plots
from clearir.experiment.steps import now
from clearir.experiment.store import BASE_NAME, FOCUS, Finished, Target, Values, load_finished, load_values
from clearir.files import write_bytes, write_json, write_text
from clearir.metrics.registry import ENGLISH_KEPT, ENGLISH_METRIC, metric
from clearir.report.blocks import Block, Cell, Section, html_page, markdown, rich_table
from clearir.report.results import SHIFT_SUFFIX, package_versions
from clearir.report.tables import lower_is_better

SCHEMA_VERSION = 1
JSON_FILE = "ablation.json"
SUMMARY_FILE = "summary.md"
HTML_FILE = "report.html"
MISSING = "—"


def build_analysis(plan: Plan) -> tuple[Finished, Analysis]:
    """Read every finished run of ``plan`` from its directory and analyse them against the base model (with
    SHIFT too when its evaluations are on)."""
    finished = load_finished(plan)

    def values(record: dict[str, Any], langs: tuple[str, ...]) -> Values:
        return load_values(plan.out / record["folder"], record["entries"], langs)

    base = values(finished.base[BASE_NAME], plan.eval_langs)
    runs: dict[str, Values] = {}
    shifted: dict[str, Values] = {}
    for run in plan.runs:
        if facts := finished.runs.get(run.id):
            runs[run.id] = values(facts, plan.model_langs(run))
            if shift := facts["evaluations"].get(run.id + SHIFT_SUFFIX):
                shifted[run.id] = values(shift, plan.model_langs(run, shift=True))
    base_shift = finished.base.get(BASE_NAME + SHIFT_SUFFIX)
    base_shifted = values(base_shift, plan.model_langs(None, shift=True)) if base_shift else None
    analysis = analyse(plan, runs, base, plan.shared.significance_resamples, shifted, base_shifted)
    return finished, analysis


def write_ablation_report(plan: Plan) -> tuple[dict[str, Path], Finished, Analysis]:
    """Write the report of every finished run of ``plan`` into its directory; the written files by name."""
    finished, analysis = build_analysis(plan)
    written: dict[str, Path] = {}
    pngs = render_plots(plan, analysis)
    for name, png in pngs.items():
        written[name] = write_bytes(plan.out / name, png)
    summary = summary_markdown(plan, finished, analysis, list(pngs))
    written[SUMMARY_FILE] = write_text(plan.out / SUMMARY_FILE, summary)
    written[HTML_FILE] = write_text(plan.out / HTML_FILE, render_html(plan, finished, analysis, pngs))
    written[JSON_FILE] = write_json(plan.out / JSON_FILE, ablation_document(plan, finished, analysis))
    return written, finished, analysis


# -- shared pieces


def _column(target: Target) -> str:
    return f"{target.task} {metric(target.metric).label}"


def _cell(analysis: Analysis, config: Config, target: Target) -> tuple[str, str, ConfigTest | None]:
    """(mean ± std, Δ vs. base with * when real, the test) of one configuration and target."""
    stat = analysis.stats.get((config.id, target))
    if stat is None:
        return MISSING, "", None
    spec = metric(target.metric)
    value = spec.format(stat.mean) + (f" ± {spec.format(stat.std)}" if len(stat.per_seed) > 1 else "")
    test = analysis.vs_base(config, target)
    delta = "" if test is None else spec.format(test.diff, sign=True) + ("*" if test.real else "")
    return value, delta, test


def _groups(plan: Plan, analysis: Analysis) -> list[tuple[str, str, list[Config], list[Target]]]:
    """(dataset, language, its configurations, the targets) per table: each training language's
    configurations, then each zero-shot language's (the configurations evaluated on it)."""
    datasets = list(dict.fromkeys(t.dataset for t in analysis.base))
    groups = []
    for dataset in datasets:
        for lang in plan.eval_langs:
            zero_shot = lang not in plan.train_langs
            configs = [c for c in analysis.configs if lang in (c.zero_shot if zero_shot else c.langs)]
            targets = [
                t
                for c in configs[:1]
                for t in analysis.targets(c)
                if t.dataset == dataset and t.lang in ("en", lang)
            ]
            if configs and targets:
                groups.append((dataset, lang, configs, targets))
    return groups


def _english(analysis: Analysis, config: Config) -> str | None:
    test = analysis.english(config)
    if test is None:
        return None
    spec = metric(ENGLISH_METRIC)
    if test.english_kept:
        verdict = f"kept (within {spec.format(ENGLISH_KEPT)})"
    else:
        verdict = "lost" if test.diff < 0 else "gained"
        verdict += " (a real difference)" if test.real else " (not a real difference: could be noise)"
    return (
        f"{config.label}: en→en {spec.label} {spec.format(test.reference_value)} → {spec.format(test.value)} "
        f"({spec.format(test.diff, True)}, 95% CI {spec.format(test.ci_low, True)} to "
        f"{spec.format(test.ci_high, True)}, Holm-corrected p = {test.p:.4f}): {verdict}."
    )


def _status(plan: Plan, finished: Finished) -> str:
    missing = len(finished.missing) + len(finished.stale)
    text = f"{len(finished.runs)} of {len(plan.runs)} runs finished"
    if missing:
        seconds = [r["seconds"]["total"] for r in finished.runs.values()]
        estimate = (
            f"; about {sum(seconds) / len(seconds) * missing / 60:.0f} min more at the mean run time"
            if seconds
            else ""
        )
        text += f" ({missing} to do{estimate})"
    return text


# -- ablation.json


def _test_record(analysis: Analysis, test: ConfigTest) -> dict[str, Any]:
    return {
        **{k: v for k, v in asdict(test).items() if k != "target"},
        **asdict(test.target),
        "task": test.target.task,
        "variant_label": analysis.label(test.variant),
        "reference_label": analysis.label(test.reference),
        "real": test.real,
        "outcome": test.outcome,
        "seeds_agreeing": test.seeds_agreeing,
        "sentence": analysis.sentence(test),
    }


def _run_records(plan: Plan, finished: Finished) -> list[dict[str, Any]]:
    """Every run of the plan: id, label, status (finished, missing, or stale: made with another base model or
    other evaluation settings), settings, and the facts of finished ones."""
    records = []
    for run in plan.runs:
        record = finished.runs.get(run.id)
        status = "finished" if record else "stale" if run in finished.stale else "missing"
        facts = {k: record[k] for k in ("seconds", "train", "rows", "host", "finished")} if record else {}
        records.append(
            {
                "id": run.id,
                "config_id": run.config_id,
                "label": plan.label(run.settings),
                "status": status,
                "settings": run.settings.relevant(),
                **facts,
            }
        )
    return records


def ablation_document(plan: Plan, finished: Finished, analysis: Analysis) -> dict[str, Any]:
    """Everything the report shows, as JSON-ready data."""
    configs = []
    for config in analysis.configs:
        values = []
        for target in analysis.targets(config):
            stat = analysis.stats[(config.id, target)]
            test = analysis.vs_base(config, target)
            values.append(
                {
                    **asdict(target),
                    "task": target.task,
                    "mean": stat.mean,
                    "std": stat.std,
                    "per_seed": {str(seed): v for seed, v in stat.per_seed.items()},
                    "base": analysis.base[target],
                    "vs_base": _test_record(analysis, test) if test else None,
                }
            )
        settings = config.settings.relevant()
        del settings["seed"]
        english = analysis.english(config)
        configs.append(
            {
                "id": config.id,
                "label": config.label,
                "settings": settings,
                "seeds": list(config.seeds),
                "runs": {str(seed): run_id for seed, run_id in config.runs.items()},
                "shift": config.shift,
                "english_kept": None if english is None else english.english_kept,
                "values": values,
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "name": plan.out.name,
        "created": now(),
        "description": plan.description,
        "status": _status(plan, finished),
        "grid": plan.spec,
        "shared": {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(plan.shared).items()},
        "varying": list(plan.varying),
        "english_tolerance": ENGLISH_KEPT,
        "base": {
            "model": finished.base[BASE_NAME]["model_path"],
            "values": [{**asdict(t), "task": t.task, "value": v} for t, v in analysis.base.items()],
            "shift_values": [
                {**asdict(t), "task": t.task, "value": v} for t, v in analysis.base_shift.items()
            ],
        },
        "runs": _run_records(plan, finished),
        "configs": configs,
        "tests": [_test_record(analysis, test) for test in analysis.tests],
        "versions": package_versions(),
    }


# -- the report's content (rendered as markdown and HTML by clearir.report.blocks)


def _quality(test: ConfigTest | None) -> str:
    return "same" if test is None or not test.real else test.outcome


def _intro(plan: Plan, finished: Finished) -> list[Block]:
    s = plan.shared
    base = finished.base[BASE_NAME]["model_path"]
    status = (
        f"Created {now()}; {_status(plan, finished)}; base model {base}; evaluation: "
        f"{', '.join(s.eval_datasets)} ({', '.join(plan.eval_langs)}), at most {s.eval_max_queries or 'all'} "
        f"questions per task; {s.significance_resamples} resamples per test."
    )
    rule = (
        "A difference is real when its Holm-corrected p-value (over its family of comparisons) is below "
        "0.05 and its 95% bootstrap interval excludes 0. Values are means over seeds (± std); Δ is against "
        f"the base model and * marks a real Δ. {lower_is_better(tuple(key for _, key in FOCUS))}."
    )
    description = [Block("p", plan.description)] if plan.description else []
    return [*description, Block("p", status), Block("p", rule)]


def _verdicts(analysis: Analysis) -> list[Block]:
    blocks = []
    for family in analysis.families():
        tests = [t for t in analysis.tests if t.family == family]
        real = [t for t in tests if t.real]
        better = sum(t.outcome == "better" for t in real)
        split = f": {better} better, {len(real) - better} worse" if real else ""
        where = " (marked * in the results tables)" if family == VS_BASE else ""
        blocks.append(
            Block("p", f"{family}: {len(real)} of {len(tests)} differences are real{split}{where}.")
        )
        if family != VS_BASE and real:
            blocks.append(Block("list", items=tuple(Cell(analysis.sentence(t), t.outcome) for t in real)))
    return blocks


def _results_table(analysis: Analysis, configs: list[Config], targets: list[Target]) -> Block:
    rows = []
    for name, values in (("base model", analysis.base), ("base model + SHIFT", analysis.base_shift)):
        if values:
            cells = [Cell(metric(t.metric).format(values[t]) if t in values else MISSING) for t in targets]
            rows.append((Cell(name), Cell(""), *cells))
    for config in configs:
        cells = [Cell(config.label), Cell(str(len(config.seeds)))]
        for target in targets:
            value, delta, test = _cell(analysis, config, target)
            cells.append(Cell(f"{value} ({delta})" if delta else value, _quality(test)))
        rows.append(tuple(cells))
    header = ("configuration", "seeds", *map(_column, targets))
    return Block("table", header=header, rows=tuple(rows), numeric=tuple(range(1, len(header))))


def _comparison_table(analysis: Analysis, family: str) -> Block:
    rows = []
    for t in (t for t in analysis.tests if t.family == family):
        spec = metric(t.target.metric)
        rows.append(
            (
                Cell(analysis.label(t.variant)),
                Cell(analysis.label(t.reference)),
                Cell(_column(t.target)),
                Cell(spec.format(t.diff, True), _quality(t)),
                Cell(f"{spec.format(t.ci_low, True)} to {spec.format(t.ci_high, True)}"),
                Cell(f"{t.p_value:.4f}"),
                Cell(f"{t.p_holm:.4f}"),
                Cell(f"{t.seeds_agreeing}/{len(t.seeds)}"),
                Cell(t.outcome, _quality(t)),
            )
        )
    header = ("configuration", "against", "measure", "Δ", "95% CI", "p", "Holm p", "seeds agree", "verdict")
    return Block("table", header=header, rows=tuple(rows), numeric=tuple(range(3, len(header) - 1)))


def _runs_table(plan: Plan, finished: Finished) -> Block:
    rows = []
    for run in _run_records(plan, finished):
        seconds = run.get("seconds", {})
        loss = run.get("train", {}).get("train_loss")
        rows.append(
            (
                Cell(run["label"]),
                Cell(run["id"]),
                Cell(run["status"]),
                *(
                    Cell(f"{seconds[k]:.0f}" if k in seconds else "")
                    for k in ("rows", "train", "eval", "total")
                ),
                Cell("" if loss is None else f"{loss:.4f}"),
                Cell(run.get("host", "")),
            )
        )
    header = ("run", "id", "status", "rows s", "train s", "eval s", "total s", "final loss", "host")
    return Block("table", header=header, rows=tuple(rows), numeric=tuple(range(3, len(header) - 1)))


def report_sections(plan: Plan, finished: Finished, analysis: Analysis, figures: list[str]) -> list[Section]:
    """The report as (section title, blocks); the first section has no title."""
    sections: list[Section] = [
        ("", _intro(plan, finished)),
        ("Verdicts", _verdicts(analysis)),
    ]
    english = [Cell(text) for c in analysis.configs if not c.shift and (text := _english(analysis, c))]
    sections.append(("English retention", [Block("list", items=tuple(english))]))
    if figures:
        caption = "mean ± std over seeds; dashed: the base model"
        sections.append(
            ("Figures", [Block("figure", f"{name}: {caption}", header=(name,)) for name in figures])
        )
    for dataset, lang, configs, targets in _groups(plan, analysis):
        how = "trained on" if lang in plan.train_langs else "zero-shot on"
        sections.append((f"Results: {how} {lang}, {dataset}", [_results_table(analysis, configs, targets)]))
    for family in analysis.families():
        if family != VS_BASE:
            sections.append((f"Comparisons: {family}", [_comparison_table(analysis, family)]))
    sections.append(("Runs", [_runs_table(plan, finished)]))
    sections.append(("Grid", [Block("pre", json.dumps(plan.spec, indent=2, ensure_ascii=False))]))
    versions = tuple((Cell(k), Cell(v)) for k, v in package_versions().items())
    sections.append(("Versions", [Block("table", header=("package", "version"), rows=versions)]))
    return sections


def summary_markdown(plan: Plan, finished: Finished, analysis: Analysis, figures: list[str]) -> str:
    """``summary.md``."""
    return markdown(f"clearir ablate: {plan.out.name}", report_sections(plan, finished, analysis, figures))


def render_html(plan: Plan, finished: Finished, analysis: Analysis, pngs: dict[str, bytes]) -> str:
    """``report.html``."""
    return html_page(
        f"clearir ablate: {plan.out.name}", report_sections(plan, finished, analysis, list(pngs)), pngs
    )


# -- terminal


def rich_summary(plan: Plan, analysis: Analysis) -> Table:
    """Per configuration: en→en, L→en nDCG@10 and mixed-pool Complete@10 per language, Δ vs. base."""
    wanted_keys = (
        ("en", "en→en", "ndcg_at_10"),
        ("L", "L→en", "ndcg_at_10"),
        ("L", "mixed pool, L queries", "complete_at_10"),
    )
    header = ["configuration", "seeds", "language"]
    header += [f"{kind.split(' pool')[0]} {metric(key).short}" for _, kind, key in wanted_keys]
    rows: list[tuple[Cell, ...]] = []
    groups: list[int] = []
    for dataset, lang, configs, _ in _groups(plan, analysis):
        wanted = [Target(dataset, lang if who == "L" else "en", kind, key) for who, kind, key in wanted_keys]
        groups.append(len(rows))
        for config in configs:
            cells = [Cell(config.label), Cell(str(len(config.seeds))), Cell(lang)]
            for target in wanted:
                value, delta, test = _cell(analysis, config, target)
                mean = value.split(" ± ")[0]
                cells.append(Cell(f"{mean} ({delta})" if delta else mean, _quality(test)))
            rows.append(tuple(cells))
    block = Block("table", header=tuple(header), rows=tuple(rows), numeric=(1, 3, 4, 5), groups=tuple(groups))
    return rich_table(
        block,
        title=f"clearir ablate {plan.out.name}",
        caption="mean over seeds (Δ vs. base; * real: Holm-corrected p < 0.05 and CI excludes 0)",
    )
