"""``clearir train`` through the real entry point: a tiny run, its output, and errors as one line."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest
from sentence_transformers import SentenceTransformer

from clearir.fields import flag_of
from clearir.training.config import TrainConfig
from tests.cli_runner import run
from tests.train_data import tiny_model_dir, write_rows

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_help_lists_every_setting_with_its_default(monkeypatch, capsys) -> None:
    code, out, _ = run(["train", "--help"], monkeypatch, capsys)
    assert code == 0
    for flag in (
        "--alpha",
        "--beta",
        "--no-kl",
        "--symmetric-kl",
        "--bidirectional-reverse",
        "--num-negatives",
        "--mini-batch-size",
        "--gather-across-devices",
        "--max-query-length",
        "--train-word-embeddings",
        "--freeze-layers",
        "--resume",
    ):
        assert flag in out
    for f in fields(TrainConfig):  # the options are generated from the configuration's fields
        assert flag_of(f).split("/")[0] in out, f.name
    assert out.count("[required]") == 2  # --data and --out
    assert "[default: 0.4]" in out and "[default: cosine]" in out and "[default: 128]" in out
    assert "(default: the built default model)" in out


def test_train_command_writes_a_model(tmp_path: Path, monkeypatch, capsys) -> None:
    model = tiny_model_dir(tmp_path / "tiny")
    rows = write_rows(tmp_path / "rows", rows=8, num_negatives=1)
    out = tmp_path / "run"
    args = [
        "train",
        "--model",
        str(model),
        "--data",
        str(rows),
        "--out",
        str(out),
        "--loss",
        "clear",
        "--no-kl",
        "--bidirectional-reverse",
        "--alpha",
        "0.3",
        "--num-negatives",
        "1",
        "--batch-size",
        "4",
        "--max-steps",
        "2",
        "--lr",
        "1e-3",
        "--max-seq-length",
        "32",
        "--max-query-length",
        "16",
        "--mini-batch-size",
        "3",
        "--seed",
        "7",
    ]
    code, stdout, stderr = run(args, monkeypatch, capsys)
    assert code == 0, stderr
    assert stdout == ""  # the trainer's log lines go to the log file, the summary to stderr
    assert f"model: {out / 'model'}" in stderr and "trained 2 steps on 8 rows" in stderr
    saved = TrainConfig.load(out / "model" / "clearir_train.json")
    assert (saved.kl, saved.alpha, saved.mini_batch_size, saved.seed, saved.max_query_length) == (
        False,
        0.3,
        3,
        7,
        16,
    )
    assert saved.bidirectional_reverse and not saved.symmetric_kl
    assert SentenceTransformer(str(out / "model"), device="cpu").encode(["a city"]).shape == (1, 32)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--data", "{tmp}/nowhere"], "--data {tmp}/nowhere: no such directory"),
        (["--data", "{tmp}", "--loss", "triplet"], "--loss 'triplet': expected one of"),
    ],
)
def test_errors_are_one_line(tmp_path: Path, monkeypatch, capsys, args: list[str], message: str) -> None:
    args = [a.format(tmp=tmp_path) for a in args]
    code, _, err = run(
        ["train", "--model", str(tmp_path), "--out", str(tmp_path / "run"), *args], monkeypatch, capsys
    )
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp_path) in err
