"""Reader for the Tatoeba test bitexts of LASER: ``tatoeba.<xxx>-eng.<xxx>`` and ``tatoeba.<xxx>-eng.eng``."""

from __future__ import annotations

from pathlib import Path

from clearir.data.files import lines, read_text
from clearir.errors import ClearirError


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
