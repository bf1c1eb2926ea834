"""``clearir run``'s command line: defaults shown from RunConfig, and bad input as one-line errors."""

from __future__ import annotations

import sys

import pytest

from clearir.cli.main import main
from clearir.errors import ClearirError
from clearir.experiment.preset import RunConfig, step_key
from clearir.training.config import TrainConfig


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["clearir", "run", *args])
    with pytest.raises(SystemExit) as exit_info:
        main()
    captured = capsys.readouterr()
    return int(exit_info.value.code or 0), " ".join((captured.out + captured.err).split())


def test_help_shows_every_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, text = _run(monkeypatch, capsys, "--help")
    assert code == 0
    defaults = RunConfig()
    for flag, shown in (
        ("--langs", ",".join(defaults.langs)),
        ("--losses", ",".join(defaults.losses)),
        ("--steps", str(defaults.steps)),
        ("--out", defaults.out),
        ("--eval-max-queries", str(defaults.eval_max_queries)),
        ("--window", "50:100"),
    ):
        assert flag in text and f"[default: {shown}]" in text, flag


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--losses", "infonce,bogus"], "error: --losses 'bogus': expected some of clear, infonce"),
        (["--langs", "en"], "error: --langs: English is the pivot language"),
        (["--langs", "../x"], "error: --langs '../x': expected letters, digits, - or _ only"),
        (["--langs", " , "], "error: --langs is empty"),
        (["--steps", "0"], "error: --steps 0: expected a positive integer"),
        (["--window", "100"], "error: --window '100': expected LO:HI"),
        (["--window", "50,100"], "error: --window '50,100': expected LO:HI"),
        (["--window", "9:3"], "error: --window 9:3: expected LO:HI, two integers with 0 <= LO < HI"),
        (["--scenarios", "bitext"], "error: --scenarios 'bitext': expected some of monolingual"),
        (["--alpha", "0.9"], "error: --alpha 0.9 --beta 0.2: expected non-negative weights"),
        (["--no-kl", "--symmetric-kl"], "error: --symmetric-kl needs the KL term: drop --no-kl"),
    ],
)
def test_bad_input_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, text = _run(monkeypatch, capsys, *args)
    assert code == 2
    assert message in text
    assert "Traceback" not in text


def test_config_and_step_keys() -> None:
    config = RunConfig(langs=("hi", "de"), eval_langs=("de", "ar"))
    assert config.all_eval_langs == ("hi", "de", "ar")
    assert step_key("rows", ["hi", 5]) == step_key("rows", ["hi", 5])
    assert step_key("rows", ["hi", 5]) != step_key("rows", ["hi", 4])
    with pytest.raises(ClearirError, match="values must not repeat"):
        RunConfig(losses=("clear", "clear"))
    assert RunConfig(eval_langs=()).all_eval_langs == ("hi",)


def test_run_trains_with_clearir_train_defaults() -> None:
    """One recipe: clearir run fine-tunes with clearir train's defaults."""
    run, train = RunConfig(), TrainConfig(data="rows", out="out")
    same = [
        "batch_size",
        "mini_batch_size",
        "lr",
        "warmup_ratio",
        "scheduler",
        "max_seq_length",
        "max_query_length",
        "alpha",
        "beta",
        "kl",
        "symmetric_kl",
        "bidirectional_reverse",
        "scale",
        "freeze_layers",
        "seed",
        "num_negatives",
        "save_steps",
        "precision",
    ]
    assert {name: getattr(run, name) for name in same} == {name: getattr(train, name) for name in same}
    assert run.steps == train.max_steps


def test_reports_name_clear_variants() -> None:
    config = RunConfig(bidirectional_reverse=True, symmetric_kl=True)
    assert config.loss_label("clear") == "clear (bidirectional reverse, symmetric KL)"
    assert config.loss_label("infonce") == "infonce"
    paper = RunConfig(bidirectional_reverse=False, symmetric_kl=False)
    assert paper.loss_label("clear") == "clear"
