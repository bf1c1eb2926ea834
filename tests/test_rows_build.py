"""``build_rows`` on real MLQA-R and XQuAD, checked against the raw JSON; ``save_rows``; bad options."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from datasets import Dataset, load_from_disk

from clearir.data.registry import load_corpus
from clearir.errors import ClearirError
from clearir.rows.build import JSONL_FILE, REPORT_FILE, build_rows, row_columns, save_rows
from clearir.rows.mining import DEFAULT_NUM_NEGATIVES, score_bm25
from clearir.rows.report import TOO_FEW_NEGATIVES, BuildReport
from clearir.rows.split import heldout_articles
from tests.tiny_model import make_tiny_model

Built = tuple[Dataset, BuildReport]


def raw(path: Path) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """From a SQuAD JSON file, read directly: question id -> question, -> context, -> article title."""
    questions, contexts, titles = {}, {}, {}
    for article in json.loads(path.read_text(encoding="utf-8"))["data"]:
        for para in article["paragraphs"]:
            for qa in para["qas"]:
                questions[qa["id"]] = qa["question"]
                contexts[qa["id"]] = para["context"]
                titles[qa["id"]] = article["title"]
    return questions, contexts, titles


@pytest.fixture(scope="module")
def de_rows(data_dir) -> Built:
    return build_rows("mlqa", ["de"])


@pytest.fixture(scope="module")
def mixed_rows(data_dir) -> Built:
    return build_rows("mlqa", ["de", "hi"])


def check_rows(rows: Dataset, report: BuildReport, en_file: Path, lang_files: dict[str, Path]) -> None:
    """Every row against the raw JSON: texts, positives, negatives (never the positive), negative queries."""
    en_q, en_ctx, _ = raw(en_file)
    lang_q = {lang: raw(path)[0] for lang, path in lang_files.items()}
    n = report.options["num_negatives"]
    id_of_text = {}
    for p in load_corpus(report.options["dataset"], "en").paragraphs:
        id_of_text.setdefault(p.text, set()).add(p.id)
    assert rows.column_names == row_columns(n)
    assert len(rows) == len(report.rows)
    for row, meta in zip(rows, report.rows, strict=True):
        qid = meta.question_id
        assert row["en_question"] == en_q[qid]
        assert row["lang_question"] == lang_q[meta.lang][qid]
        assert row["paragraphs"] == en_ctx[qid] and meta.positive_id in id_of_text[en_ctx[qid]]
        negatives = [row[f"neg_{k}"] for k in range(1, n + 1)]
        assert len(set(meta.negative_ids)) == n and meta.positive_id not in meta.negative_ids
        assert all(" ".join(neg.split()) != " ".join(row["paragraphs"].split()) for neg in negatives)
        for k, (neg, nqid) in enumerate(zip(negatives, meta.negative_query_ids, strict=True), start=1):
            assert en_ctx[nqid] == neg  # the negative query's English counterpart asks about neg_k
            assert row[f"neg_query_{k}"] == lang_q[meta.lang][nqid]
            assert row[f"neg_query_{k}"] != row["lang_question"]
            assert meta.negative_ids[k - 1] in id_of_text[neg]


def test_mlqa_de_rows(de_rows: Built, data_dir: Path) -> None:
    rows, report = de_rows
    stats = report.languages[0]
    assert stats.questions == 512 and stats.heldout == 0
    assert stats.built + sum(stats.dropped.values()) == 512
    assert set(stats.dropped) <= {TOO_FEW_NEGATIVES}
    assert 490 <= len(rows) == stats.rows == stats.built <= 512
    assert report.pool == 978 and report.window_used == (50, 100)
    check_rows(rows, report, data_dir / "mlqa-r/en.json", {"de": data_dir / "mlqa-r/de.json"})


def test_negatives_are_bm25_ranks_50_to_99(de_rows: Built) -> None:
    rows, report = de_rows
    english = load_corpus("mlqa", "en")
    position = {p.id: i for i, p in enumerate(english.paragraphs)}
    scores = score_bm25(rows["en_question"], [p.text for p in english.paragraphs])
    for i, meta in enumerate(report.rows):
        order = [j for j in np.argsort(-scores[i], kind="stable") if j != position[meta.positive_id]]
        ranks = [order.index(position[pid]) for pid in meta.negative_ids]
        assert ranks == meta.negative_ranks == sorted(ranks)
        assert all(50 <= r < 100 for r in ranks)


def test_same_seed_same_rows_other_seed_other_negatives(de_rows: Built) -> None:
    rows, report = de_rows
    again, again_report = build_rows("mlqa", ["de"], seed=42)
    assert again.to_dict() == rows.to_dict() and again_report.rows == report.rows
    other, other_report = build_rows("mlqa", ["de"], seed=7)
    assert sorted(other["en_question"]) == sorted(rows["en_question"])
    mine = {m.question_id: m.negative_ids for m in report.rows}
    changed = sum(mine[m.question_id] != m.negative_ids for m in other_report.rows)
    assert changed > 0.9 * len(rows)


def test_max_rows_samples_built_rows(de_rows: Built) -> None:
    _, report = de_rows
    capped, capped_report = build_rows("mlqa", ["de"], max_rows=100)
    assert len(capped) == 100 and capped_report.languages[0].capped == report.languages[0].built - 100
    full = {m.question_id: m for m in report.rows}
    assert all(full[m.question_id] == m for m in capped_report.rows)  # a row does not depend on the others
    assert len(set(capped["en_question"])) > 90


def test_multilingual_mixes_languages(de_rows: Built, mixed_rows: Built, data_dir: Path) -> None:
    rows, report = mixed_rows
    de = {m.question_id: m for m in de_rows[1].rows}
    hi_stats = report.languages[1]
    assert hi_stats.lang == "hi" and hi_stats.questions == 507
    assert len(rows) == len(de_rows[0]) + hi_stats.rows
    langs = [m.lang for m in report.rows]
    assert {"de", "hi"} == set(langs[:50])  # shuffled together, not one block per language
    assert all(de[m.question_id] == m for m in report.rows if m.lang == "de")
    check_rows(
        rows,
        report,
        data_dir / "mlqa-r/en.json",
        {lang: data_dir / f"mlqa-r/{lang}.json" for lang in ("de", "hi")},
    )


def test_xquad_uses_train_articles_only(data_dir: Path) -> None:
    rows, report = build_rows("xquad", ["de"], max_rows=200)
    _, _, title_of = raw(data_dir / "xquad/xquad.en.json")
    titles = sorted(set(title_of.values()))
    heldout = heldout_articles(titles)
    shuffled = titles[:]
    random.Random(0).shuffle(shuffled)
    assert heldout == heldout_articles(shuffled) and len(heldout) == 24
    assert set(report.split["heldout_articles"]) == heldout
    assert report.pool == sum(
        len(a["paragraphs"])
        for a in json.loads((data_dir / "xquad/xquad.en.json").read_text())["data"]
        if a["title"] not in heldout
    )
    assert report.languages[0].heldout == sum(t in heldout for t in title_of.values())
    paragraph_title = {p.id: p.title for p in load_corpus("xquad", "en").paragraphs}
    for meta in report.rows:
        assert title_of[meta.question_id] not in heldout
        assert all(paragraph_title[pid] not in heldout for pid in [meta.positive_id, *meta.negative_ids])
        assert all(title_of[q] not in heldout for q in meta.negative_query_ids)
    check_rows(rows, report, data_dir / "xquad/xquad.en.json", {"de": data_dir / "xquad/xquad.de.json"})


def test_small_pool_clips_window_and_narrow_window_drops(data_dir: Path) -> None:
    _, clipped = build_rows("mlqa", ["de"], window=(950, 1100), max_rows=50)
    assert clipped.window_used == (827, 977)
    assert all(827 <= r < 977 for m in clipped.rows for r in m.negative_ranks)
    rows, narrow = build_rows("mlqa", ["de"], window=(0, 6))
    stats = narrow.languages[0]
    assert stats.dropped[TOO_FEW_NEGATIVES] > 100 and stats.built + stats.dropped[TOO_FEW_NEGATIVES] == 512
    assert len(rows) == stats.built and narrow.to_dict()["dropped"] == stats.dropped


def test_zero_negatives(data_dir: Path) -> None:
    rows, report = build_rows("mlqa", ["hi"], num_negatives=0)
    assert rows.column_names == ["en_question", "paragraphs", "lang_question"] and len(rows) == 507
    assert report.options["model"] is None


def test_dense_mining_with_tiny_model(data_dir: Path) -> None:
    model = make_tiny_model()
    rows, report = build_rows("xquad", ["de"], miner="dense", model=model, window=(10, 40), max_rows=40)
    assert len(rows) == 40 and report.options["miner"] == "dense"
    assert report.options["model"] == "an in-memory SentenceTransformer"
    assert all(10 <= r < 40 for m in report.rows for r in m.negative_ranks)
    check_rows(rows, report, data_dir / "xquad/xquad.en.json", {"de": data_dir / "xquad/xquad.de.json"})
    bm25 = {m.question_id: m.negative_ids for m in build_rows("xquad", ["de"], window=(10, 40))[1].rows}
    assert sum(bm25[m.question_id] != m.negative_ids for m in report.rows) > 35


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"langs": ["xx"]}, "--langs: unknown language 'xx'"),
        ({"langs": ["en"]}, "--langs: unknown language 'en'"),
        ({"langs": []}, "--langs"),
        ({"langs": ["de", "de"]}, "repeated"),
        ({"window": (100, 50)}, "--window 100:50"),
        ({"window": (50, 50)}, "--window 50:50"),
        ({"window": (-1, 50)}, "--window -1:50"),
        ({"window": (50, 52)}, f"fewer than --num-negatives {DEFAULT_NUM_NEGATIVES}"),
        ({"num_negatives": -1}, "--num-negatives -1"),
        ({"max_rows": 0}, "--max-rows 0"),
        ({"miner": "tfidf"}, "--miner 'tfidf'"),
        ({"dataset": "belebele"}, "--dataset 'belebele'"),
        ({"dataset": "squad"}, "--dataset 'squad'"),
    ],
)
def test_bad_options(kwargs: dict, message: str) -> None:
    args = {"dataset": "mlqa", "langs": ["de"]} | kwargs
    with pytest.raises(ClearirError, match=message.replace("(", r"\(")):
        build_rows(**args)


def test_save_rows_round_trip_and_atomic(
    de_rows: Built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows, report = de_rows
    out = tmp_path / "rows"
    assert save_rows(rows, report, out, jsonl=True) == out
    assert load_from_disk(str(out)).to_dict() == rows.to_dict()
    saved = json.loads((out / REPORT_FILE).read_text(encoding="utf-8"))
    assert saved["num_rows"] == len(rows) and saved["negatives_per_row"] == DEFAULT_NUM_NEGATIVES
    assert saved["rows"][0]["question_id"] == report.rows[0].question_id
    lines = (out / JSONL_FILE).read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == rows.to_list()
    with pytest.raises(ClearirError, match="--overwrite"):
        save_rows(rows, report, out)
    small = rows.select(range(10))
    save_rows(small, report, out, overwrite=True)
    assert len(load_from_disk(str(out))) == 10 and not (out / JSONL_FILE).exists()

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Dataset, "save_to_disk", fail)
    with pytest.raises(OSError, match="disk full"):
        save_rows(rows, report, out, overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        save_rows(rows, report, tmp_path / "fresh")
    assert len(load_from_disk(str(out))) == 10  # the old content survives a failed save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rows"]  # no partial output, no temp dirs left


def write_mlqa(root: Path, contexts: list[str], de_on: list[int]) -> Path:
    """A small MLQA-R layout: one English question per paragraph; German ones for paragraphs ``de_on``."""
    folder = root / "mlqa-r"
    folder.mkdir(parents=True)
    for lang, keep in (("en", range(len(contexts))), ("de", de_on)):
        articles = [
            {
                "title": f"article {i}",
                "paragraphs": [
                    {
                        "context": contexts[i],
                        "qas": [{"id": f"q{i:02d}", "question": f"{lang} question {i}?"}],
                    }
                ],
            }
            for i in keep
        ]
        (folder / f"{lang}.json").write_text(json.dumps({"version": "1", "data": articles}), encoding="utf-8")
    return root


def test_paragraphs_with_the_positive_text_are_never_negatives(tmp_path: Path) -> None:
    contexts = ["the same words here", "the  same words\nhere", *(f"other text {i} words" for i in range(10))]
    root = write_mlqa(tmp_path, contexts, de_on=list(range(12)))
    others = {f"mlqa/en/q{i:02d}" for i in range(2, 12)}
    _, report = build_rows("mlqa", ["de"], num_negatives=10, window=(0, 10), data_dir=root)
    metas = {m.question_id: m for m in report.rows}
    assert len(metas) == 12
    for qid in ("q00", "q01"):  # their pool is the 10 other texts: paragraphs 0 and 1 left it together
        assert set(metas[qid].negative_ids) == others
        assert sorted(metas[qid].negative_query_ids) == [f"q{i:02d}" for i in range(2, 12)]
    _, wider = build_rows("mlqa", ["de"], num_negatives=11, window=(0, 11), data_dir=root)
    assert wider.languages[0].dropped == {TOO_FEW_NEGATIVES: 2}
    assert {m.question_id for m in wider.rows} == {f"q{i:02d}" for i in range(2, 12)}
    assert all({"mlqa/en/q00", "mlqa/en/q01"} <= set(m.negative_ids) for m in wider.rows)


def test_no_row_is_an_error(tmp_path: Path) -> None:
    root = write_mlqa(tmp_path, [f"text number {i}" for i in range(8)], de_on=[3])
    with pytest.raises(ClearirError, match=r"every question was dropped \(de: 1 too_few_negatives\)"):
        build_rows("mlqa", ["de"], num_negatives=1, window=(0, 5), data_dir=root)
