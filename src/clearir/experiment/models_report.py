"""The models report of an experiment (``clearir run``'s): every model side by side — the base model, each
run's fine-tuned model, each also with SHIFT — with deltas, paired tests, loss curves and step timings
(``results.json``, ``summary.md``, ``report.html``, PNGs; :mod:`clearir.report`)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from rich.console import Console

from clearir.evaluation.results import entry_from_record
from clearir.experiment.grid import Plan
from clearir.experiment.runner import Outcome
from clearir.experiment.steps import now
from clearir.experiment.store import BASE_NAME, Finished, eval_name, load_finished
from clearir.precision import resolve_precision
from clearir.report import ModelEntry, RunResults, package_versions, rich_table, write_report
from clearir.report.compare import (
    comparison_rows,
    english_retention,
    headlines,
    shift_tables,
    significance_pairs,
)
from clearir.report.results import SHIFT_SUFFIX, read_loss_curve, significance_tests
from clearir.report.write import HTML_FILE
from clearir.training.config import loss_label


def _models(plan: Plan, finished: Finished) -> tuple[list[ModelEntry], dict[str, str]]:
    """The report's models (the base model, then each finished run, each followed by its SHIFT variant,
    training-free for the base model: no training language) and the evaluation name of each."""
    entries = [ModelEntry(BASE_NAME, finished.base[BASE_NAME].get("model_path", ""))]
    stored = {BASE_NAME: BASE_NAME}
    if plan.shared.shift:
        entries.append(ModelEntry(BASE_NAME + SHIFT_SUFFIX, entries[0].path, "shift"))
        stored[BASE_NAME + SHIFT_SUFFIX] = eval_name(None, True)
    for run in plan.runs:
        facts = finished.runs.get(run.id)
        if facts is None:
            continue
        name, label = plan.name(run), loss_label(run.settings.loss, run.settings)
        entries.append(ModelEntry(name, facts["train"]["model_dir"], label, run.settings.langs))
        stored[name] = eval_name(run, False)
        if plan.shared.shift:
            entries.append(
                ModelEntry(
                    name + SHIFT_SUFFIX, facts["train"]["model_dir"], label + " + shift", run.settings.langs
                )
            )
            stored[name + SHIFT_SUFFIX] = eval_name(run, True)
    return entries, stored


def models_results(plan: Plan, outcome: Outcome | None = None) -> RunResults:
    """The models report's data from the experiment directory's finished steps."""
    finished = load_finished(plan)
    models, stored = _models(plan, finished)
    records: dict[str, dict[str, Any]] = {**finished.base}
    for facts in finished.runs.values():
        records.update(facts["evaluations"])
    evaluation = {name: records[stored[name]] for name in stored}
    tests = [
        test
        for name, reference in significance_pairs(models)
        for test in significance_tests(
            name,
            plan.out / evaluation[name]["folder"],
            reference,
            plan.out / evaluation[reference]["folder"],
            evaluation[name]["entries"],
            plan.shared.significance_resamples,
        )
    ]
    entries = [
        replace(entry_from_record(record), model=name)
        for name in stored
        for record in evaluation[name]["entries"]
    ]
    curves = [
        read_loss_curve(plan.name(run), plan.out / finished.runs[run.id]["train"]["loss_log"])
        for run in plan.runs
        if run.id in finished.runs
    ]
    config = {
        **asdict(plan.shared),
        "precision_resolved": resolve_precision(plan.shared.precision),
        "fixed": plan.spec["fixed"],
        "grid": plan.spec["grid"],
    }
    return RunResults(
        name=plan.out.name,
        created=now(),
        config=config,
        versions=package_versions(),
        models=models,
        evaluations=entries,
        timings=outcome.timings if outcome is not None else [],
        loss_curves=curves,
        significance=tests,
    )


def write_models_report(plan: Plan, outcome: Outcome | None = None) -> RunResults:
    results = models_results(plan, outcome)
    write_report(results, plan.out)
    return results


def print_summary(plan: Plan, results: RunResults, outcome: Outcome) -> None:
    """The models report's table and sentences on standard output."""
    stdout = Console(soft_wrap=True)
    if not stdout.is_terminal:  # piped or captured: wide enough for the table, not the default 80 columns
        stdout = Console(soft_wrap=True, width=140)
    stdout.print(rich_table(results))
    for head in headlines(comparison_rows(results)):
        stdout.print(head.sentence(), markup=False)
    for item in english_retention(results):
        stdout.print(item.sentence(), markup=False)
    for table in shift_tables(results):
        stdout.print(table.sentence(), markup=False)
    reused = f", {len(outcome.reused)} reused" if outcome.reused else ""
    stdout.print(
        f"{len(outcome.computed)} steps computed{reused} in {outcome.seconds / 60:.1f} min; "
        f"report: {plan.out / HTML_FILE}",
        markup=False,
    )
