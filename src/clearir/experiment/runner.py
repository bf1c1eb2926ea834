"""``run_experiment``: run one shard of a plan on the job layer, reusing everything already made.

Order: the base model, its evaluation (and with SHIFT), then run by run: training rows (shared by runs with
the same rows settings), fine-tuning, evaluation (and with SHIFT), so every finished run can be reported while
the others are still to come. Reports are written separately (``clearir.experiment.reports``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.text import Text

from clearir.experiment.grid import Plan
from clearir.experiment.jobs import Jobs
from clearir.experiment.steps import now
from clearir.experiment.store import LAYOUT_FILE, LAYOUT_VERSION, check_layout
from clearir.files import check_dir_target, write_json
from clearir.report.results import PhaseTiming


@dataclass
class Outcome:
    """What one invocation did: steps computed and reused (by label), the runs of its shard trained now and
    those reused, the timings, and its wall time."""

    out: Path
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    trained: list[str] = field(default_factory=list)
    reused_runs: list[str] = field(default_factory=list)
    timings: list[PhaseTiming] = field(default_factory=list)
    seconds: float = 0.0


def prepare(plan: Plan) -> None:
    """Check the experiment directory (refusing another layout) and record the plan in it."""
    check_dir_target(plan.out, "--out")
    if plan.out.is_dir() and any(plan.out.iterdir()):
        check_layout(plan.out)
    runs = [{"id": r.id, "name": plan.name(r), **r.settings.relevant()} for r in plan.runs]
    write_json(
        plan.out / LAYOUT_FILE, {"layout": LAYOUT_VERSION, "written": now(), **plan.spec, "runs": runs}
    )


def run_experiment(
    plan: Plan,
    shard: tuple[int, int] = (0, 1),
    console: Console | None = None,
    progress: bool = True,
    command: str = "clearir ablate",
) -> Outcome:
    """Run shard ``shard`` (index, count) of ``plan``: the base model's evaluations, then each of its runs
    (see the module doc)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    prepare(plan)
    runs = plan.shard(*shard)
    which = f"shard {shard[0]}/{shard[1]}: " if shard[1] > 1 else ""
    console.rule(Text(f"{command} → {plan.out} ({which}{len(runs)} of {len(plan.runs)} runs)"))
    jobs = Jobs(plan, console, progress)
    jobs.check_files()
    base = jobs.base_model()
    for shift in plan.shifts:
        jobs.evaluate(base, shift, "eval-base" + ("+shift" if shift else ""))
    jobs.drop_model(base)
    outcome = Outcome(plan.out, jobs.computed, jobs.reused, timings=jobs.timings)
    for number, run in enumerate(runs, start=1):
        name = plan.name(run)
        console.print(Text(f"[{number}/{len(runs)}] {plan.label(run.settings)} ({run.id})", style="bold"))
        labels = {"rows": "rows-" + run.settings.langs, "train": f"train-{name}", "eval": f"eval-{name}"}
        labels["eval+shift"] = f"eval-{name}+shift"
        if jobs.reuse_finished(run, base, labels):
            outcome.reused_runs.append(run.id)
            continue
        before = len(jobs.computed)
        rows = jobs.rows(run, base, labels["rows"])
        model = jobs.fine_tune(run, rows, base, labels["train"])
        for shift in plan.shifts:
            jobs.evaluate(model, shift, labels["eval+shift" if shift else "eval"])
        jobs.drop_model(model)
        (outcome.trained if len(jobs.computed) > before else outcome.reused_runs).append(run.id)
    outcome.seconds = time.perf_counter() - started
    return outcome
