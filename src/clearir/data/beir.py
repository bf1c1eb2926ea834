"""Reader for a local retrieval set in the BEIR / MTEB layout.

``DIR/corpus.jsonl``: one ``{"_id", "title", "text"}`` object per line (``title`` optional; a document is
``title + " " + text``, or ``text`` alone without a title); ``DIR/queries.jsonl``: ``{"_id", "text"}``;
``DIR/qrels/<split>.tsv``: a header ``query-id<TAB>corpus-id<TAB>score``, then one judgement per line
(integer score; > 0 is relevant). Documents and queries may carry a language code in ``lang`` or
``language`` (all of a file's lines or none).

The queries evaluated are those judged in the split's qrels. A query judged in no qrels file of the set, a
judged query with no relevant document, a qrels line naming an unknown query or document, an empty text, a
repeated id: each is a ClearirError naming the file, the line and what was expected.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearir.data.files import lines, parse_json, read_text
from clearir.errors import ClearirError

QRELS_HEADER = ("query-id", "corpus-id", "score")
LANG_FIELDS = ("lang", "language")
LAYOUT = "a BEIR retrieval set: corpus.jsonl, queries.jsonl, qrels/<split>.tsv"


@dataclass
class Records:
    """The ids, texts and (where given) languages of one JSON-lines file, and the line of each id."""

    ids: list[str]
    texts: list[str]
    langs: list[str] | None
    line_of: dict[str, int]


@dataclass
class BeirSet:
    """A retrieval set as read: the corpus, the queries judged in ``split`` (in queries.jsonl order) and
    their qrels (``query id -> document id -> score``)."""

    path: Path
    split: str
    corpus: Records
    queries: Records
    qrels: dict[str, dict[str, int]]


def read_beir(path: str | Path, split: str = "test") -> BeirSet:
    """Read the retrieval set in directory ``path`` for ``split`` (see the module docstring)."""
    path = Path(path)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a directory"
        raise ClearirError(f"{path}: {what}; expected a directory holding {LAYOUT}")
    corpus = _records(path / "corpus.jsonl", "document", with_title=True)
    queries = _records(path / "queries.jsonl", "query", with_title=False)
    qrels_dir = path / "qrels"
    qrels_file = qrels_dir / f"{split}.tsv"
    if not qrels_file.is_file():
        splits = sorted(p.stem for p in qrels_dir.glob("*.tsv"))
        found = f"splits here: {', '.join(splits)}" if splits else "no qrels/*.tsv here"
        raise ClearirError(
            f"{qrels_file}: file not found (expected the qrels of split {split!r}, --beir-split; {found})"
        )
    qrels = _qrels(qrels_file, corpus, queries)
    judged_elsewhere = {
        qid for other in qrels_dir.glob("*.tsv") if other != qrels_file for qid in _judged_ids(other)
    }
    for qid in queries.ids:
        if qid not in qrels and qid not in judged_elsewhere:
            raise ClearirError(
                f"{path / 'queries.jsonl'}: line {queries.line_of[qid]}: query {qid!r} has no qrels in "
                f"{qrels_dir}; expected every query judged in some split"
            )
    order = {qid: i for i, qid in enumerate(queries.ids)}
    return BeirSet(path, split, corpus, queries, dict(sorted(qrels.items(), key=lambda kv: order[kv[0]])))


def _records(path: Path, kind: str, with_title: bool) -> Records:
    fields = '"_id", "title", "text"' if with_title else '"_id", "text"'
    expected = f"one JSON object with {fields} per line"
    ids: list[str] = []
    texts: list[str] = []
    langs: list[str | None] = []
    line_of: dict[str, int] = {}
    for number, line in enumerate(lines(read_text(path, f"{expected} ({LAYOUT})")), start=1):
        if not line.strip():
            continue
        where = f"{path}: line {number}"
        row = parse_json(line, path, first_line=number)
        if not isinstance(row, dict):
            raise ClearirError(f"{where} is not a JSON object; expected {expected}")
        rid = row.get("_id")
        if isinstance(rid, int) and not isinstance(rid, bool):
            rid = str(rid)
        if not isinstance(rid, str) or not rid.strip():
            raise ClearirError(f'{where}: no {kind} id in "_id" (got {rid!r}); expected a non-empty string')
        if rid in line_of:
            raise ClearirError(f"{where}: {kind} id {rid!r} repeats line {line_of[rid]}; expected unique ids")
        text = _text(row, "text", where, required=True)
        title = _text(row, "title", where, required=False) if with_title else ""
        ids.append(rid)
        texts.append(f"{title} {text}" if title else text)
        langs.append(_lang(row, where))
        line_of[rid] = number
    if not ids:
        raise ClearirError(f"{path}: no {kind}s; expected {expected}")
    with_lang = [lang is not None for lang in langs]
    if any(with_lang) and not all(with_lang):
        odd = next(i for i, has in enumerate(with_lang) if has != with_lang[0])
        has, first = ("has", "does not") if with_lang[odd] else ("lacks", "has")
        raise ClearirError(
            f"{path}: line {line_of[ids[odd]]} {has} a language field ({' or '.join(LANG_FIELDS)}) and line "
            f"{line_of[ids[0]]} {first}; expected it on every line or on none"
        )
    return Records(ids, texts, [str(lang) for lang in langs] if all(with_lang) else None, line_of)


def _text(row: dict[str, Any], key: str, where: str, required: bool) -> str:
    value = row.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        got = "missing" if key not in row else ("empty" if value == "" else f"{value!r}")
        raise ClearirError(f'{where}: "{key}" is {got}; expected a non-empty text')
    return value


def _lang(row: dict[str, Any], where: str) -> str | None:
    for key in LANG_FIELDS:
        if key in row:
            value = row[key]
            if not isinstance(value, str) or not value.strip() or any(c.isspace() for c in value):
                raise ClearirError(f'{where}: "{key}" is {value!r}; expected a language code such as "de"')
            return value
    return None


def _qrels(path: Path, corpus: Records, queries: Records) -> dict[str, dict[str, int]]:
    text = read_text(path, "tab-separated qrels: query-id, corpus-id, score")
    all_lines = lines(text)
    header = tuple(cell.strip() for cell in all_lines[0].split("\t")) if all_lines else ()
    if header != QRELS_HEADER:
        raise ClearirError(
            f"{path}: line 1 is {all_lines[0] if all_lines else ''!r}; expected the header "
            f"{chr(9).join(QRELS_HEADER)!r} (tab-separated)"
        )
    qrels: dict[str, dict[str, int]] = {}
    line_of: dict[tuple[str, str], int] = {}
    for number, line in enumerate(all_lines[1:], start=2):
        if not line.strip():
            continue
        cells = [cell.strip() for cell in line.split("\t")]
        if len(cells) != 3:
            raise ClearirError(
                f"{path}: line {number} has {len(cells)} tab-separated fields; expected 3: "
                "query-id, corpus-id, score"
            )
        qid, doc, score = cells
        if qid not in queries.line_of:
            raise ClearirError(f"{path}: line {number}: query {qid!r} is not in queries.jsonl")
        if doc not in corpus.line_of:
            raise ClearirError(f"{path}: line {number}: document {doc!r} is not in corpus.jsonl")
        try:
            value = int(score)
        except ValueError:
            raise ClearirError(f"{path}: line {number}: score {score!r}; expected an integer") from None
        if (qid, doc) in line_of:
            raise ClearirError(
                f"{path}: line {number}: query {qid!r} and document {doc!r} repeat line {line_of[qid, doc]}; "
                "expected one judgement per pair"
            )
        line_of[qid, doc] = number
        qrels.setdefault(qid, {})[doc] = value
    if not qrels:
        raise ClearirError(f"{path}: no judgements; expected lines of query-id, corpus-id, score")
    for qid, judged in qrels.items():
        if not any(score > 0 for score in judged.values()):
            first = min(line_of[qid, doc] for doc in judged)
            raise ClearirError(
                f"{path}: line {first}: query {qid!r} has no relevant document (score > 0); expected at "
                "least one"
            )
    return qrels


def _judged_ids(path: Path) -> set[str]:
    """The query ids of another split's qrels file (its first column, header excluded)."""
    return {line.split("\t")[0].strip() for line in lines(read_text(path, "qrels"))[1:] if line.strip()}
