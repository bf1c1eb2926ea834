"""``clearir run``: the experiment engine's default grid end to end (base model, training rows, fine-tuning,
evaluation, report). Its options are generated from the settings model (``clearir.experiment.settings``):
one per run setting and shared setting, plus the two axes ``--langs`` and ``--losses``."""

from __future__ import annotations

import inspect
from dataclasses import MISSING, fields
from typing import Any

import typer
from rich.console import Console

from clearir.errors import ClearirError
from clearir.experiment.preset import AXES, RUN_GRID, RUN_SHARED
from clearir.experiment.settings import DEFAULT_RUN, KINDS, RunSettings, SharedSettings, setting_value
from clearir.fields import flag_of, help_of, shown
from clearir.training.config import LOSS_NAMES

_TYPES = {"int": int, "count": int, "float": float, "bool": bool, "str": str, "window": str, "list": str}
_AXIS_HELP = {
    "langs": "Training languages (comma-separated); one model per (language, loss).",
    "loss": f"Losses compared with the base model (comma-separated): {', '.join(LOSS_NAMES)}.",
}


def _option(name: str, default: Any, help: str, flag: str, kind: str | None = None) -> inspect.Parameter:
    kind = kind or KINDS[name]
    if kind == "bool" and "/" not in flag:
        flag = f"{flag}/--no-{flag[2:]}"
    value = shown(kind, default)
    option = typer.Option(value, flag, help=help, show_default=value is not None)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=_TYPES[kind])


def _parameters() -> list[inspect.Parameter]:
    params = [_option(key, RUN_GRID[key], _AXIS_HELP[key], flag, "list") for key, flag in AXES.items()]
    params += [
        _option(f.name, getattr(DEFAULT_RUN, f.name), help_of(f), flag_of(f))
        for f in fields(RunSettings)
        if f.name not in AXES
    ]
    for f in fields(SharedSettings):
        default = RUN_SHARED.get(f.name, f.default if f.default is not MISSING else None)
        params.append(_option(f.name, default, help_of(f), flag_of(f)))
    return params


def run_command(**values: Any) -> None:
    """Fine-tune one model per (language, loss), evaluate them and the base model in every cross-lingual
    direction and mixed pool (each also with SHIFT), and write the report (summary.md, PNGs, report.html,
    results.json) to --out. Running again with the same --out reuses every finished step."""
    from clearir.experiment.models_report import print_summary, write_models_report
    from clearir.experiment.preset import run_plan
    from clearir.experiment.runner import run_experiment

    axes = {}
    for key, flag in AXES.items():
        axes[key] = tuple(item.strip() for item in values.pop(key).split(",") if item.strip())
        if not axes[key]:
            raise ClearirError(f"{flag} is empty; expected a comma-separated list")
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


run_command.__signature__ = inspect.Signature(_parameters())  # type: ignore[attr-defined]
