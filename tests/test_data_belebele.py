"""The Belebele reader on fixture files in the official JSON-lines format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from clearir.data.belebele import BELEBELE_CODES, BELEBELE_LANGUAGES, belebele_code, iso_code, read_belebele
from clearir.data.parallel import parallel_pairs
from clearir.data.registry import available, load_corpus
from clearir.errors import ClearirError

FIXTURES = Path(__file__).parent / "fixtures" / "belebele"
LAKE = "https://en.wikivoyage.org/wiki/Lake_District"


def test_reads_unique_passages_keyed_by_link() -> None:
    de = read_belebele(FIXTURES / "deu_Latn.jsonl", "de")
    assert (de.dataset, de.lang, len(de.paragraphs), len(de.questions)) == ("belebele", "de", 4, 8)
    first = de.paragraphs[0]
    assert (first.key, first.id, first.lang) == (LAKE, f"belebele/de/{LAKE}", "de")
    assert first.text.startswith("Der Lake District ist der größte Nationalpark Englands.")
    assert [q.id for q in de.questions[:2]] == [f"{LAKE}#1", f"{LAKE}#2"]
    assert de.paragraph_of(de.questions[1]) is first
    assert de.questions[1].text == "Warum sollten Wanderer im Sommer eine Regenjacke mitnehmen?"


def test_languages_are_parallel_by_link_and_question_number() -> None:
    corpora = {
        lang: read_belebele(FIXTURES / f"{belebele_code(lang)}.jsonl", lang) for lang in ("en", "de", "es")
    }
    keys = [p.key for p in corpora["en"].paragraphs]
    for lang, corpus in corpora.items():
        assert [p.key for p in corpus.paragraphs] == keys
        pairs = parallel_pairs(corpus, corpora["en"])
        assert len(pairs) == 8
        assert all(corpus.paragraph_of(a).key == corpora["en"].paragraph_of(b).key for a, b in pairs), lang
    assert len({c.paragraphs[2].text for c in corpora.values()}) == 3


def test_language_codes() -> None:
    assert (
        belebele_code("de") == "deu_Latn"
        and belebele_code("zh") == "zho_Hans"
        and belebele_code("ar") == "arb_Arab"
    )
    assert (
        belebele_code("hin_Latn") == "hin_Latn"
        and iso_code("deu_Latn") == "de"
        and iso_code("hin_Latn") == "hin_Latn"
    )
    assert set(BELEBELE_CODES.values()) <= set(BELEBELE_LANGUAGES) and len(set(BELEBELE_LANGUAGES)) == 122
    with pytest.raises(
        ClearirError, match=r"^unknown language 'xx' for belebele; expected an ISO 639-1 code \(af, am"
    ):
        belebele_code("xx")


def test_registry_loads_belebele_by_iso_or_belebele_code(tmp_path: Path) -> None:
    (tmp_path / "belebele").mkdir()
    for name in ("eng_Latn.jsonl", "spa_Latn.jsonl"):
        (tmp_path / "belebele" / name).write_bytes((FIXTURES / name).read_bytes())
    assert available(tmp_path) == {"belebele": ["en", "es"]}
    es = load_corpus("belebele", "spa_Latn", tmp_path)
    assert es is load_corpus("belebele", "es", tmp_path) and es.lang == "es" and len(es.questions) == 8


def _rows(tmp_path: Path, rows: list[object], name: str = "deu_Latn.jsonl") -> Path:
    path = tmp_path / name
    path.write_text(
        "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8"
    )
    return path


def _row(**overrides: object) -> dict:
    row = json.loads((FIXTURES / "deu_Latn.jsonl").read_text(encoding="utf-8").split("\n")[0])
    return row | overrides


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([_row(), "{not json"], r"invalid JSON at line 2, column 2"),
        ([_row(), ["a list"]], r"line 2 is not a JSON object"),
        ([_row(question="")], r"line 1: missing or empty field 'question'"),
        ([{k: v for k, v in _row().items() if k != "link"}], r"line 1: missing or empty field 'link'"),
        ([_row(dialect="eng_Latn")], r"line 1: dialect is 'eng_Latn', expected 'deu_Latn'"),
        (
            [_row(), _row(question_number=2, flores_passage="Anders.")],
            r"line 2: link .* has a different passage than on line 1",
        ),
        ([_row(), _row()], r"line 2: question .*#1 appears twice"),
        ([], r"no rows"),
    ],
)
def test_bad_rows(tmp_path: Path, rows: list[object], message: str) -> None:
    path = _rows(tmp_path, rows)
    with pytest.raises(ClearirError, match=message) as info:
        read_belebele(path, "de")
    assert str(info.value).startswith(f"{path}") and "\n" not in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(
        ClearirError, match=r"fra_Latn\.jsonl: file not found \(expected a Belebele JSON-lines file"
    ):
        read_belebele(tmp_path / "fra_Latn.jsonl", "fr")
