"""``clearir data build-train`` through the real entry point: output directory, report, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from datasets import load_from_disk

from clearir.rows.build import JSONL_FILE, REPORT_FILE, row_columns
from tests.cli_runner import run


def test_build_train_writes_rows_and_report(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "rows"
    args = ["data", "build-train", "--langs", "de,hi", "--max-rows", "30", "--num-negatives", "3"]
    code, stdout, _ = run([*args, "--out", str(out), "--jsonl", "--seed", "1"], monkeypatch, capsys)
    assert code == 0, stdout
    rows = load_from_disk(str(out))
    assert rows.column_names == row_columns(3) and len(rows) == 60
    report = json.loads((out / REPORT_FILE).read_text(encoding="utf-8"))
    assert report["options"] | {"data_dir": None} == {
        "dataset": "mlqa", "langs": ["de", "hi"], "pivot": "en", "num_negatives": 3, "window": [50, 100],
        "miner": "bm25", "seed": 1, "max_rows": 30, "model": None, "data_dir": None,
    }  # fmt: skip
    assert [lang["rows"] for lang in report["languages"]] == [30, 30]
    assert len((out / JSONL_FILE).read_text(encoding="utf-8").splitlines()) == 60
    assert "60 rows saved to" in stdout and "dropped: too few negatives" in stdout

    code, _, err = run([*args, "--out", str(out)], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and "--overwrite" in err


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--langs", "de", "--window", "50-100"], "--window '50-100': expected LO:HI"),
        (["--langs", "de", "--window", "100:50"], "--window 100:50: expected LO:HI"),
        (["--langs", "xx"], "--langs: unknown language 'xx'"),
        (["--langs", "de", "--num-negatives", "-2"], "--num-negatives -2"),
        (["--langs", "de", "--max-rows", "0"], "--max-rows 0"),
        (["--langs", "de", "--dataset", "xquad", "--miner", "sparse"], "--miner 'sparse'"),
    ],
)
def test_bad_options_are_one_line_errors(
    options: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    code, _, err = run(["data", "build-train", "--out", str(tmp_path / "x"), *options], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "x").exists()
