"""``clearir eval`` through the real entry point: a run on a saved tiny model, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearir.precision import resolve_precision
from tests.cli_runner import run
from tests.eval_data import make_data_dir
from tests.tiny_model import make_tiny_model


def test_eval_writes_results_and_reuses_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    model_dir = tmp_path / "tiny-model"
    make_tiny_model().save(str(model_dir))
    monkeypatch.setenv("CLEARIR_HOME", str(tmp_path / "home"))
    data = make_data_dir(tmp_path / "data")
    args = [
        "eval",
        "--model",
        str(model_dir),
        "--data-dir",
        str(data),
        "--langs",
        "de",
        "--out",
        str(tmp_path / "r"),
    ]
    first = [*args, "--scenarios", "crosslingual,bilingual", "--max-queries", "5", "--model-name", "tiny"]
    code, out, err = run(first, monkeypatch, capsys)
    assert code == 0, err
    assert "xquad" in out and "de→en+de" in out
    assert "4 tasks" in err and "22 unique, 0 from the cache, 22 encoded" in err  # 2 x (6 paragraphs + 5 q.)
    written = sorted(p.name for p in (tmp_path / "r" / "clearir" / "tiny" / "tasks").glob("*.json"))
    assert written == sorted(
        f"xquad-{name}.json"
        for name in ("crosslingual-de-en", "crosslingual-en-de", "bilingual-de-en+de", "bilingual-en-en+de")
    )
    task = json.loads(
        (tmp_path / "r" / "clearir" / "tiny" / "tasks" / "xquad-crosslingual-de-en.json").read_text()
    )
    assert task["clearir"]["num_queries"] == 5
    assert task["clearir"]["precision"] == resolve_precision("auto")
    assert list((tmp_path / "home" / "embeddings").rglob("*.npz"))
    code, _, err = run([*args, "--scenarios", "crosslingual", "--max-queries", "5"], monkeypatch, capsys)
    assert code == 0 and "22 unique, 22 from the cache, 0 encoded" in err
    assert (tmp_path / "r" / "clearir" / "tiny-model" / "summary.csv").is_file()  # named after the model dir
    assert not (tmp_path / "r" / "clearir__tiny").exists()  # no MTEB task among these (--max-queries)
    # Another precision: another cache folder, nothing reused; the precision is recorded.
    other = "fp32" if resolve_precision("auto") == "bf16" else "bf16"
    fixed = [*args, "--scenarios", "crosslingual", "--max-queries", "5", "--precision", other]
    code, _, err = run([*fixed, "--model-name", other], monkeypatch, capsys)
    assert code == 0 and "22 unique, 0 from the cache, 22 encoded" in err and f"({other})" in err
    task = json.loads(
        (tmp_path / "r" / "clearir" / other / "tasks" / "xquad-crosslingual-de-en.json").read_text()
    )
    assert task["clearir"]["precision"] == other


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model", "{tmp}/missing-model"], "model path {tmp}/missing-model does not exist"),
        (["--langs", "xx"], "unknown language 'xx' for xquad"),
        (["--scenarios", "crosslingual,diagonal"], "unknown scenario 'diagonal'"),
        (["--max-queries", "0"], "--max-queries must be >= 1"),
        (["--precision", "fp16"], "--precision 'fp16': expected one of auto, fp32, bf16"),
        (["--langs", ","], "--langs is empty"),
        (
            ["--datasets", "xquad", "--data-dir", "{tmp}/no-data"],
            "data directory {tmp}/no-data (--data-dir) does not",
        ),
    ],
)
def test_eval_bad_input_is_one_error_line(
    extra: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    data = make_data_dir(tmp_path / "data")
    extra = [part.format(tmp=tmp_path) for part in extra]
    args = ["eval", "--model", str(tmp_path), "--data-dir", str(data), "--out", str(tmp_path / "r"), *extra]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp_path) in err
    assert not (tmp_path / "r").exists()
