"""Reader for the SQuAD v1.1 JSON layout (XQuAD, MLQA-R): ``{"data": [{"title", "paragraphs": [...]}]}``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from clearir.data.files import parse_json, read_text
from clearir.data.records import Corpus, Paragraph, Question
from clearir.errors import ClearirError

KeyScheme = Literal["position", "question-id"]


def read_squad(path: str | Path, dataset: str, lang: str, keys: KeyScheme = "position") -> Corpus:
    """Read one SQuAD v1.1 file into a :class:`Corpus`.

    ``keys`` picks each paragraph's language-independent key:
    ``"position"``: ``f"{article_idx:03d}-{para_idx:02d}"``, for files whose paragraph order is parallel
    (XQuAD); ``"question-id"``: the smallest question id in the paragraph, for files parallel only through
    question ids (MLQA-R; see :func:`clearir.data.parallel.align_keys`).
    Answers and extra keys (MLQA-R's ``sentences``) are not kept; duplicate question ids and empty (blank)
    contexts or questions are an error naming the file and position.
    """
    path = Path(path)
    root = parse_json(read_text(path, "a SQuAD v1.1 JSON file"), path)
    articles = _get(root, (), "data", list, path)
    paragraphs: list[Paragraph] = []
    questions: list[Question] = []
    seen: dict[str, str] = {}
    for a, article in enumerate(articles):
        at = ("data", a)
        title = _get(article, at, "title", str, path)
        for p, para in enumerate(_get(article, at, "paragraphs", list, path)):
            pt = (*at, "paragraphs", p)
            text = _text(para, pt, "context", path)
            qas = _get(para, pt, "qas", list, path)
            ids: list[str] = []
            texts: list[str] = []
            for q, qa in enumerate(qas):
                qt = (*pt, "qas", q)
                qid = _get(qa, qt, "id", str, path)
                if qid in seen:
                    raise ClearirError(
                        f"{path}: question id {qid!r} at {_path(qt)} repeats the one at {seen[qid]}; "
                        "expected unique question ids"
                    )
                seen[qid] = _path(qt)
                ids.append(qid)
                texts.append(_text(qa, qt, "question", path))
            if keys == "position":
                key = f"{a:03d}-{p:02d}"
            elif ids:
                key = min(ids)
            else:
                raise ClearirError(
                    f"{path}: {_path(pt)} has no questions; expected at least one to key the paragraph by"
                )
            pid = f"{dataset}/{lang}/{key}"
            paragraphs.append(Paragraph(id=pid, key=key, lang=lang, title=title, text=text))
            questions += [
                Question(id=i, lang=lang, text=t, paragraph_id=pid) for i, t in zip(ids, texts, strict=True)
            ]
    return Corpus(dataset=dataset, lang=lang, source=str(path), paragraphs=paragraphs, questions=questions)


def _path(parts: tuple[str | int, ...]) -> str:
    """``("data", 3, "paragraphs", 0)`` -> ``"data[3].paragraphs[0]"``."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def _kind(value: Any) -> str:
    """The JSON name of a parsed value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return {list: "a list", str: "a string", dict: "an object"}[type(value)]


def _text(node: Any, at: tuple[str | int, ...], key: str, path: Path) -> str:
    """``node[key]``, a string that is not blank; an empty text would silently change the metrics."""
    value = _get(node, at, key, str, path)
    if not value.strip():
        raise ClearirError(f"{path}: {_path((*at, key))} is empty; expected a non-empty text")
    return value


def _get(node: Any, at: tuple[str | int, ...], key: str, kind: type, path: Path) -> Any:
    """``node[key]``, checked to be an object holding ``key`` of type ``kind``, else a one-line error."""
    if not isinstance(node, dict):
        raise ClearirError(
            f"{path}: not SQuAD v1.1 format: {_path(at) or 'the top level'} is "
            f"{_kind(node)}, expected an object"
        )
    where = _path((*at, key))
    if key not in node:
        raise ClearirError(f"{path}: not SQuAD v1.1 format: missing key {where} (expected {_kind(kind())})")
    value = node[key]
    if not isinstance(value, kind):
        raise ClearirError(
            f"{path}: not SQuAD v1.1 format: {where} is {_kind(value)}, expected {_kind(kind())}"
        )
    return value
