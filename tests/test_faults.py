"""Fault injection through the real ``clearir`` command in subprocesses (issue 14): every failure ends as one
line with the right exit code and leaves no half-written output; kill -9 of ``clearir eval`` and ``clearir
train`` at several points, then a re-run or ``--resume``, gives the results of an uninterrupted run.

The tiny test model keeps each command fast; commands run with one torch thread.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.results import CLEARIR_DIR, clearir_folder
from clearir.evaluation.scenarios import build_tasks
from clearir.training.config import TrainConfig
from clearir.training.rundir import CHECKPOINTS, last_checkpoint
from clearir.training.trainer import train
from tests.eval_data import make_data_dir
from tests.train_data import tiny_model_dir, weights, write_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")

REPO = Path(__file__).resolve().parents[1]
TRAIN_ARGS = ["--num-negatives", "2", "--batch-size", "4", "--max-steps", "4", "--max-seq-length", "32"]
EVAL_ARGS = [
    "--langs",
    "de",
    "--scenarios",
    "crosslingual,bilingual",
    "--max-queries",
    "5",
    "--model-name",
    "tiny",
]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny model, training rows and a tiny data directory."""
    root = tmp_path_factory.mktemp("faults")
    tiny_model_dir(root / "model")
    write_rows(root / "rows", rows=16)
    make_data_dir(root / "data")
    return root


def _env(home: Path) -> dict[str, str]:
    env = {**os.environ, "CLEARIR_HOME": str(home), "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "src"), str(REPO), env.get("PYTHONPATH", "")])
    env.pop("CLEARIR_DEBUG", None)
    return env


def clearir(
    args: list[str], home: Path, preexec: Callable[[], None] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "clearir.cli.main", *args],
        capture_output=True,
        text=True,
        env=_env(home),
        timeout=300,
        preexec_fn=preexec,
    )


def start(args: list[str], home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "clearir.cli.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(home),
    )


def kill_when(proc: subprocess.Popen[str], ready: Callable[[], bool], timeout: float = 240) -> bool:
    """kill -9 ``proc`` as soon as ``ready()``; whether it was killed (False: it ended first)."""
    return kill_each_when([(proc, ready)], timeout) == [True]


def kill_each_when(
    jobs: list[tuple[subprocess.Popen[str], Callable[[], bool]]], timeout: float = 240
) -> list[bool]:
    """kill -9 each process as soon as its condition holds, watching all at once; which were killed."""
    killed = [False] * len(jobs)
    deadline = time.monotonic() + timeout
    while any(proc.poll() is None for proc, _ in jobs) and time.monotonic() < deadline:
        for i, (proc, ready) in enumerate(jobs):
            if proc.poll() is None and ready():
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                killed[i] = True
        time.sleep(0.005)
    for proc, _ in jobs:
        proc.wait()
    return killed


def one_error_line(proc: subprocess.CompletedProcess[str], code: int, *parts: str, alone: bool = True) -> str:
    """Assert exit ``code``, no traceback and exactly one ``error:`` line, the last, holding ``parts``; with
    ``alone``, nothing else on stderr but the usage line of a usage error. Return the error line."""
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("error: ")]
    assert len(errors) == 1 and lines[-1] == errors[0], proc.stderr
    assert not alone or len(lines) == 1 or (len(lines) == 2 and lines[0].startswith("Usage: ")), proc.stderr
    for part in parts:
        assert part in errors[0], proc.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["data", "build-train", "--langs", "de"], "Missing option '--out'"),
        (["eval", "--max-querys", "30"], "No such option: --max-querys"),
        (["train", "--data", "x", "--out", "y", "--max-steps", "two"], "Invalid value for '--max-steps'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
    ],
)
def test_usage_errors_are_the_usage_line_and_one_error_line(args, message, tmp_path: Path) -> None:
    proc = clearir(args, tmp_path / "home")
    one_error_line(proc, 2, message)
    assert proc.stderr.startswith("Usage: clearir")


def test_settings_and_names_are_checked_before_any_work(files: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["train", "--data", str(files / "rows"), "--out", str(out), "--model", str(files / "model")]
    one_error_line(
        clearir([*args, "--lr", "inf"], tmp_path / "home"), 2, "--lr inf: expected a finite number"
    )
    assert not out.exists()
    proc = clearir(["eval", "--out", str(out), "--model-name", "../../x"], tmp_path / "home")
    one_error_line(proc, 2, "--model-name '../../x'")
    assert not out.exists() and not (tmp_path.parent / "x").exists()


def test_blank_question_and_a_dataset_path_that_is_a_directory(files: Path, tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    squad = json.loads((data / "xquad" / "xquad.de.json").read_text())
    squad["data"][1]["paragraphs"][0]["qas"][1]["question"] = "  "
    (data / "xquad" / "xquad.de.json").write_text(json.dumps(squad))
    proc = clearir(["data", "list", "--data-dir", str(data)], tmp_path / "home")
    one_error_line(proc, 2, "xquad.de.json: data[1].paragraphs[0].qas[1].question is empty")
    (data / "xquad" / "xquad.de.json").unlink()
    (data / "xquad" / "xquad.de.json").mkdir()
    proc = clearir(["data", "list", "--data-dir", str(data)], tmp_path / "home")
    one_error_line(proc, 2, "xquad.de.json: is not a file")


def test_an_unexpected_error_is_one_line_and_a_log_with_the_traceback(tmp_path: Path) -> None:
    bug = (
        "import clearir.cli.data as d\n"
        "def boom(*args): raise RuntimeError('an injected bug')\n"
        "d.find_data_dir = boom\n"
        "from clearir.cli.main import main\n"
        "main()\n"
    )
    run = [sys.executable, "-c", bug, "data", "list"]
    proc = subprocess.run(run, capture_output=True, text=True, env=_env(tmp_path / "home"), timeout=120)
    line = one_error_line(proc, 1, "unexpected RuntimeError: an injected bug", "the traceback is in")
    (log,) = (tmp_path / "home" / "logs").iterdir()
    assert str(log) in line and "Traceback" in log.read_text() and "an injected bug" in log.read_text()
    debug = subprocess.run([*run, "--debug"], capture_output=True, text=True, env=_env(tmp_path / "home"))
    assert debug.returncode == 1 and "Traceback" in debug.stderr  # for developers


def test_a_damaged_model_is_one_line_naming_the_file(files: Path, tmp_path: Path) -> None:
    damaged = tmp_path / "damaged"
    shutil.copytree(files / "model", damaged)
    weights_file = damaged / "model.safetensors"
    weights_file.write_bytes(weights_file.read_bytes()[:-1000])  # truncated
    args = ["eval", "--model", str(damaged), "--data-dir", str(files / "data"), "--out", str(tmp_path / "r")]
    proc = clearir([*args, *EVAL_ARGS], tmp_path / "home")
    one_error_line(proc, 2, f"model {damaged} is damaged", "model.safetensors is")
    assert not (tmp_path / "r").exists()


def test_disk_full_during_eval_keeps_the_previous_result(files: Path, tmp_path: Path) -> None:
    out = tmp_path / "r"
    evaluate_model(
        files / "model",
        build_tasks(["xquad"], ["de"], ["crosslingual", "bilingual"], files / "data", 5),
        out,
        model_name="tiny",
        progress=False,
    )
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def small_files() -> None:  # every file written is cut at 1 kB: a full disk for the tasks' files
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    args = ["eval", "--model", str(files / "model"), "--data-dir", str(files / "data"), "--out", str(out)]
    proc = clearir([*args, *EVAL_ARGS, "--no-cache"], tmp_path / "home", preexec=small_files)
    one_error_line(proc, 2, "cannot write", str(clearir_folder(out, "tiny")), "size limit")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # the previous complete result, and no staging folder left beside it


def test_kill_eval_at_several_points_then_a_rerun_gives_the_uninterrupted_results(
    files: Path, tmp_path: Path
) -> None:
    reference = tmp_path / "reference"
    evaluate_model(
        files / "model",
        build_tasks(["xquad"], ["de"], ["crosslingual", "bilingual"], files / "data", 5),
        reference,
        model_name="tiny",
        progress=False,
    )
    home, out = tmp_path / "home", tmp_path / "r"
    args = ["eval", "--model", str(files / "model"), "--data-dir", str(files / "data"), "--out", str(out)]
    began = time.monotonic()
    kill_when(start([*args, *EVAL_ARGS], home), lambda: time.monotonic() - began > 1.0)  # starting up
    assert not out.exists()
    shards = lambda: list((home / "embeddings").rglob("*.npz"))  # noqa: E731
    kill_when(start([*args, *EVAL_ARGS], home), lambda: bool(shards()))  # encoded, then scoring
    if clearir_folder(out, "tiny").exists():  # it may have been written before the kill: then it is whole
        assert (clearir_folder(out, "tiny") / "summary.csv").is_file()
    (shard,) = shards()
    shard.write_bytes(b"damaged")  # a shard cut short, as a full disk or a crash might leave it
    proc = clearir([*args, *EVAL_ARGS], home)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    assert "warning: " in proc.stderr and "damaged embedding cache shard" in proc.stderr
    assert [p.name for p in out.iterdir()] == [CLEARIR_DIR]
    assert [p.name for p in (out / CLEARIR_DIR).iterdir()] == ["tiny"]  # no staging folder left
    want_dir, got_dir = clearir_folder(reference, "tiny"), clearir_folder(out, "tiny")
    for path in want_dir.rglob("*.json"):
        got = json.loads((got_dir / path.relative_to(want_dir)).read_text())
        want = json.loads(path.read_text())
        key = "scores" if "scores" in want else "values"
        assert _rounded(got[key]) == _rounded(want[key]), path.name


def _rounded(value: object) -> object:
    """JSON values with floats rounded to 6 digits (the timing fields are left out by the caller)."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return round(value, 6) if isinstance(value, float) else value


def _same_weights(a: Path, b: Path) -> None:
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        torch.testing.assert_close(wb[name], wa[name], rtol=0, atol=1e-5, msg=name)


def test_kill_train_at_several_points_then_rerun_or_resume_matches_an_uninterrupted_run(
    files: Path, tmp_path: Path
) -> None:
    model, rows = str(files / "model"), str(files / "rows")
    reference = train(
        TrainConfig(
            data=rows,
            out=str(tmp_path / "reference"),
            model=model,
            num_negatives=2,
            batch_size=4,
            max_steps=4,
            max_seq_length=32,
        )
    )
    home = tmp_path / "home"
    early, late = tmp_path / "early", tmp_path / "late"

    def args(out: Path, *extra: str) -> list[str]:
        return ["train", "--data", rows, "--out", str(out), "--model", model, *TRAIN_ARGS, *extra]

    # Before the first checkpoint (the only one is at the end), and after checkpoint 1 of 4: both at once.
    first = start(args(early, "--save-steps", "4"), home)
    second = start(args(late, "--save-steps", "1"), home)
    killed = kill_each_when(
        [
            (first, lambda: (early / "clearir_train.json").is_file()),
            (second, lambda: (late / CHECKPOINTS / "checkpoint-1").is_dir()),
        ]
    )
    assert killed == [True, True]
    assert not (early / "model").exists() and not (late / "model").exists()
    for checkpoint in (late / CHECKPOINTS).glob("checkpoint-*"):  # visible only when complete
        assert (checkpoint / "trainer_state.json").is_file() and (checkpoint / "clearir_files.json").is_file()

    rerun = clearir(args(early, "--save-steps", "4"), home)  # a plain re-run is not at a dead end
    assert rerun.returncode == 0 and "Traceback" not in rerun.stderr, rerun.stderr
    assert "starting it again" in rerun.stderr
    resumed = clearir(args(late, "--save-steps", "1", "--resume"), home)
    assert resumed.returncode == 0 and "Traceback" not in resumed.stderr, resumed.stderr
    _same_weights(reference.model_dir, early / "model")
    _same_weights(reference.model_dir, late / "model")
    result = json.loads((late / "train_result.json").read_text())
    assert result["global_step"] == 4 and result["train_loss"] == pytest.approx(
        reference.train_loss, abs=1e-5
    )

    # --resume of the finished run: nothing to do, no phantom step.
    config = TrainConfig.load(late / "clearir_train.json")
    again = train(replace(config, resume=True))
    assert again.global_step == 4 and sorted(p.name for p in (late / CHECKPOINTS).iterdir()) == [
        "checkpoint-3",
        "checkpoint-4",
    ]

    # A damaged checkpoint is skipped for the last whole one; a pickle torch refuses is one clear line.
    (late / "model").rename(late / "model.old")
    (late / "train_result.json").unlink()
    latest = late / CHECKPOINTS / "checkpoint-4"
    (latest / "optimizer.pt").write_bytes(b"cut")
    assert last_checkpoint(late / CHECKPOINTS) == late / CHECKPOINTS / "checkpoint-3"
    shutil.rmtree(latest)
    unsafe = late / CHECKPOINTS / "checkpoint-3"
    (unsafe / "clearir_files.json").unlink()  # e.g. a checkpoint written by another tool
    (unsafe / "optimizer.pt").write_bytes(pickle.dumps(print, protocol=2))
    proc = clearir(args(late, "--save-steps", "1", "--resume"), home)
    # (the libraries' progress bars and warnings from loading the model come before it on stderr)
    one_error_line(proc, 2, "checkpoint-3 holds a file that torch refuses", "Unsupported global", alone=False)
