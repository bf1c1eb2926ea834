"""``clearir run``'s command line: options generated from the settings model (every default shown, every
setting reaching the training), and bad input as one-line errors."""

from __future__ import annotations

import sys
from dataclasses import fields

import pytest

from clearir.cli.main import main
from clearir.experiment.keys import step_key
from clearir.experiment.preset import RUN_GRID, RUN_SHARED, run_plan
from clearir.experiment.settings import DEFAULT_RUN, RENAMED, RunSettings, SharedSettings
from clearir.fields import flag_of
from clearir.training.config import TrainConfig


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["clearir", "run", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), " ".join((captured.out + captured.err).split())


def test_help_has_an_option_for_every_setting_with_its_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    code, text = _run(monkeypatch, capsys, "--help")
    assert code == 0
    for f in (*fields(RunSettings), *fields(SharedSettings)):
        if f.name != "loss":
            assert flag_of(f).split("/")[0] in text, f.name
    for flag, shown in (
        ("--langs", ",".join(RUN_GRID["langs"])),
        ("--losses", ",".join(RUN_GRID["loss"])),
        ("--steps", str(DEFAULT_RUN.steps)),
        ("--out", RUN_SHARED["out"]),
        ("--shift-max-pairs", str(RUN_SHARED["shift_max_pairs"])),
        ("--eval-max-queries", str(SharedSettings().eval_max_queries)),
        ("--window", "50:100"),
        ("--mini-batch-size", "0"),
    ):
        assert flag in text and f"[default: {shown}]" in text, flag


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--losses", "infonce,bogus"], "--loss 'bogus': expected one of clear, infonce"),
        (["--langs", "en"], "langs 'en': expected target languages such as de or de+ar"),
        (["--langs", "../x"], "langs '../x': expected target languages"),
        (["--langs", " , "], "error: --langs is empty"),
        (["--steps", "0"], "--max-steps 0: expected a positive integer"),
        (["--steps", "-1"], "--steps: expected an integer >= 0, got -1"),
        (["--window", "100"], "--window '100': expected LO:HI"),
        (["--window", "50,100"], "--window '50,100': expected LO:HI"),
        (["--window", "9:3"], "--window 9:3: expected LO:HI, two integers with 0 <= LO < HI"),
        (["--scenarios", "bitext"], "scenarios 'bitext': expected some of monolingual"),
        (["--alpha", "0.9"], "--alpha 0.9 --beta 0.2: expected non-negative weights"),
        (["--no-kl", "--symmetric-kl"], "--symmetric-kl needs the KL term: drop --no-kl"),
        (["--eval-langs", "xx"], "'xx' is not a language of xquad"),
    ],
)
def test_bad_input_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    # A base model that is not there: should a bad setting ever pass the checks, the run stops at once.
    code, text = _run(monkeypatch, capsys, *args, "--model", "/nonexistent/model")
    assert code == 2
    assert message in text
    assert "Traceback" not in text


def test_the_default_grid_is_base_plus_infonce_and_the_recipe_on_hi() -> None:
    plan = run_plan(RUN_GRID, {}, {})
    assert [plan.name(run) for run in plan.runs] == ["infonce-hi", "clear-hi"]
    assert plan.eval_langs == ("hi",) and plan.out.name == "default"
    assert plan.shared.shift and plan.shared.keep_models
    assert step_key("rows", ["hi", 5]) == step_key("rows", ["hi", 5])
    assert step_key("rows", ["hi", 5]) != step_key("rows", ["hi", 4])


def test_every_run_setting_reaches_the_training_config() -> None:
    """Each RunSettings field is a TrainConfig field (under its run name) or a rows setting, and a value
    other than the default set on the run arrives in the TrainConfig the job layer trains with."""
    train_names = {RENAMED.get(f.name, f.name): f.name for f in fields(TrainConfig)}
    changed = {
        "alpha": 0.3,
        "beta": 0.1,
        "kl": True,
        "symmetric_kl": True,
        "bidirectional_reverse": False,
        "jsd_weight": 0.5,
        "jsd_query": "both",
        "num_negatives": 2,
        "scale": 30.0,
        "mini_batch_size": 4,
        "batch_size": 8,
        "lr": 1e-4,
        "steps": 5,
        "warmup_ratio": 0.1,
        "scheduler": "linear",
        "weight_decay": 0.01,
        "max_grad_norm": 0.5,
        "max_seq_length": 64,
        "max_query_length": 16,
        "freeze_word_embeddings": False,
        "freeze_layers": 2,
        "attention_dropout": False,
        "attention_kernel": "sdpa",
        "seed": 7,
    }
    trained = [f.name for f in fields(RunSettings) if f.name in train_names and f.name != "loss"]
    assert sorted(trained) == sorted(changed)  # a new training setting must be added here too
    run = RunSettings(langs="de", loss="clear", **changed)
    config = run.train_config("rows", "out", "model", SharedSettings(save_steps=3, precision="fp32"))
    for name, value in changed.items():
        assert getattr(config, train_names[name]) == value, name
    assert (config.save_steps, config.precision, config.loss) == (3, "fp32", "clear")
    rows = {f.name for f in fields(RunSettings)} - set(train_names) - {"langs"}
    assert rows == {f.name for f in fields(run.rows)}


def test_reports_name_clear_variants() -> None:
    plan = run_plan({"langs": ("de",), "loss": ("clear",)}, {"symmetric_kl": True}, {"eval_langs": ""})
    (run,) = plan.runs
    assert run.settings.bidirectional_reverse and run.settings.symmetric_kl
    from clearir.training.config import loss_label

    assert loss_label("clear", run.settings) == "clear (bidirectional reverse, symmetric KL)"
    assert loss_label("infonce", run.settings) == "infonce"


@pytest.mark.parametrize(("command", "place"), [("run", "run"), ("ablate", "ablation")])
def test_help_names_every_metric_of_the_registry_shown_there(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], command: str, place: str
) -> None:
    from clearir.metrics.registry import shown_in

    monkeypatch.setenv("COLUMNS", "400")
    monkeypatch.setattr(sys, "argv", ["clearir", command, "--help"])
    with pytest.raises(SystemExit):
        main()
    text = " ".join(capsys.readouterr().out.split())
    labels = [m.label for m in shown_in(place)]
    assert "nDCG@1" in labels and all(label in text for label in labels)
