"""Every command's options are generated from a settings dataclass (``clearir.cli.options``): each field is
one option with its flag, default and help, and a default written once is the one every command shows."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, fields
from typing import Any

import click
import typer
from typer.testing import CliRunner

from clearir.cli.ablate import AblateOptions
from clearir.cli.build_train import BuildTrainOptions
from clearir.cli.eval import EvalOptions
from clearir.cli.main import app
from clearir.cli.options import generated, setting_options
from clearir.cli.shift import ShiftFitOptions
from clearir.fields import REQUIRED, field_kind, flag_of, setting
from clearir.rows.build import build_rows
from clearir.rows.mining import DEFAULT_NUM_NEGATIVES
from clearir.rows.settings import RowsSettings
from clearir.training.config import TrainConfig


def _command(*path: str) -> click.Command:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    return command


def _flags(command: click.Command) -> dict[str, click.Parameter]:
    """The command's options by their parameter name (``--help`` left out)."""
    return {p.name: p for p in command.params if p.name != "help"}


def _field_flags(cls: type) -> set[str]:
    """The flags the fields of ``cls`` declare, bools with their ``--no-`` form (switches without)."""
    flags = set()
    for f in fields(cls):
        flag = flag_of(f)
        if field_kind(cls, f) == "bool" and "/" not in flag:
            flag = f"{flag}/--no-{flag[2:]}"
        flags |= set(flag.split("/"))
    return flags


def test_eval_shift_fit_and_ablate_options_are_their_dataclass_fields() -> None:
    for cls, path in (
        (EvalOptions, ["eval"]),
        (ShiftFitOptions, ["shift", "fit"]),
        (AblateOptions, ["ablate"]),
    ):
        options = _flags(_command(*path))
        assert list(options) == [f.name for f in fields(cls)], cls.__name__
        declared = {flag for p in options.values() for flag in (*p.opts, *p.secondary_opts)}
        assert declared == _field_flags(cls), cls.__name__
        for f in fields(cls):
            assert options[f.name].help == f.metadata["help"], f.name


def test_switches_have_no_negative_form_and_repeats_collect_every_value() -> None:
    options = _flags(_command("eval"))
    assert options["faiss"].secondary_opts == [] and options["faiss"].default is False
    assert options["per_query"].secondary_opts == ["--no-per-query"]
    ablate = _flags(_command("ablate"))
    assert ablate["vary"].multiple and ablate["set_"].multiple and ablate["set_"].opts == ["--set"]
    assert ablate["dry_run"].secondary_opts == []


def test_build_train_options_come_from_rows_settings_training_and_its_own() -> None:
    options = _flags(_command("data", "build-train"))
    rows = {f.name for f in fields(RowsSettings)}
    own = {f.name for f in fields(BuildTrainOptions)}
    assert set(options) == rows | own | {"num_negatives", "seed"}
    assert options["train_dataset"].opts == ["--dataset"] and options["train_dataset"].default is None
    assert options["train_columns"].opts == ["--columns"]
    assert options["max_rows"].default is None  # no cap unless asked (a run's rows: 500)
    assert options["out"].required
    training = {f.name: f.default for f in fields(TrainConfig)}
    assert options["seed"].default == training["seed"]


def test_one_num_negatives_default_for_rows_training_and_the_command() -> None:
    build_default = inspect.signature(build_rows).parameters["num_negatives"].default
    training_default = next(f.default for f in fields(TrainConfig) if f.name == "num_negatives")
    command_default = _flags(_command("data", "build-train"))["num_negatives"].default
    assert build_default == training_default == command_default == DEFAULT_NUM_NEGATIVES


@dataclass(frozen=True)
class _Toy:
    name: str = setting(REQUIRED, "A name.")
    count: int | None = setting(None, "How many (0: none).")
    loud: bool = setting(False, "Shout.", kind="switch")
    tags: list[str] | None = setting(None, "A tag (repeatable).", flag="--tag", kind="repeat")
    kept: bool = setting(True, "Keep it.")


def test_a_generated_command_passes_each_option_under_its_field_name() -> None:
    seen: list[dict[str, Any]] = []

    def command(**values: Any) -> None:
        seen.append(values)

    toy = typer.Typer()
    toy.command()(generated(command, setting_options(_Toy, helps={"kept": "Keep."}, flags={"count": "--n"})))
    runner = CliRunner()
    result = runner.invoke(
        toy, ["--name", "x", "--n", "3", "--loud", "--tag", "a", "--tag", "b", "--no-kept"]
    )
    assert result.exit_code == 0, result.output
    assert seen == [{"name": "x", "count": 3, "loud": True, "tags": ["a", "b"], "kept": False}]
    assert runner.invoke(toy, []).exit_code == 2  # --name is required
    only = setting_options(_Toy, only=("loud", "kept"), skip=("kept",))
    assert [p.name for p in only] == ["loud"]
