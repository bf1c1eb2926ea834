"""Parallel texts that estimate SHIFT vectors: the registry's parallel paragraphs, a user's JSON-lines file or
a model's training rows; each source gives, per language L, pairs (L text, pivot translation)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearir.data.registry import dataset_spec, load_corpus
from clearir.errors import ClearirError
from clearir.evaluation.settings import DEFAULT_MAX_PAIRS

# The registry's parallel datasets; ``auto`` takes the first one that is not evaluated.
REGISTRY_SOURCES = ("mlqa", "xquad")


@dataclass(frozen=True)
class ParallelTexts:
    """Pairs of one language: ``texts[i]`` (in ``lang``) translates ``pivot_texts[i]``; ``provenance`` says
    where they came from."""

    lang: str
    texts: list[str]
    pivot_texts: list[str]
    provenance: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.pivot_texts):
            raise ClearirError(
                f"SHIFT {self.lang}: {len(self.texts)} texts but {len(self.pivot_texts)} pivot texts"
            )


def _no_pairs(lang: str, where: str, have: Sequence[str]) -> ClearirError:
    return ClearirError(
        f"SHIFT: no parallel texts for language {lang!r} in {where} (it has {', '.join(have) or 'none'}); "
        "leave the language out or give parallel texts that have it"
    )


def _sample(pairs: list[tuple[str, str, str]], max_pairs: int | None) -> list[tuple[str, str, str]]:
    """At most ``max_pairs`` of ``(key, text, pivot text)`` pairs, chosen by a hash of the key (fixed)."""
    if max_pairs is None or len(pairs) <= max_pairs:
        return pairs
    order = sorted(pairs, key=lambda p: hashlib.sha1(p[0].encode("utf-8")).hexdigest())
    keep = {p[0] for p in order[:max_pairs]}
    return [p for p in pairs if p[0] in keep]


def registry_texts(
    dataset: str,
    langs: Sequence[str],
    data_dir: str | Path | None = None,
    max_pairs: int | None = DEFAULT_MAX_PAIRS,
    pivot: str = "en",
) -> list[ParallelTexts]:
    """Parallel paragraphs of a registry dataset: the L and pivot paragraphs that share a key (XQuAD: the same
    position; MLQA-R: the pivot paragraph of the L paragraph's questions)."""
    spec = dataset_spec(dataset)
    if spec.reader == "belebele":
        raise ClearirError(
            f"SHIFT: {dataset} has no parallel paragraphs in the registry; expected mlqa or xquad"
        )
    pivot_corpus = load_corpus(dataset, pivot, data_dir)
    by_key = {p.key: p for p in pivot_corpus.paragraphs}
    out = []
    for lang in langs:
        if lang not in spec.languages or lang == pivot:
            raise _no_pairs(lang, dataset, [lang for lang in spec.languages if lang != pivot])
        corpus = load_corpus(dataset, lang, data_dir)
        pairs = [(p.key, p.text, by_key[p.key].text) for p in corpus.paragraphs if p.key in by_key]
        if not pairs:
            raise _no_pairs(lang, f"{corpus.source}", [])
        kept = _sample(pairs, max_pairs)
        provenance = {
            "source": f"registry:{dataset}",
            "files": [corpus.source, pivot_corpus.source],
            "pairs": len(kept),
            "available": len(pairs),
            "unit": "paragraph",
        }
        out.append(ParallelTexts(lang, [p[1] for p in kept], [p[2] for p in kept], provenance))
    return out


def file_texts(
    path: str | Path, langs: Sequence[str] | None = None, max_pairs: int | None = None, pivot: str = "en"
) -> list[ParallelTexts]:
    """Pairs from a JSON-lines file, one object per line with the pivot text and translations by language
    code, e.g. ``{"en": "...", "de": "...", "hi": "..."}``; a line may lack some languages. ``langs``: the
    languages to take (default: every column besides the pivot)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise ClearirError(
            f'--parallel {path}: file not found; expected JSON lines like {{"en": ..., "de": ...}}'
        )
    rows: list[dict[str, str]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ClearirError(f"{path}: line {number} is not JSON ({exc.msg})") from exc
        bad = not isinstance(row, dict) or any(not isinstance(v, str) or not v.strip() for v in row.values())
        if bad or pivot not in row:
            raise ClearirError(
                f"{path}: line {number}: expected an object of non-empty texts by language with a {pivot!r} "
                f'text, e.g. {{"{pivot}": "...", "de": "..."}}'
            )
        rows.append(row)
    have = list(dict.fromkeys(k for row in rows for k in row if k != pivot))
    out = []
    for lang in langs if langs is not None else have:
        pairs = [(str(i), row[lang], row[pivot]) for i, row in enumerate(rows) if lang in row]
        if not pairs:
            raise _no_pairs(lang, str(path), have)
        kept = _sample(pairs, max_pairs)
        provenance = {"source": f"file:{path.absolute()}", "pairs": len(kept), "available": len(pairs)}
        out.append(ParallelTexts(lang, [p[1] for p in kept], [p[2] for p in kept], provenance))
    if not out:
        raise ClearirError(f"{path}: no language besides the pivot {pivot!r}; expected translations")
    return out


def rows_texts(
    path: str | Path, langs: Sequence[str] | None = None, max_pairs: int | None = None
) -> list[ParallelTexts]:
    """Pairs from training rows (``clearir data build-train``): each row's L question and its English
    question, the row's language read from ``build_report.json``."""
    from clearir.rows.build import REPORT_FILE
    from clearir.training.data import load_rows

    path = Path(path).expanduser()
    rows = load_rows(path)
    report = path / REPORT_FILE
    try:
        built = json.loads(report.read_text(encoding="utf-8"))
        row_langs = [meta["lang"] for meta in built["rows"]]
        pivot = built["options"].get("pivot", "en")
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ClearirError(
            f"{report}: cannot read the rows' languages ({exc}); expected a build report"
        ) from exc
    if pivot != "en":
        raise ClearirError(
            f"--rows {path}: built with pivot {pivot}, so its en_question column is not English; expected "
            "rows built with the English pivot (SHIFT vectors point from English)"
        )
    if len(row_langs) != len(rows) or not {"en_question", "lang_question"} <= set(rows.column_names):
        raise ClearirError(
            f"--rows {path}: expected rows with en_question and lang_question and one build-report entry each"
        )
    have = list(dict.fromkeys(row_langs))
    en, other = rows["en_question"], rows["lang_question"]
    out = []
    for lang in langs if langs is not None else have:
        pairs = [(str(i), other[i], en[i]) for i, row_lang in enumerate(row_langs) if row_lang == lang]
        if not pairs:
            raise _no_pairs(lang, str(path), have)
        kept = _sample(pairs, max_pairs)
        provenance = {
            "source": f"rows:{path.absolute()}",
            "pairs": len(kept),
            "available": len(pairs),
            "unit": "question",
        }
        out.append(ParallelTexts(lang, [p[1] for p in kept], [p[2] for p in kept], provenance))
    return out


def auto_dataset(evaluated: Sequence[str]) -> str:
    """The registry dataset whose parallel texts ``auto`` takes: the first of mlqa, xquad not evaluated."""
    for name in REGISTRY_SOURCES:
        if name not in evaluated:
            return name
    raise ClearirError(
        f"--shift auto: every registry parallel dataset ({', '.join(REGISTRY_SOURCES)}) is evaluated, so "
        "none is disjoint from the evaluation set; fit vectors from your own parallel file "
        "(`clearir shift fit --parallel`)"
    )
