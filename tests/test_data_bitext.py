"""The Tatoeba (LASER) bitext reader on fixture files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from clearir.data.bitext import TATOEBA_FOLDER, bitext_corpora, read_bitext, tatoeba_code, tatoeba_languages
from clearir.errors import ClearirError

FIXTURES = Path(__file__).parent / "fixtures" / "tatoeba"


def test_reads_line_parallel_pairs() -> None:
    deu, eng = read_bitext(FIXTURES, "deu")
    assert len(deu) == len(eng) == 10
    assert (deu[1], eng[1]) == ("Wo ist der Bahnhof?", "Where is the train station?")
    spa, eng = read_bitext(FIXTURES, "spa")
    assert (spa[0], eng[-1]) == ("¿Dónde está la biblioteca?", "The film starts at eight.")


def test_splits_at_line_feeds_only(tmp_path: Path) -> None:
    (tmp_path / "tatoeba.fra-eng.fra").write_text("Un\u2028deux\r\nTrois\n", encoding="utf-8")
    (tmp_path / "tatoeba.fra-eng.eng").write_text("One\u2028two\nThree", encoding="utf-8")
    assert read_bitext(tmp_path, "fra") == (["Un\u2028deux", "Trois"], ["One\u2028two", "Three"])


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(ClearirError, match=r"tatoeba\.ita-eng\.ita: file not found \(expected the ita side"):
        read_bitext(FIXTURES, "ita")
    with pytest.raises(
        ClearirError, match=r"bad Tatoeba language code 'de'; expected three lowercase letters"
    ):
        read_bitext(FIXTURES, "de")
    shutil.copy(FIXTURES / "tatoeba.deu-eng.deu", tmp_path)
    with pytest.raises(
        ClearirError, match=r"tatoeba\.deu-eng\.eng: file not found \(expected the English side"
    ):
        read_bitext(tmp_path, "deu")
    (tmp_path / "tatoeba.deu-eng.eng").write_text("Only one line.\n", encoding="utf-8")
    with pytest.raises(
        ClearirError,
        match=r"tatoeba\.deu-eng\.deu: 10 lines, but .*tatoeba\.deu-eng\.eng has 1; expected line-parallel",
    ):
        read_bitext(tmp_path, "deu")


def test_empty_bitext(tmp_path: Path) -> None:
    for side in ("por", "eng"):
        (tmp_path / f"tatoeba.por-eng.{side}").write_text("", encoding="utf-8")
    with pytest.raises(ClearirError, match=r"tatoeba\.por-eng\.por: empty; expected one sentence per line"):
        read_bitext(tmp_path, "por")


def test_languages_and_corpora(tmp_path: Path) -> None:
    shutil.copytree(FIXTURES, tmp_path / TATOEBA_FOLDER)
    (tmp_path / TATOEBA_FOLDER / "tatoeba.ita-eng.eng").write_text("One\n", encoding="utf-8")  # no ita side
    assert tatoeba_languages(tmp_path) == ["deu", "spa"]
    assert [tatoeba_code(lang) for lang in ("de", "zh", "ar", "deu")] == ["deu", "cmn", "ara", "deu"]
    corpora = bitext_corpora(tmp_path, "deu")
    deu, eng = corpora["deu"], corpora["eng"]
    assert deu.questions[1].text == deu.paragraphs[1].text == "Wo ist der Bahnhof?"
    assert eng.paragraph_of(eng.questions[1]).text == "Where is the train station?"
    assert deu.source.endswith("tatoeba.deu-eng.deu") and eng.source.endswith("tatoeba.deu-eng.eng")
