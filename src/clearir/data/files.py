"""Reading data files with user-facing errors instead of tracebacks."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from clearir.errors import ClearirError


def read_text(path: Path, expected: str) -> str:
    """The UTF-8 text of ``path``; ``expected`` says what the file should be, for the error message."""
    if not path.exists():
        raise ClearirError(f"{path}: file not found (expected {expected})")
    if not path.is_file():
        raise ClearirError(f"{path}: is not a file (expected {expected})")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ClearirError(f"{path}: not UTF-8 text at byte {exc.start} (expected {expected})") from exc
    except OSError as exc:
        raise ClearirError(f"{path}: cannot read ({exc.strerror}; expected {expected})") from exc


def lines(text: str) -> list[str]:
    """``text`` split at line feeds only (``str.splitlines`` also splits inside a line, at U+2028 etc.)."""
    if not text:
        return []
    return [line.removesuffix("\r") for line in text.removesuffix("\n").split("\n")]


def parse_json(text: str, path: Path, first_line: int = 1) -> Any:
    """``json.loads`` whose error names the file, line and column (``text`` starts on line ``first_line``)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        line = first_line + exc.lineno - 1
        raise ClearirError(f"{path}: invalid JSON at line {line}, column {exc.colno}: {exc.msg}") from exc
