"""``clearir ablate`` end to end on the real data with a tiny model: two shards in two directories, merged by
copying one directory into the other and ``--report-only``; a second invocation trains nothing; changed
evaluation settings make finished runs stale."""

from __future__ import annotations

import json
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from rich.console import Console

import clearir.experiment.jobs as jobs_module
from clearir.cli.main import main
from clearir.errors import ClearirError
from clearir.evaluation.encoder import model_fingerprint
from clearir.experiment.grid import load_plan
from clearir.experiment.report import write_ablation_report
from clearir.experiment.runner import run_experiment
from clearir.experiment.store import FOCUS, MODELS_DIR, load_finished
from clearir.model.load import load_model
from tests.tiny_model import make_tiny_model

REPORT = ["ablation.json", "summary.md", "report.html", "vs_loss.png"]


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "model"
    make_tiny_model().save(str(path))
    return path


def _grid(tmp_path: Path, tiny_dir: Path) -> Path:
    """de only (the tiny vocabulary is Latin), InfoNCE vs. CLEAR, 2 seeds: 4 runs of 2 steps."""
    text = f"""
[shared]
model = "{tiny_dir}"
cache_dir = "{tmp_path / "cache"}"
eval_max_queries = 10
eval_max_seq_length = 32
significance_resamples = 200
save_steps = 1

[fixed]
langs = "de"
max_rows = 12
num_negatives = 1
steps = 2
batch_size = 4
mini_batch_size = 0
max_seq_length = 32
max_query_length = 16

[grid]
loss = ["infonce", "clear"]
seed = [1, 2]
"""
    path = tmp_path / "grid.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _quiet() -> Console:
    return Console(quiet=True)


def test_shards_merge_and_reuse(tmp_path: Path, tiny_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    grid = _grid(tmp_path, tiny_dir)
    plan_a = load_plan(grid, out=str(tmp_path / "a"))
    plan_b = load_plan(grid, out=str(tmp_path / "b"))
    shard0, shard1 = ([r.id for r in plan_a.shard(i, 2)] for i in range(2))

    loads: list[Path] = []
    load = jobs_module.load_model
    monkeypatch.setattr(jobs_module, "load_model", lambda path: loads.append(path) or load(path))
    first = run_experiment(plan_a, (0, 2), _quiet(), progress=False)
    # Each model (the base model, the shard's two) is loaded once for its evaluations without and with SHIFT,
    # and the second finds every text in the first's embedding cache.
    assert len(loads) == len(set(loads)) == 3
    steps = tmp_path / "a" / "steps"
    for name in ("base", *shard0):
        shifted = json.loads((steps / f"eval-{name}+shift.json").read_text())["result"]
        assert shifted["encoded"] == 0 and shifted["cached"] > 0
    # ... the cache of the model's directory, as when evaluated by path (its files' fingerprint).
    base = load_model(tiny_dir, max_seq_length=32)
    folders = {p.name.split("-")[0] for p in (tmp_path / "cache").iterdir()}
    assert model_fingerprint(base, tiny_dir)[:32] in folders
    second = run_experiment(plan_b, (1, 2), _quiet(), progress=False)
    assert first.trained == shard0 and second.trained == shard1 and not first.reused_runs
    assert "eval-base" in first.computed and "eval-base" in second.computed
    # In each shard, the second run has the first one's rows settings (same seed): they are made once.
    assert first.computed.count("rows-de") == 1 and "rows-de" not in first.reused
    records = load_finished(plan_a).runs
    assert sorted(records) == sorted(shard0)
    assert {r["train"]["global_step"] for r in records.values()} == {2}
    # Models are not kept (keep_models = false); their per-query values are.
    folder = tmp_path / "a" / MODELS_DIR / shard0[0]
    assert not (folder / "model").exists() and not (folder / "checkpoints").exists()
    assert (folder / "loss_log.jsonl").is_file()
    assert any((tmp_path / "a" / records[shard0[0]]["folder"] / "per_query").iterdir())

    # The report of one shard: half the runs, the rest listed as missing.
    files, finished, _ = write_ablation_report(plan_a)
    assert sorted(finished.runs) == sorted(shard0) and [r.id for r in finished.missing] == shard1
    assert set(REPORT) - {"vs_loss.png"} <= set(files)

    # Merge: copy shard 1's directory into shard 0's, then --report-only.
    for name in ("steps", "rows", "models", "eval"):
        shutil.copytree(tmp_path / "b" / name, tmp_path / "a" / name, dirs_exist_ok=True)
    monkeypatch.setattr(
        jobs_module, "train", lambda *a, **k: pytest.fail("--report-only and reuse must not train")
    )
    argv = ["clearir", "ablate", "--grid", str(grid), "--out", str(tmp_path / "a"), "--report-only"]
    monkeypatch.setattr(sys, "argv", argv)
    with pytest.raises(SystemExit) as info:
        main()
    assert info.value.code == 0
    for name in REPORT:
        assert (tmp_path / "a" / name).stat().st_size > 0, name
    document = json.loads((tmp_path / "a" / "ablation.json").read_text())
    assert document["status"] == "4 of 4 runs finished"
    assert [r["status"] for r in document["runs"]] == ["finished"] * 4
    assert {r["host"] for r in document["runs"]} == {records[shard0[0]]["host"]}
    loss = [t for t in document["tests"] if t["family"] == "loss"]
    # CLEAR vs. InfoNCE at matched seeds on every focus target (en→en, de→en, en→de, de→de, mixed pool).
    assert len(loss) == len(FOCUS) and all(t["seeds"] == [1, 2] for t in loss)
    assert all(
        0 < t["p_value"] <= t["p_holm"] <= 1 and t["ci_low"] <= t["diff"] <= t["ci_high"] for t in loss
    )
    assert all(t["variant_label"] == "clear" and t["reference_label"] == "infonce" for t in loss)
    configs = {c["label"]: c for c in document["configs"]}
    assert set(configs) == {"infonce", "clear", "infonce + SHIFT", "clear + SHIFT"}
    assert configs["clear"]["seeds"] == configs["clear + SHIFT"]["seeds"] == [1, 2]
    assert configs["clear + SHIFT"]["shift"] and not configs["clear"]["shift"]
    # SHIFT, fine-tuning, or both: each configuration with and without SHIFT, against the base model + SHIFT.
    families = {t["family"] for t in document["tests"]}
    assert {"SHIFT added", "fine-tuning vs SHIFT", "fine-tuning + SHIFT vs SHIFT"} <= families
    added = [t for t in document["tests"] if t["family"] == "SHIFT added"]
    assert {(t["variant_label"], t["reference_label"]) for t in added} == {
        ("base model + SHIFT", "base model"),
        ("infonce + SHIFT", "infonce"),
        ("clear + SHIFT", "clear"),
    }
    # SHIFT moves only the de documents: en→en is the same with and without it.
    assert all(t["diff"] == 0 for t in added if t["task"] == "en→en")
    assert document["base"]["shift_values"]
    html = (tmp_path / "a" / "report.html").read_text()
    assert "<script" not in html and html.count("data:image/png;base64,") == 1
    assert "Comparisons: loss" in html and "English retention" in html and "base model + SHIFT" in html

    # Everything finished: a full invocation trains nothing and evaluates nothing.
    again = run_experiment(plan_a, console=_quiet(), progress=False)
    assert again.trained == [] and again.reused_runs == [r.id for r in plan_a.runs] and again.computed == []

    # Other evaluation settings: the finished runs are stale (done again by the next invocation).
    changed = load_plan(grid, out=str(tmp_path / "a"), set_=["eval_max_queries=6"])
    with pytest.raises(ClearirError, match="no base-model evaluation of these settings"):
        load_finished(changed)
    monkeypatch.setattr(jobs_module, "train", lambda *a, **k: pytest.fail("stop"))
    with pytest.raises(pytest.fail.Exception, match="stop"):
        run_experiment(changed, console=_quiet(), progress=False)
    stale = load_finished(changed)
    assert stale.runs == {} and [r.id for r in stale.stale] == [r.id for r in plan_a.runs]


def test_report_needs_the_base_evaluation(tmp_path: Path, tiny_dir: Path) -> None:
    plan = load_plan(_grid(tmp_path, tiny_dir), out=str(tmp_path / "p"))
    with pytest.raises(
        ClearirError, match="has no base-model evaluation of these settings; run the experiment"
    ):
        load_finished(plan)


def test_eval_scope_own(tmp_path: Path, tiny_dir: Path) -> None:
    """``eval_scope = "own"``: a fine-tuned model is evaluated on its training language only, a multilingual
    one also on ``eval_langs``, the base model on every language."""
    text = _grid(tmp_path, tiny_dir).read_text(encoding="utf-8")
    text = text.replace("[shared]\n", '[shared]\neval_scope = "own"\neval_langs = ["es"]\n')
    text = text.replace("seed = [1, 2]", "seed = [1]").replace(
        'loss = ["infonce", "clear"]', 'loss = ["infonce"]'
    )
    grid = tmp_path / "own.toml"
    grid.write_text(
        text + '\n[[grid]]\nlangs = ["de+es"]\nloss = ["infonce"]\nseed = [1]\n', encoding="utf-8"
    )
    grid.write_text(grid.read_text().replace("[grid]\nloss", "[[grid]]\nloss", 1), encoding="utf-8")
    plan = load_plan(grid, out=str(tmp_path / "own"))
    single, multi = plan.runs
    assert plan.model_langs(None) == ("de", "es") and plan.model_langs(single) == ("de",)
    assert plan.model_langs(multi) == ("de", "es")
    run_experiment(replace(plan, runs=(single,)), console=_quiet(), progress=False)
    finished = load_finished(plan)
    tasks = [e["task"] for e in finished.runs[single.id]["entries"]]
    base = [e["task"] for e in finished.base["base"]["entries"]]
    assert tasks and all("es" not in t for t in tasks)
    assert any("-es" in t for t in base) and set(tasks) < set(base)


def test_rows_remade_when_a_reused_run_left_none(tmp_path: Path, tiny_dir: Path) -> None:
    """A grid extended on a new machine: the finished run is reused from its records, but the rows it shares
    with the next run are gone (not committed): they are made again, not trained on as a missing folder."""
    text = _grid(tmp_path, tiny_dir).read_text(encoding="utf-8").replace("seed = [1, 2]", "seed = [1]")
    grid = tmp_path / "one_seed.toml"
    grid.write_text(text, encoding="utf-8")
    plan = load_plan(grid, out=str(tmp_path / "x"))
    first, second = plan.runs
    run_experiment(replace(plan, runs=(first,)), console=_quiet(), progress=False)
    shutil.rmtree(tmp_path / "x" / "rows")
    again = run_experiment(plan, console=_quiet(), progress=False)
    assert again.reused_runs == [first.id] and again.trained == [second.id]
    assert "rows-de" in again.computed and any((tmp_path / "x" / "rows").iterdir())
