"""``clearir run`` end to end on the real data with a tiny model: the report, reuse of finished steps, a
changed setting redoing only what depends on it, an interrupted fine-tuning resuming from its checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from transformers import TrainerCallback

import clearir.experiment.jobs as jobs
from clearir.errors import ClearirError
from clearir.evaluation.results import TASKS_DIR
from clearir.experiment.models_report import write_models_report
from clearir.experiment.preset import run_plan
from clearir.experiment.runner import Outcome, run_experiment
from clearir.experiment.steps import read_log
from clearir.report import RunResults, load_results
from tests.tiny_model import make_tiny_model

EVALS = ["eval-base", "eval-base+shift", "eval-infonce-de", "eval-infonce-de+shift"]
EVALS += ["eval-clear-de", "eval-clear-de+shift"]
STEPS = ["eval-base", "eval-base+shift", "rows-de", "train-infonce-de", "eval-infonce-de"]
STEPS += ["eval-infonce-de+shift", "train-clear-de", "eval-clear-de", "eval-clear-de+shift"]
REPORT = [
    "summary.md",
    "report.html",
    "results.json",
    "ndcg_by_direction.png",
    "mixed_pool.png",
    "loss_curves.png",
]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "model"
    make_tiny_model().save(str(path))
    return path


def _run(
    tmp_path: Path, tiny_dir: Path, losses: tuple[str, ...] = ("infonce", "clear"), **changes: object
) -> tuple[Outcome, RunResults]:
    """``clearir run``'s grid, very small: de (Latin script, which the tiny vocabulary covers), es
    zero-shot, 2 steps; its outcome and models report."""
    fixed = {"max_rows": 16, "num_negatives": 2, "steps": 2, "batch_size": 4, "max_seq_length": 64}
    fixed["max_query_length"] = 16
    shared: dict[str, object] = {
        "out": str(tmp_path / "run"),
        "eval_langs": ("es",),
        "model": str(tiny_dir),
        "save_steps": 1,
        "eval_max_queries": 12,
        "eval_max_seq_length": 0,
        "cache_dir": str(tmp_path / "cache"),
        "significance_resamples": 200,
    }
    for key, value in changes.items():
        (shared if key in shared or key in ("scenarios", "shift") else fixed)[key] = value
    plan = run_plan({"langs": ("de",), "loss": losses}, fixed, shared)
    outcome = run_experiment(plan, progress=False, command="clearir run")
    return outcome, write_models_report(plan, outcome)


def _actions(run_dir: Path, since: int) -> dict[str, str]:
    return {line["label"]: line["action"] for line in read_log(run_dir)[since:]}


def test_run_writes_report_and_reuses_finished_steps(tmp_path: Path, tiny_dir: Path) -> None:
    first, results = _run(tmp_path, tiny_dir)
    run_dir = first.out
    assert first.computed == STEPS and first.reused == []
    for name in REPORT:
        assert (run_dir / name).stat().st_size > 0, name

    assert load_results(run_dir / "results.json").evaluations == results.evaluations
    names = ["base", "base+shift", "infonce-de", "infonce-de+shift", "clear-de", "clear-de+shift"]
    assert [m.name for m in results.models] == names
    assert results.model("shift", "es").name == "base+shift"  # training-free: stands for every language
    assert results.model("clear (bidirectional reverse) + shift", "de").name == "clear-de+shift"
    # 11 tasks per model: en→en, de→de, es→es; de↔en, es↔en; 4 bilingual pools.
    assert len(results.evaluations) == 6 * 11
    # SHIFT (no renormalisation) leaves single-language pools as they are and moves the mixed pools.
    by_key = {(e.model, e.key): e.metrics for e in results.evaluations}
    for e in results.evaluations:
        if e.model.endswith("+shift"):
            plain = by_key[(e.model.removesuffix("+shift"), e.key)]
            if not e.is_mixed:
                assert e.metrics == plain, e
    mixed_moved = [
        e
        for e in results.evaluations
        if e.model.endswith("+shift") and e.is_mixed and e.metrics != by_key[(e.model[:-6], e.key)]
    ]
    assert mixed_moved
    clear_model = next(m for m in results.models if m.name == "clear-de")
    run_id = Path(clear_model.path).parent.name
    shift_file = json.loads(
        (
            run_dir / "eval" / "clearir" / f"{run_id}+shift" / TASKS_DIR / "xquad-bilingual-es-en+es.json"
        ).read_text()
    )
    assert shift_file["clearir"]["shift"]["provenance"]["es"]["source"] == "registry:mlqa"
    mixed = next(
        e for e in results.evaluations if e.model == "clear-de" and e.query_lang == "de" and e.is_mixed
    )
    assert mixed.doc_langs == ("en", "de") and mixed.num_queries == 12
    assert {"ndcg_at_10", "max_rank_mean", "complete_at_10", "inclination_share"} <= set(mixed.metrics)
    curves = {c.model: c for c in results.loss_curves}
    assert curves["clear-de"].steps == (1, 2)
    assert {"loss", "forward", "reverse", "kl"} <= set(curves["clear-de"].components)
    # The weighted components sum to the loss at every step.
    clear = curves["clear-de"].components
    for i in range(2):
        assert clear["forward"][i] + clear["reverse"][i] + clear["kl"][i] == pytest.approx(
            clear["loss"][i], abs=1e-3
        )
    assert {s.model for s in results.significance} == set(names[1:])
    assert all(0 < s.p_value <= 1 for s in results.significance)
    # Fine-tune, SHIFT, or both: each fine-tuned model and its SHIFT variant vs. base + SHIFT and each other.
    pairs = {(s.model, s.reference) for s in results.significance}
    assert pairs == {(name, "base") for name in names[1:]} | {
        (f"{loss}-de", "base+shift") for loss in ("infonce", "clear")
    } | {(f"{loss}-de+shift", "base+shift") for loss in ("infonce", "clear")} | {
        (f"{loss}-de+shift", f"{loss}-de") for loss in ("infonce", "clear")
    }
    for s in results.significance:
        # The tested difference is the difference of the reported means.
        assert s.diff == pytest.approx(
            by_key[(s.model, s.key)][s.metric] - by_key[(s.reference, s.key)][s.metric], abs=1e-9
        ), s
    # Without renormalisation SHIFT leaves the direct directions alone: M+shift - M is exactly 0 there.
    assert all(
        s.diff == 0 and s.p_value == 1
        for s in results.significance
        if s.reference == "clear-de" and s.doc_langs in (("en",), ("de",))
    )
    # Finished models keep no checkpoints; the run directory keeps rows, models and per-model results.
    assert not (run_dir / "models" / run_id / "checkpoints").exists()
    assert (run_dir / clear_model.path / "config.json").is_file()
    assert (run_dir / "eval" / "clearir" / "base" / "per_query").is_dir()
    html = (run_dir / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 3 and "es (zero-shot, trained on de)" in html
    summary = (run_dir / "summary.md").read_text()
    for text in (summary, html):
        assert "Fine-tune, SHIFT, or both" in text and "FT = clear-de (clear (bidirectional reverse))" in text
    assert "| de→en+de | Complete@10 |" in summary and "| en→en | nDCG@10 |" in summary

    # Same settings again: nothing is recomputed, the results are the same.
    logged = len(read_log(run_dir))
    second, second_results = _run(tmp_path, tiny_dir)
    assert second.computed == [] and second.reused == STEPS
    assert _actions(run_dir, logged) == dict.fromkeys(STEPS, "reused")
    assert second_results.evaluations == results.evaluations
    assert second.seconds < first.seconds / 2
    assert all(t.reused for t in second_results.timings if t.phase in STEPS)

    # A changed evaluation setting redoes the evaluations only.
    logged = len(read_log(run_dir))
    third, third_results = _run(tmp_path, tiny_dir, eval_max_queries=6)
    assert third.computed == EVALS
    assert third.reused == ["rows-de", "train-infonce-de", "train-clear-de"]
    assert {e.num_queries for e in third_results.evaluations if e.query_lang == "de"} == {6}
    assert _actions(run_dir, logged)["eval-base"] == "computed"


def test_a_run_directory_of_the_old_layout_is_refused(tmp_path: Path, tiny_dir: Path) -> None:
    old = tmp_path / "run"
    (old / "steps").mkdir(parents=True)
    (old / "steps" / "train-infonce-hi.json").write_text("{}")
    with pytest.raises(ClearirError, match=r"made by clearir before its one experiment engine .*remove it"):
        _run(tmp_path, tiny_dir)


class _Interrupt(TrainerCallback):
    """Stops training right after the first checkpoint is saved, as a kill would."""

    def on_save(self, args, state, control, **kwargs):
        raise KeyboardInterrupt


def test_interrupted_fine_tuning_resumes_from_its_checkpoint(
    tmp_path: Path, tiny_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = {"losses": ("infonce",), "eval_langs": (), "scenarios": ("crosslingual",), "shift": False}
    real_train = jobs.train
    monkeypatch.setattr(jobs, "train", lambda cfg, **kw: real_train(cfg, callbacks=[_Interrupt()], **kw))
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, tiny_dir, **settings)
    run_dir = tmp_path / "run"
    (model_dir,) = (run_dir / "models").iterdir()
    assert (model_dir / "checkpoints" / "checkpoint-1").is_dir()
    assert not (run_dir / "steps" / f"train-{model_dir.name}.json").exists()

    monkeypatch.setattr(jobs, "train", real_train)
    outcome, results = _run(tmp_path, tiny_dir, **settings)
    assert outcome.reused == ["eval-base", "rows-de"]
    assert outcome.computed == ["train-infonce-de", "eval-infonce-de"]
    record = json.loads((run_dir / "steps" / f"train-{model_dir.name}.json").read_text())["result"]
    assert record["resumed_from"] == f"models/{model_dir.name}/checkpoints/checkpoint-1"
    assert record["global_step"] == 2
    # The loss log holds each step once.
    curve = next(c for c in results.loss_curves if c.model == "infonce-de")
    assert curve.steps == (1, 2)
