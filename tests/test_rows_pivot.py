"""Rows bridged by a pivot language other than English, on real MLQA-R and XQuAD: each pivot row is the
parallel (same question id) version of the English-pivot row, its negatives are pivot-language passages;
the pivot in settings, keys, labels, reports and the model card; bad pivots as one-line errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset

from clearir.data.registry import load_corpus
from clearir.errors import ClearirError
from clearir.experiment.grid import load_plan
from clearir.experiment.settings import Run, RunSettings, check_run
from clearir.experiment.store import rows_key
from clearir.rows.build import REPORT_FILE, build_rows, row_columns, save_rows
from clearir.rows.mining import score_bm25
from clearir.rows.report import BuildReport
from clearir.rows.sources import train_source
from clearir.rows.split import heldout_articles
from clearir.training.config import TrainConfig
from clearir.training.model_card import training_section
from clearir.training.trainer import train
from tests.cli_runner import run
from tests.test_rows_build import raw

Built = tuple[Dataset, BuildReport]


@pytest.fixture(scope="module")
def mlqa_en(data_dir: Path) -> Built:
    return build_rows("mlqa", ["ar"], num_negatives=3)


@pytest.fixture(scope="module")
def mlqa_de(data_dir: Path) -> Built:
    return build_rows("mlqa", ["ar"], num_negatives=3, pivot="de")


def check_parallel(english: Built, pivot: Built, pivot_lang: str, pivot_file: Path, lang_file: Path) -> None:
    """Every pivot row against the raw pivot and target files and against the English row of the same
    target question: the same L query, the pivot versions (same id) of its query and positive, negatives
    that are pivot passages holding an L question, negative queries asking about them."""
    (en_rows, en_report), (rows, report) = english, pivot
    b_q, b_ctx, _ = raw(pivot_file)
    l_q, _, _ = raw(lang_file)
    en_row = {meta.question_id: row for row, meta in zip(en_rows, en_report.rows, strict=True)}
    dataset = report.options["dataset"]
    b_paragraphs = {p.id: p for p in load_corpus(dataset, pivot_lang).paragraphs}
    n = report.options["num_negatives"]
    assert rows.column_names == row_columns(n)  # the same roles, whatever the pivot
    shared = 0
    for row, meta in zip(rows, report.rows, strict=True):
        qid = meta.question_id
        assert row["en_question"] == b_q[qid] and row["lang_question"] == l_q[qid]
        assert row["paragraphs"] == b_ctx[qid] == b_paragraphs[meta.positive_id].text
        if qid in en_row:
            shared += 1
            assert row["lang_question"] == en_row[qid]["lang_question"]
            assert row["en_question"] != en_row[qid]["en_question"]
            assert row["paragraphs"] != en_row[qid]["paragraphs"]
        for k, (pid, nqid) in enumerate(zip(meta.negative_ids, meta.negative_query_ids, strict=True), 1):
            assert pid.startswith(f"{dataset}/{pivot_lang}/") and pid != meta.positive_id
            assert row[f"neg_{k}"] == b_paragraphs[pid].text == b_ctx[nqid]
            assert row[f"neg_query_{k}"] == l_q[nqid] != row["lang_question"]
    assert shared == len(rows)  # every pivot row's L question has an English row too


def test_mlqa_ar_with_pivot_de_is_parallel_to_the_english_rows(
    mlqa_en: Built, mlqa_de: Built, data_dir: Path
) -> None:
    rows, report = mlqa_de
    stats = report.languages[0]
    ar, de = raw(data_dir / "mlqa-r/ar.json")[0], raw(data_dir / "mlqa-r/de.json")[0]
    both = set(ar) & set(de)
    assert stats.questions == len(both) == 207 and stats.unpaired == len(ar) - 207 == 310
    assert stats.built + sum(stats.dropped.values()) == 207 and len(rows) == stats.rows > 150
    assert report.options["pivot"] == "de" and mlqa_en[1].options["pivot"] == "en"
    assert report.pool == len(load_corpus("mlqa", "de").paragraphs) == 456
    check_parallel(mlqa_en, mlqa_de, "de", data_dir / "mlqa-r/de.json", data_dir / "mlqa-r/ar.json")
    # MLQA-R paragraphs are comparable, not one-to-one: most pivot positives carry their English key.
    en_key = {m.question_id: m.positive_id.rsplit("/", 1)[1] for m in mlqa_en[1].rows}
    same_key = sum(en_key[m.question_id] == m.positive_id.rsplit("/", 1)[1] for m in report.rows)
    assert same_key > 0.85 * len(rows)


def test_pivot_negatives_are_bm25_ranks_in_the_pivot_pool(mlqa_de: Built) -> None:
    rows, report = mlqa_de
    german = load_corpus("mlqa", "de").paragraphs
    position = {p.id: i for i, p in enumerate(german)}
    scores = score_bm25(rows["en_question"], [p.text for p in german])
    for i, meta in enumerate(report.rows):
        order = [j for j in np.argsort(-scores[i], kind="stable") if j != position[meta.positive_id]]
        ranks = [order.index(position[pid]) for pid in meta.negative_ids]
        assert ranks == meta.negative_ranks and all(50 <= r < 100 for r in ranks)


def test_xquad_pivot_rows_are_the_parallel_versions(data_dir: Path) -> None:
    english = build_rows("xquad", ["ar"], max_rows=150)
    pivot = build_rows("xquad", ["ar"], max_rows=150, pivot="es")
    report = pivot[1]
    assert report.options["pivot"] == "es" and report.languages[0].unpaired == 0
    assert report.languages[0].questions == 1190 and report.pool == english[1].pool
    assert report.split == english[1].split
    check_parallel(english, pivot, "es", data_dir / "xquad/xquad.es.json", data_dir / "xquad/xquad.ar.json")
    # XQuAD is fully parallel: the pivot positive is the translation (same key) of the English positive, and
    # every negative comes from the train articles.
    en_positive = {m.question_id: m.positive_id for m in english[1].rows}
    key = {p.id: p.key for lang in ("en", "es") for p in load_corpus("xquad", lang).paragraphs}
    assert all(key[m.positive_id] == key[en_positive[m.question_id]] for m in report.rows)
    _, _, titles = raw(data_dir / "xquad/xquad.en.json")
    heldout = heldout_articles(titles.values())
    title_of_key = {p.key: p.title for p in load_corpus("xquad", "en").paragraphs}
    assert not any(title_of_key[key[pid]] in heldout for m in report.rows for pid in m.negative_ids)


@pytest.mark.parametrize(
    ("dataset", "langs", "pivot", "message"),
    [
        ("mlqa", ["ar"], "ar", "--pivot ar: is also a training language (ar)"),
        ("mlqa", ["de", "ar"], "de", "--pivot de: is also a training language (de,ar)"),
        ("mlqa", ["ar"], "ro", "--pivot 'ro': not a language of mlqa; expected one of ar, de, en"),
        ("xquad", ["ar"], "xx", "--pivot 'xx': not a language of xquad"),
    ],
)
def test_bad_pivot_is_a_clear_error(dataset: str, langs: list[str], pivot: str, message: str) -> None:
    with pytest.raises(ClearirError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        build_rows(dataset, langs, pivot=pivot)


def test_own_data_keeps_english_as_its_pivot(data_dir: Path, tmp_path: Path) -> None:
    files = ",".join(f"{lang}={data_dir / 'mlqa-r' / f'{lang}.json'}" for lang in ("en", "de", "ar"))
    with pytest.raises(ClearirError, match="--pivot de: --train-files is joined through English"):
        build_rows(train_source(train_files=files), ["ar"], pivot="de")
    with pytest.raises(ClearirError, match="--pivot de: --train-table is joined through English"):
        build_rows(train_source(train_table=str(tmp_path / "t.jsonl")), ["ar"], pivot="de")
    with pytest.raises(ClearirError, match="run 1: pivot de: --train-files is joined through English"):
        check_run(RunSettings(langs="ar", train_files=files, pivot="de"), "run 1")


def test_build_train_cli_takes_pivot(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "rows"
    args = ["data", "build-train", "--langs", "ar", "--pivot", "de", "--max-rows", "20", "--out", str(out)]
    code, stdout, _ = run(args, monkeypatch, capsys)
    assert code == 0, stdout
    report = json.loads((out / REPORT_FILE).read_text(encoding="utf-8"))
    assert report["options"]["pivot"] == "de" and report["num_rows"] == 20
    assert report["languages"][0]["unpaired"] == 310
    assert "mlqa ar, pivot de: 20 rows" in stdout and "no pivot" in stdout
    code, _, err = run([*args[:4], "--pivot", "ar", "--out", str(tmp_path / "x")], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: --pivot ar: is also a training language")
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "x").exists()


def test_pivot_rows_are_refused_for_shift_vectors(mlqa_de: Built, tmp_path: Path) -> None:
    from clearir.shift.parallel import rows_texts

    save_rows(*mlqa_de, tmp_path / "rows")
    with pytest.raises(ClearirError, match="built with pivot de, so its en_question column is not English"):
        rows_texts(tmp_path / "rows")


def test_pivot_is_a_run_setting_with_its_own_ids_and_rows_key() -> None:
    english, german = Run(RunSettings(langs="ar")), Run(RunSettings(langs="ar", pivot="de"))
    # English, the default, is not part of a run's id (runs made before the pivot keep theirs).
    assert "pivot" not in english.settings.relevant() and german.settings.relevant()["pivot"] == "de"
    assert english.id != german.id and english.config_id != german.config_id
    assert rows_key(english, "base") != rows_key(german, "base")
    assert rows_key(Run(RunSettings(langs="ar", pivot="en")), "base") == rows_key(english, "base")
    plan = load_plan(vary=["pivot=en,de"], set_=["langs=ar"])
    assert plan.varying == ("pivot",)
    assert [plan.label(r.settings) for r in plan.runs] == ["pivot=en", "pivot=de"]
    assert [plan.name(r) for r in plan.runs] == ["clear-ar-pivot=en", "clear-ar-pivot=de"]


def test_grid_pivot_checks_name_the_key(tmp_path: Path) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text('[fixed]\npivot = "de"\n[grid]\nlangs = ["ar", "hi"]\n', encoding="utf-8")
    plan = load_plan(grid)
    assert [(r.settings.langs, r.settings.pivot) for r in plan.runs] == [("ar", "de"), ("hi", "de")]
    grid.write_text('[fixed]\npivot = "de"\n[grid]\nlangs = ["ar", "de+hi"]\n', encoding="utf-8")
    with pytest.raises(ClearirError, match=r"g\.toml: run with .*: pivot de: is also a training language"):
        load_plan(grid)
    grid.write_text('[fixed]\npivot = "ro"\n', encoding="utf-8")
    with pytest.raises(ClearirError, match="pivot 'ro': not a language of mlqa"):
        load_plan(grid)


def test_run_cli_has_pivot(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    code, stdout, _ = run(["run", "--help"], monkeypatch, capsys)
    assert code == 0 and "--pivot" in stdout and "Bridge language of the rows" in stdout
    args = ["run", "--langs", "hi", "--pivot", "hi", "--model", "/nonexistent"]
    code, _, err = run(args, monkeypatch, capsys)
    assert code == 2 and "pivot hi: is also a training language (hi)" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_clear_trains_on_pivot_rows_and_the_card_names_the_bridge(tmp_path: Path) -> None:
    from tests.train_data import tiny_model_dir

    rows, report = build_rows("mlqa", ["ar"], num_negatives=2, max_rows=8, pivot="de")
    save_rows(rows, report, tmp_path / "rows")
    config = TrainConfig(
        data=str(tmp_path / "rows"),
        out=str(tmp_path / "run"),
        model=str(tiny_model_dir(tmp_path / "model")),
        num_negatives=2,
        batch_size=4,
        max_steps=1,
        save_steps=1,
        max_seq_length=32,
        max_query_length=16,
    )
    result = train(config)  # the CLEAR loss takes the rows' roles, whatever their languages
    assert result.global_step == 1 and math.isfinite(result.train_loss)
    card = (result.model_dir / "README.md").read_text(encoding="utf-8")
    assert "mlqa ar, pivot de (rows)" in card and "(8 rows; bridge (pivot) language `de`)" in card
    # Rows without a build report: no bridge named.
    assert "(8 rows)" in training_section(config, result, base_model="b", precision="fp32")
