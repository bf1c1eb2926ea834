"""``clearir run``: the experiment engine's default grid end to end (base model, training rows, fine-tuning,
evaluation, report). Its options are generated from the settings model (``clearir.experiment.settings``):
one per run setting and shared setting, plus the two axes ``--langs`` and ``--losses``."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from rich.console import Console

from clearir.cli.options import generated, option, setting_options, split_list
from clearir.experiment.preset import AXES, RUN_GRID, RUN_SHARED
from clearir.experiment.settings import DEFAULT_RUN, RunSettings, SharedSettings, setting_value
from clearir.fields import flag_of
from clearir.metrics.registry import RUN, metric_labels
from clearir.training.config import LOSS_NAMES

_AXIS_HELP = {
    "langs": "Training languages (comma-separated); one model per (language, loss).",
    "loss": f"Losses compared with the base model (comma-separated): {', '.join(LOSS_NAMES)}.",
}


def run_command(**values: Any) -> None:
    """Fine-tune one model per (language, loss), evaluate them and the base model in every cross-lingual
    direction and mixed pool (each also with SHIFT), and write the report (summary.md, PNGs, report.html,
    results.json) to --out. Running again with the same --out reuses every finished step."""
    from clearir.experiment.models_report import print_summary, write_models_report
    from clearir.experiment.preset import run_plan
    from clearir.experiment.runner import run_experiment

    axes = {key: tuple(split_list(values.pop(key), flag) or ()) for key, flag in AXES.items()}
    given = {k: v for k, v in values.items() if v is not None}
    flags = {f.name: flag_of(f).split("/")[0] for f in (*fields(RunSettings), *fields(SharedSettings))}
    for key, value in given.items():  # checked here so that errors name the flag
        setting_value(key, value, flags[key])
    run_keys = {f.name for f in fields(RunSettings)}
    fixed = {k: v for k, v in given.items() if k in run_keys}
    plan = run_plan(axes, fixed, {k: v for k, v in given.items() if k not in run_keys})
    outcome = run_experiment(plan, console=Console(stderr=True), command="clearir run")
    results = write_models_report(plan, outcome)
    print_summary(plan, results, outcome)


generated(
    run_command,
    [
        *(option(key, RUN_GRID[key], _AXIS_HELP[key], flag, "list") for key, flag in AXES.items()),
        *setting_options(RunSettings, defaults=asdict(DEFAULT_RUN), skip=AXES),
        *setting_options(SharedSettings, defaults=RUN_SHARED),
    ],
)
run_command.__doc__ = f"{run_command.__doc__} Metrics: {metric_labels(RUN)}."
