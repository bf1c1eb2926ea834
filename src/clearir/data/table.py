"""Parallel queries and passages from a table: JSON lines, CSV, Parquet or a ``datasets`` directory.

Each row is one English query with its English passage and its translation into a target language. The
columns are named by *role*; ``--columns ROLE=COLUMN,...`` renames them (the defaults are the role names):

- ``en_query``: the English query; ``en_passage``: its English passage (the positive); ``lang_query``: the
  query in the target language (required);
- ``lang_passage``: the passage in the target language (optional; read and checked, CLEAR rows do not use it);
- ``lang``: the target language's code (optional; without it the table holds one language, given by the
  caller);
- ``id``: the query id, the same for the English query and its translations (optional; default: the row
  number). Rows of several languages may share an id: they are translations of one English query.

English passages with the same text are one passage. A missing column, an empty text, a repeated (id,
language) or an id whose English query or passage differs between rows is a ClearirError naming the file,
the line (JSON lines, CSV) or row (Parquet, ``datasets``) and what was expected.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearir.data.files import lines, parse_json, read_text
from clearir.data.records import Paragraph, Question
from clearir.errors import ClearirError

COLUMN_ROLES: dict[str, str] = {
    "en_query": "the English query",
    "en_passage": "the English passage",
    "lang_query": "the target-language query",
    "lang_passage": "the target-language passage (optional)",
    "lang": "the target language's code (optional)",
    "id": "the query id shared by a query and its translations (optional)",
}
REQUIRED_ROLES = ("en_query", "en_passage", "lang_query")
TABLE_FORMATS = "a .jsonl, .csv, .tsv or .parquet file, or a datasets save_to_disk directory"
COLUMNS_SYNTAX = (
    f"ROLE=COLUMN pairs separated by commas, ROLE one of {', '.join(COLUMN_ROLES)}, "
    "e.g. en_query=q,en_passage=p,lang_query=ql"
)
DATASET = "table"


def parse_columns(value: str | None, option: str = "--columns") -> dict[str, str]:
    """``"en_query=q,lang=language"`` -> ``{"en_query": "q", "lang": "language"}`` (renamed roles only)."""
    if value is None:
        return {}
    renamed: dict[str, str] = {}
    for part in value.split(","):
        role, sep, column = (item.strip() for item in part.partition("="))
        if not sep or not role or not column:
            raise ClearirError(
                f"{option} {value!r}: {part.strip()!r} is not ROLE=COLUMN; expected {COLUMNS_SYNTAX}"
            )
        if role not in COLUMN_ROLES:
            raise ClearirError(f"{option} {value!r}: unknown role {role!r}; expected {COLUMNS_SYNTAX}")
        if role in renamed:
            raise ClearirError(f"{option} {value!r}: role {role!r} is given twice; expected each role once")
        renamed[role] = column
    taken = list(renamed.values())
    if len(set(taken)) < len(taken):
        raise ClearirError(f"{option} {value!r}: a column is named for two roles; expected distinct columns")
    return renamed


@dataclass
class RawTable:
    """A table as read: its columns and its rows, each with where it is (``line 3``, ``row 3``)."""

    path: Path
    columns: list[str]
    rows: list[tuple[str, dict[str, Any]]]


def read_table(path: str | Path) -> RawTable:
    """Read a table file or ``datasets`` directory by its kind (see :data:`TABLE_FORMATS`)."""
    path = Path(path)
    if path.is_dir():
        return _read_datasets(path)
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(path)
    if suffix in (".csv", ".tsv"):
        return _read_csv(path, "\t" if suffix == ".tsv" else ",")
    if suffix == ".parquet":
        return _read_parquet(path)
    if not path.exists():
        raise ClearirError(f"{path}: file not found (expected {TABLE_FORMATS})")
    raise ClearirError(f"{path}: unknown table kind {suffix or '(no suffix)'!r}; expected {TABLE_FORMATS}")


def _read_jsonl(path: Path) -> RawTable:
    rows: list[tuple[str, dict[str, Any]]] = []
    for number, line in enumerate(lines(read_text(path, "a JSON-lines table")), start=1):
        if not line.strip():
            continue
        row = parse_json(line, path, first_line=number)
        if not isinstance(row, dict):
            raise ClearirError(f"{path}: line {number} is not a JSON object; expected one object per line")
        rows.append((f"line {number}", row))
    return RawTable(path, list(rows[0][1]) if rows else [], rows)


def _read_csv(path: Path, delimiter: str) -> RawTable:
    reader = csv.reader(io.StringIO(read_text(path, "a CSV table"), newline=""), delimiter=delimiter)
    try:
        header = next(reader, [])
        rows = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            where = f"line {reader.line_num}"
            if len(cells) != len(header):
                raise ClearirError(
                    f"{path}: {where} has {len(cells)} cells; expected {len(header)}, one per header column"
                )
            rows.append((where, dict(zip(header, cells, strict=True))))
    except csv.Error as exc:
        raise ClearirError(f"{path}: line {reader.line_num}: not valid CSV ({exc})") from exc
    return RawTable(path, header, rows)


def _read_parquet(path: Path) -> RawTable:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise ClearirError(f"{path}: file not found (expected a Parquet table)")
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise ClearirError(f"{path}: not a readable Parquet file ({exc})") from exc
    return RawTable(path, table.column_names, [(f"row {i}", r) for i, r in enumerate(table.to_pylist(), 1)])


def _read_datasets(path: Path) -> RawTable:
    from datasets import Dataset, load_from_disk

    try:
        data = load_from_disk(str(path))
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise ClearirError(
            f"{path}: not a datasets save_to_disk directory ({exc}); expected {TABLE_FORMATS}"
        ) from exc
    if not isinstance(data, Dataset):
        raise ClearirError(
            f"{path}: a DatasetDict with splits {', '.join(data)}; expected one Dataset (save a single split)"
        )
    return RawTable(path, list(data.column_names), [(f"row {i}", r) for i, r in enumerate(data, 1)])


@dataclass
class ParallelTable:
    """Parallel records of a table: the English passages (in order of first use), per language the (target
    query, English query) pairs in row order, and the target-language passages where the table has them."""

    source: str
    english: list[Paragraph]
    pairs: dict[str, list[tuple[Question, Question]]]
    passages: dict[str, list[Paragraph]]


def read_parallel_table(
    path: str | Path, columns: Mapping[str, str] | None = None, lang: str | None = None
) -> ParallelTable:
    """The parallel records of the table at ``path``; ``columns`` renames roles (see the module docstring),
    ``lang`` is the target language of a table without a language column."""
    table = read_table(path)
    path = table.path
    renamed = dict(columns or {})
    names = {role: renamed.get(role, role) for role in COLUMN_ROLES}
    present = set(table.columns)
    for role, name in names.items():
        if name not in present and (role in REQUIRED_ROLES or role in renamed):
            flag = f" (--columns {role}={name})" if role in renamed else " (rename it with --columns)"
            raise ClearirError(
                f"{path}: no column {name!r} for {COLUMN_ROLES[role]}{flag}; found columns "
                f"{', '.join(table.columns) or 'none'}"
            )
    used = {role: name for role, name in names.items() if name in present}
    if "lang" not in used and lang is None:
        raise ClearirError(
            f"{path}: no language column {names['lang']!r}; give the one target language with --langs, or "
            "name the column with --columns lang=COLUMN"
        )
    if not table.rows:
        raise ClearirError(f"{path}: the table has no rows; expected at least one")

    english: dict[str, Paragraph] = {}
    english_of: dict[str, tuple[Question, str]] = {}  # id -> English question, where it was first seen
    passages: dict[str, dict[str, Paragraph]] = {}
    pairs: dict[str, list[tuple[Question, Question]]] = {}
    seen: dict[tuple[str, str], str] = {}
    for number, (where, row) in enumerate(table.rows, start=1):
        value = {role: _text(row, name, role, where, path, table.columns) for role, name in used.items()}
        row_lang = value["lang"] if "lang" in value else str(lang)
        if row_lang == "en" or any(c.isspace() for c in row_lang):
            raise ClearirError(
                f"{path}: {where}: language {row_lang!r}; expected a target-language code other than en"
            )
        qid = value.get("id", str(number))
        if (row_lang, qid) in seen:
            raise ClearirError(
                f"{path}: {where}: id {qid!r} repeats {seen[row_lang, qid]} for language {row_lang}; "
                "expected one row per query and language"
            )
        seen[row_lang, qid] = where
        text = value["en_passage"]
        paragraph = english.setdefault(text, _paragraph("en", len(english), text))
        en = Question(qid, "en", value["en_query"], paragraph.id)
        first, first_where = english_of.setdefault(qid, (en, where))
        if first != en:
            raise ClearirError(
                f"{path}: {where}: id {qid!r} has another English query or passage than at {first_where}; "
                "expected the rows of one id to be translations of one English query"
            )
        target_id = f"{DATASET}/{row_lang}/{paragraph.key}"
        if "lang_passage" in value:
            own = passages.setdefault(row_lang, {})
            text = value["lang_passage"]
            target_id = own.setdefault(text, _paragraph(row_lang, len(own), text)).id
        pairs.setdefault(row_lang, []).append((Question(qid, row_lang, value["lang_query"], target_id), en))
    return ParallelTable(
        source=str(path),
        english=list(english.values()),
        pairs=pairs,
        passages={code: list(texts.values()) for code, texts in passages.items()},
    )


def _paragraph(lang: str, index: int, text: str) -> Paragraph:
    key = str(index)
    return Paragraph(id=f"{DATASET}/{lang}/{key}", key=key, lang=lang, title="", text=text)


def _text(row: dict[str, Any], name: str, role: str, where: str, path: Path, columns: list[str]) -> str:
    """The non-empty text in column ``name`` of ``row`` (an integer id is taken as its digits)."""
    if name not in row:
        raise ClearirError(
            f"{path}: {where} has no {name!r} ({COLUMN_ROLES[role]}); expected the columns of the first row, "
            f"{', '.join(columns)}"
        )
    value = row[name]
    if role == "id" and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        kind = "null" if value is None else type(value).__name__
        raise ClearirError(f"{path}: {where}: {name!r} ({COLUMN_ROLES[role]}) is {kind}; expected a text")
    if not value.strip():
        raise ClearirError(f"{path}: {where}: {name!r} ({COLUMN_ROLES[role]}) is empty; expected a text")
    return value if role not in ("lang", "id") else value.strip()
