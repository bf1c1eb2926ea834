"""``clearir data build-train`` on the user's own data: a SQuAD pair outside the data directory and jsonl,
csv, Parquet and ``datasets`` tables written from real MLQA-R texts give the registry's rows; bad input is one
line; ``clearir run`` and grid settings take the same sources."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from datasets import Dataset, load_from_disk

from clearir.rows.build import REPORT_FILE, build_rows
from clearir.rows.sources import train_source
from tests.cli_runner import run
from tests.own_data import mlqa_data_dir_in_table_order, mlqa_table_rows, write_csv, write_jsonl

ROW_OPTIONS = ["--num-negatives", "3", "--max-rows", "150", "--seed", "7"]
COLUMNS = "id=qid,lang=language,en_query=question_en,en_passage=context_en,lang_query=question"


def build(args: list[str], out: Path, monkeypatch, capsys) -> list[dict]:
    code, stdout, err = run(
        ["data", "build-train", *args, *ROW_OPTIONS, "--out", str(out)], monkeypatch, capsys
    )
    assert code == 0, err + stdout
    return load_from_disk(str(out)).to_list()


def test_squad_pair_outside_the_data_directory_gives_the_registry_rows(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    for lang in ("en", "hi"):
        shutil.copy(data_dir / "mlqa-r" / f"{lang}.json", tmp_path / f"train.{lang}.json")
    registry = build(["--langs", "hi"], tmp_path / "registry", monkeypatch, capsys)
    monkeypatch.setenv("CLEARIR_DATA_DIR", str(tmp_path / "no-data-here"))  # files need no data directory
    files = f"en={tmp_path / 'train.en.json'},hi={tmp_path / 'train.hi.json'}"
    own = build(["--train-files", files], tmp_path / "own", monkeypatch, capsys)
    assert own == registry and len(own) == 150
    options = json.loads((tmp_path / "own" / REPORT_FILE).read_text(encoding="utf-8"))["options"]
    assert options["dataset"] == "files" and options["langs"] == ["hi"] and options["data_dir"] is None
    assert options["train_files"] == {
        "en": str(tmp_path / "train.en.json"),
        "hi": str(tmp_path / "train.hi.json"),
    }


@pytest.mark.parametrize("kind", ["jsonl", "csv"])
def test_tables_give_the_registry_rows_of_the_same_texts(
    kind: str, tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    rows = mlqa_table_rows(data_dir, ("de", "hi"))
    table = (write_jsonl if kind == "jsonl" else write_csv)(tmp_path / f"pairs.{kind}", rows)
    # A table's negatives pool is its English passages in order of first use: the registry gets the same.
    registry_dir = mlqa_data_dir_in_table_order(data_dir, rows, tmp_path / "data")
    registry = build(
        ["--langs", "de,hi", "--data-dir", str(registry_dir)], tmp_path / "reg", monkeypatch, capsys
    )
    own = build(["--train-table", str(table), "--columns", COLUMNS], tmp_path / "own", monkeypatch, capsys)
    assert own == registry and len(own) == 300
    report = json.loads((tmp_path / "own" / REPORT_FILE).read_text(encoding="utf-8"))
    assert report["options"]["dataset"] == "table" and report["options"]["langs"] == ["de", "hi"]
    assert [lang["questions"] for lang in report["languages"]] == [512, 507]
    one = build(
        ["--train-table", str(table), "--columns", COLUMNS, "--langs", "hi"],
        tmp_path / "hi",
        monkeypatch,
        capsys,
    )
    assert (
        one
        == build_rows(train_source(train_table=str(table), columns=COLUMNS), ["hi"], 3, max_rows=150, seed=7)[
            0
        ].to_list()
    )


def test_parquet_and_datasets_tables_with_default_columns_and_no_language_column(
    tmp_path: Path, data_dir: Path
) -> None:
    rows = [
        {
            "id": r["qid"],
            "en_query": r["question_en"],
            "en_passage": r["context_en"],
            "lang_query": r["question"],
        }
        for r in mlqa_table_rows(data_dir, ("de",))
    ]
    Dataset.from_list(rows).to_parquet(str(tmp_path / "de.parquet"))
    Dataset.from_list(rows).save_to_disk(str(tmp_path / "de-dataset"))
    jsonl = write_jsonl(tmp_path / "de.jsonl", rows)
    built = [
        build_rows(train_source(train_table=str(path)), ["de"], 3, max_rows=50)[0].to_list()
        for path in (jsonl, tmp_path / "de.parquet", tmp_path / "de-dataset")
    ]
    assert built[0] == built[1] == built[2] and len(built[0]) == 50
    assert {row["lang_question"] for row in built[0]} <= {row["lang_query"] for row in rows}


def _table(tmp_path: Path, name: str, rows: list[dict]) -> str:
    return str((write_csv if name.endswith(".csv") else write_jsonl)(tmp_path / name, rows))


GOOD = {"lang": "de", "en_query": "who", "en_passage": "a passage", "lang_query": "wer"}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--train-files", "en.json"], "'en.json' is not LANG=PATH; expected LANG=PATH pairs"),
        (["--train-files", "en={tmp}/en.json"], "no target-language file"),
        (["--train-files", "de={tmp}/de.json,hi={tmp}/hi.json"], "no en file"),
        (["--train-files", "en=a.json,de=b.json", "--dataset", "mlqa"], "--dataset and --train-files"),
        (["--train-files", "en={tmp}/missing.json,de={tmp}/de.json"], "missing.json: file not found"),
        (["--train-files", "en={tmp}/en.json,de={tmp}/de.json", "--langs", "hi"], "'hi' has no file"),
        (["--train-table", "{tmp}/t.jsonl", "--columns", "en_query"], "'en_query' is not ROLE=COLUMN"),
        (["--train-table", "{tmp}/t.jsonl", "--columns", "question=q"], "unknown role 'question'"),
        (
            ["--train-table", "{tmp}/t.jsonl", "--columns", "en_query=a,lang_query=a"],
            "a column is named for two",
        ),
        (["--columns", "en_query=q", "--langs", "de"], "--columns: names the columns of --train-table"),
        (
            ["--train-table", "{tmp}/t.jsonl", "--columns", "en_query=q"],
            "no column 'q' for the English query",
        ),
        (["--train-table", "{tmp}/t.jsonl", "--columns", "lang_passage=lp"], "no column 'lp'"),
        (
            ["--train-table", "{tmp}/empty.csv"],
            "empty.csv: line 3: 'lang_query' (the target-language query) is",
        ),
        (
            ["--train-table", "{tmp}/null.jsonl"],
            "null.jsonl: line 2: 'en_passage' (the English passage) is null",
        ),
        (
            ["--train-table", "{tmp}/t.jsonl", "--langs", "ar"],
            "no rows in language 'ar' (--langs); the table ",
        ),
        (["--train-table", "{tmp}/nolang.jsonl"], "no language column 'lang'; give the one target language"),
        (["--train-table", "{tmp}/nolang.jsonl", "--langs", "de,hi"], "no language column 'lang'"),
        (["--train-table", "{tmp}/cells.csv"], "cells.csv: line 2 has 5 cells; expected 4"),
        (["--train-table", "{tmp}/t.xlsx"], "unknown table kind '.xlsx'"),
        (["--train-table", "{tmp}/repeat.jsonl"], "line 2: id 'a' repeats line 1 for language de"),
        (
            ["--train-table", "{tmp}/clash.jsonl"],
            "line 2: id 'a' has another English query or passage than at",
        ),
        (["--train-table", "{tmp}/bad.jsonl"], "bad.jsonl: invalid JSON at line 2"),
    ],
)
def test_bad_own_training_data_is_one_line(
    options: list[str],
    message: str,
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    for lang in ("en", "de"):
        shutil.copy(data_dir / "mlqa-r" / f"{lang}.json", tmp_path / f"{lang}.json")
    _table(tmp_path, "t.jsonl", [GOOD, {**GOOD, "lang": "hi"}])
    _table(tmp_path, "empty.csv", [GOOD, {**GOOD, "lang_query": " "}])
    _table(tmp_path, "null.jsonl", [GOOD, {**GOOD, "en_passage": None}])
    _table(tmp_path, "nolang.jsonl", [{k: v for k, v in GOOD.items() if k != "lang"}])
    _table(tmp_path, "repeat.jsonl", [{**GOOD, "id": "a"}, {**GOOD, "id": "a"}])
    _table(
        tmp_path, "clash.jsonl", [{**GOOD, "id": "a"}, {**GOOD, "id": "a", "lang": "hi", "en_query": "what"}]
    )
    (tmp_path / "cells.csv").write_text("lang,en_query,en_passage,lang_query\nde,a,b,c,d\n", encoding="utf-8")
    (tmp_path / "bad.jsonl").write_text(json.dumps(GOOD) + "\n{oops\n", encoding="utf-8")
    (tmp_path / "t.xlsx").write_text("", encoding="utf-8")
    args = ["data", "build-train", "--out", str(tmp_path / "out"), *(o.format(tmp=tmp_path) for o in options)]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message.format(tmp=tmp_path) in err, err
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_run_and_grid_settings_take_the_same_sources(tmp_path: Path, data_dir: Path) -> None:
    from clearir.errors import ClearirError
    from clearir.experiment.preset import run_plan
    from clearir.experiment.settings import Run, RunSettings, check_run
    from clearir.rows.settings import write_rows

    table = write_jsonl(tmp_path / "pairs.jsonl", mlqa_table_rows(data_dir, ("de", "hi")))
    fixed = {"train_table": str(table), "train_columns": COLUMNS, "max_rows": 40, "num_negatives": 3}
    (run,) = run_plan({"langs": ("de",), "loss": ("infonce",)}, fixed, {"shift": False}).runs
    rows = run.settings.rows
    assert write_rows(rows, ["de"], 3, 42, tmp_path / "rows", None, tmp_path / "unused-model") == 40
    expected = build_rows(train_source(train_table=str(table), columns=COLUMNS), ["de"], 3, max_rows=40)[0]
    assert load_from_disk(str(tmp_path / "rows")).to_list() == expected.to_list()
    files = f"en={data_dir / 'mlqa-r' / 'en.json'},hi={data_dir / 'mlqa-r' / 'hi.json'}"
    with pytest.raises(ClearirError, match="language 'de' has no file in --train-files"):
        run_plan({"langs": ("de",), "loss": ("infonce",)}, {"train_files": files}, {})
    with pytest.raises(ClearirError, match="--dataset and --train-table: expected one source"):
        run_plan(
            {"langs": ("de",), "loss": ("infonce",)},
            {"train_dataset": "xquad", "train_table": str(table)},
            {},
        )
    with pytest.raises(
        ClearirError, match=r"g\.toml: run 1: --columns 'en_query': 'en_query' is not ROLE=COLUMN"
    ):
        check_run(RunSettings(langs="de", train_table=str(table), train_columns="en_query"), "g.toml: run 1")
    check_run(RunSettings(langs="hi", train_files=files), "g.toml")
    # Own data joins a run's settings (and id) only when given: registry runs keep their ids.
    assert "train_files" not in RunSettings().relevant()
    assert RunSettings(train_files=files).relevant()["train_files"] == files
    assert Run(RunSettings(train_files=files)).id != Run(RunSettings()).id
