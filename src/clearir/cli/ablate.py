"""``clearir ablate``: any grid of runs on the experiment engine, reused where finished, with paired
statistics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from clearir.cli.options import generated, setting_options
from clearir.experiment.settings import RUN_KEYS, SHARED_KEYS
from clearir.fields import setting
from clearir.metrics.registry import ABLATION, metric_labels

_GRID_HELP = (
    "Grid file (TOML) with the tables shared (base model, evaluation), fixed (run settings) and grid (axes: "
    "lists of values; several grid tables are joined). See bench/ablation/grid_small.toml."
)
_VARY_HELP = (
    "An axis KEY=V1,V2 (repeatable; replaces the file's axis), e.g. loss=infonce,clear. "
    f"Run settings: {', '.join(RUN_KEYS)}."
)
_SET_HELP = (
    "A fixed run setting or shared setting KEY=VALUE (repeatable), e.g. steps=8. "
    f"Shared settings: {', '.join(SHARED_KEYS)}."
)
_SHARD_HELP = "Run only shard I/N of the grid (every N-th run from I); shards 0/N..N-1/N cover each run once."


@dataclass(frozen=True)
class AblateOptions:
    """``clearir ablate``'s options, in the order ``--help`` lists them."""

    grid: str | None = setting(None, _GRID_HELP)
    vary: list[str] | None = setting(None, _VARY_HELP, kind="repeat")
    set_: list[str] | None = setting(None, _SET_HELP, flag="--set", kind="repeat")
    out: str | None = setting(None, "Experiment directory (default: the grid's, else runs/ablation).")
    model: str | None = setting(None, "Base model directory (default: the built default model).")
    shard: str = setting("0/1", _SHARD_HELP)
    report_only: bool = setting(
        False, "Train nothing: write the report of every finished run (merges shards).", kind="switch"
    )
    dry_run: bool = setting(False, "List the runs (and their shard) and stop.", kind="switch")


def ablate_command(**values: Any) -> None:
    """Fine-tune one model per run of a grid (loss and its weights, optimisation, frozen parts, languages,
    seeds), evaluate each like `clearir run`, and report paired tests against the base model and between
    settings (mean ± std over seeds, Holm-corrected p-values, plain verdicts) in --out. Finished runs,
    training rows and base-model embeddings are reused; run shards on several machines, then --report-only."""
    o = AblateOptions(**values)
    from clearir.experiment.grid import load_plan, parse_shard
    from clearir.experiment.store import check_layout, load_finished

    plan = load_plan(o.grid, o.vary or [], o.set_ or [], o.out, o.model)
    index, count = parse_shard(o.shard)
    stdout = Console(soft_wrap=True)
    if not stdout.is_terminal:
        stdout = Console(soft_wrap=True, width=160)
    if o.dry_run:
        if plan.out.is_dir() and any(plan.out.iterdir()):
            check_layout(plan.out)
        done = load_finished(plan, required=False).runs
        table = Table(title=Text(f"{len(plan.runs)} runs → {plan.out}"), header_style="bold")
        for name in ("#", "shard", "run", "id", "done"):
            table.add_column(name)
        for position, run in enumerate(plan.runs):
            table.add_row(
                str(position),
                f"{position % count}/{count}",
                Text(plan.label(run.settings)),
                run.id,
                "yes" if run.id in done else "",
            )
        stdout.print(table)
        return
    if not o.report_only:
        from clearir.experiment.runner import run_experiment

        outcome = run_experiment(plan, (index, count), Console(stderr=True))
        minutes = outcome.seconds / 60
        stdout.print(
            f"{len(outcome.trained)} runs trained, {len(outcome.reused_runs)} reused in {minutes:.1f} min",
            markup=False,
        )
    elif plan.out.is_dir():
        check_layout(plan.out)
    from clearir.experiment.report import HTML_FILE, rich_summary, write_ablation_report

    _, finished, analysis = write_ablation_report(plan)
    stdout.print(rich_summary(plan, analysis))
    for test in analysis.tests:
        if test.family != "vs base" and test.real:
            stdout.print(analysis.sentence(test), markup=False)
    left = len(finished.missing) + len(finished.stale)
    note = f"; {left} runs not finished yet" if left else ""
    stdout.print(
        f"report of {len(finished.runs)} of {len(plan.runs)} runs{note}: {plan.out / HTML_FILE}", markup=False
    )


generated(ablate_command, setting_options(AblateOptions))
ablate_command.__doc__ = f"{ablate_command.__doc__} Metrics tested: {metric_labels(ABLATION)}."
