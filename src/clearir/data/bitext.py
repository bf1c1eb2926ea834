"""Reader for the Tatoeba test bitexts of LASER (``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng`` in
the data directory's ``tatoeba/`` folder): the languages present, and one pair's two sides as corpora."""

from __future__ import annotations

from pathlib import Path

from clearir.data.belebele import BELEBELE_CODES
from clearir.data.files import lines, read_text
from clearir.data.records import Corpus, Paragraph, Question
from clearir.errors import ClearirError

TATOEBA_FOLDER = "tatoeba"


def bitext_paths(directory: str | Path, lang3: str) -> tuple[Path, Path]:
    """The two files of one language pair: (``<lang3>`` side, English side)."""
    if not (len(lang3) == 3 and lang3.isascii() and lang3.isalpha() and lang3.islower()):
        raise ClearirError(f"bad Tatoeba language code {lang3!r}; expected three lowercase letters (deu)")
    base = Path(directory) / f"tatoeba.{lang3}-eng"
    return base.with_name(f"{base.name}.{lang3}"), base.with_name(f"{base.name}.eng")


def read_bitext(directory: str | Path, lang3: str) -> tuple[list[str], list[str]]:
    """``(src_lines, eng_lines)``: line i of one is the translation of line i of the other.

    Lines lose their line ending only; differing line counts, a blank line or a missing file are a
    ClearirError.
    """
    src_path, eng_path = bitext_paths(directory, lang3)
    src = read_text(src_path, f"the {lang3} side of the Tatoeba {lang3}-eng bitext, one sentence per line")
    eng = read_text(eng_path, f"the English side of the Tatoeba {lang3}-eng bitext, one sentence per line")
    src_lines, eng_lines = lines(src), lines(eng)
    if len(src_lines) != len(eng_lines):
        raise ClearirError(
            f"{src_path}: {len(src_lines)} lines, but {eng_path} has {len(eng_lines)}; "
            "expected line-parallel files"
        )
    if not src_lines:
        raise ClearirError(f"{src_path}: empty; expected one sentence per line")
    for path, side in ((src_path, src_lines), (eng_path, eng_lines)):
        if blank := next((n for n, line in enumerate(side, start=1) if not line.strip()), None):
            raise ClearirError(f"{path}: line {blank} is empty; expected one sentence per line")
    return src_lines, eng_lines


# Tatoeba codes that differ from the language part of the Belebele (FLORES-200) code.
_TATOEBA_OVERRIDES = {"ar": "ara", "zh": "cmn"}


def tatoeba_code(lang: str) -> str:
    """A Tatoeba language code: ``"de"`` -> ``"deu"`` (via the FLORES-200 code), ``"zh"`` -> ``"cmn"``;
    anything else (e.g. ``"deu"``, ``"eng"``) as is."""
    if lang in _TATOEBA_OVERRIDES:
        return _TATOEBA_OVERRIDES[lang]
    return BELEBELE_CODES[lang][:3] if lang in BELEBELE_CODES else lang


def tatoeba_languages(root: Path) -> list[str]:
    """The languages with both files of a ``tatoeba.<xxx>-eng`` bitext in ``root/tatoeba``."""
    folder = root / TATOEBA_FOLDER
    found = {path.name.split(".")[1][:3] for path in folder.glob("tatoeba.???-eng.eng")}
    return sorted(lang for lang in found if (folder / f"tatoeba.{lang}-eng.{lang}").is_file())


def bitext_corpora(root: Path, lang: str) -> dict[str, Corpus]:
    """The two sides of the Tatoeba ``<lang>-eng`` bitext as corpora: line i is paragraph ``i`` and question
    ``i`` of its side, so the parallel partner of a sentence is the other side's line i."""
    sides = dict(zip((lang, "eng"), read_bitext(root / TATOEBA_FOLDER, lang), strict=True))
    corpora = {}
    for side, texts in sides.items():
        paragraphs = [
            Paragraph(f"tatoeba/{lang}-eng/{side}/{i}", str(i), side, "", t) for i, t in enumerate(texts)
        ]
        questions = [Question(str(i), side, p.text, p.id) for i, p in enumerate(paragraphs)]
        source = str(bitext_paths(root / TATOEBA_FOLDER, lang)[side == "eng"])
        corpora[side] = Corpus("tatoeba", side, source, paragraphs, questions)
    return corpora
