"""The SQuAD v1.1 reader on the real XQuAD and MLQA-R files, and its errors on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearir.data.registry import DATASETS
from clearir.data.squad import read_squad
from clearir.errors import ClearirError

XQUAD_LANGS = DATASETS["xquad"].languages


def _squad(tmp_path: Path, payload: object, name: str = "bad.json") -> Path:
    path = tmp_path / name
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload), encoding="utf-8")
    return path


def _article(*qas_per_paragraph: list[tuple[str, str]]) -> dict:
    return {
        "title": "T",
        "paragraphs": [
            {"context": f"paragraph {i}", "qas": [{"id": q, "question": t, "answers": []} for q, t in qas]}
            for i, qas in enumerate(qas_per_paragraph)
        ],
    }


def test_xquad_every_language_has_240_parallel_paragraphs_and_1190_questions(data_dir: Path) -> None:
    en = read_squad(data_dir / "xquad" / "xquad.en.json", "xquad", "en")
    en_key_of = {q.id: en.paragraph_of(q).key for q in en.questions}
    for lang in XQUAD_LANGS:
        corpus = read_squad(data_dir / "xquad" / f"xquad.{lang}.json", "xquad", lang)
        assert (len(corpus.paragraphs), len(corpus.questions)) == (240, 1190), lang
        assert [p.key for p in corpus.paragraphs] == [p.key for p in en.paragraphs]
        assert corpus.paragraphs[7].key == "001-02" and corpus.paragraphs[7].id == f"xquad/{lang}/001-02"
        # Each question sits in the paragraph with the same key as its English original.
        assert {q.id: corpus.paragraph_of(q).key for q in corpus.questions} == en_key_of
        assert {p.lang for p in corpus.paragraphs} == {q.lang for q in corpus.questions} == {lang}
        # No two paragraphs of one file share a text, so nothing needs deduplicating.
        assert len({p.text for p in corpus.paragraphs}) == 240


def test_xquad_paragraph_texts_are_translations(data_dir: Path) -> None:
    en = read_squad(data_dir / "xquad" / "xquad.en.json", "xquad", "en")
    de = read_squad(data_dir / "xquad" / "xquad.de.json", "xquad", "de")
    assert en.paragraphs[0].text.startswith("The Panthers defense gave up just 308 points")
    assert de.paragraphs[0].text.startswith("Die Verteidigung der Panthers gab nur 308 Punkte ab")
    assert en.paragraphs[0].title == de.paragraphs[0].title == "Super_Bowl_50"
    q = next(q for q in de.questions if q.id == "56beb4343aeaaa14008c925b")
    assert q.text == "Wie viele Punkte gab die Verteidigung der Panthers ab?"
    assert de.paragraph_of(q).key == "000-00"


def test_mlqa_question_keys_are_unique_question_ids(data_dir: Path) -> None:
    for lang in DATASETS["mlqa"].languages:
        corpus = read_squad(data_dir / "mlqa-r" / f"{lang}.json", "mlqa", lang, keys="question-id")
        ids = {q.id for q in corpus.questions}
        keys = [p.key for p in corpus.paragraphs]
        assert len(set(keys)) == len(keys) and set(keys) <= ids
        for p in corpus.paragraphs:
            assert p.key == min(q.id for q in corpus.questions if q.paragraph_id == p.id)
        assert len({p.text for p in corpus.paragraphs}) == len(corpus.paragraphs)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        ClearirError, match=r"nope\.json: file not found \(expected a SQuAD v1\.1 JSON file\)"
    ):
        read_squad(tmp_path / "nope.json", "xquad", "de")


def test_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    path = _squad(tmp_path, '{"data": [\n  {"title": "x",\n   "paragraphs": [}\n]}')
    with pytest.raises(ClearirError, match=r"bad\.json: invalid JSON at line 3, column 19: Expecting value$"):
        read_squad(path, "xquad", "de")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes('{"data": "Müller"}'.encode("latin-1"))
    with pytest.raises(ClearirError, match=r"latin1\.json: not UTF-8 text at byte 11"):
        read_squad(path, "xquad", "de")


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ([1, 2], r"the top level is a list, expected an object"),
        ({"version": "1.1"}, r"missing key data \(expected a list\)"),
        ({"data": {"title": "x"}}, r"data is an object, expected a list"),
        ({"data": [_article([("a", "q")]), {"paragraphs": []}]}, r"missing key data\[1\]\.title"),
        (
            {"data": [{"title": "t", "paragraphs": [{"qas": []}]}]},
            r"missing key data\[0\]\.paragraphs\[0\]\.context",
        ),
        (
            {
                "data": [
                    _article([("a", "q")]),
                    {"title": "t", "paragraphs": [{"context": "c", "qas": [{"id": "b"}]}]},
                ]
            },
            r"missing key data\[1\]\.paragraphs\[0\]\.qas\[0\]\.question \(expected a string\)",
        ),
        (
            {"data": [_article([("a", "q"), ("b", "q")], [("c", "q"), ("d", None)])]},
            r"data\[0\]\.paragraphs\[1\]\.qas\[1\]\.question is null, expected a string",
        ),
        (
            {"data": [_article([("a", "q")], [("a", "again")])]},
            r"question id 'a' at data\[0\]\.paragraphs\[1\]",
        ),
    ],
)
def test_not_squad_shaped(tmp_path: Path, payload: object, message: str) -> None:
    path = _squad(tmp_path, payload)
    with pytest.raises(ClearirError, match=message) as info:
        read_squad(path, "xquad", "de")
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_question_id_keys_need_questions(tmp_path: Path) -> None:
    path = _squad(tmp_path, {"data": [_article([("b", "q"), ("a", "q")], [])]})
    assert read_squad(path, "mlqa", "de", keys="position").paragraphs[1].key == "000-01"
    with pytest.raises(ClearirError, match=r"data\[0\]\.paragraphs\[1\] has no questions"):
        read_squad(path, "mlqa", "de", keys="question-id")
    ok = read_squad(
        _squad(tmp_path, {"data": [_article([("b", "q"), ("a", "q")])]}, "ok.json"),
        "mlqa",
        "de",
        "question-id",
    )
    assert ok.paragraphs[0].id == "mlqa/de/a"
    assert [q.paragraph_id for q in ok.questions] == ["mlqa/de/a", "mlqa/de/a"]
