"""Build CLEAR training rows from parallel QA records and save them: MLQA-R, XQuAD's train articles, or the
user's SQuAD files or table (:mod:`clearir.rows.sources`).

The rows are bridged by a pivot language B: English by default (the paper's), or any other language of a
registry dataset (``pivot``; its files are parallel by question id). For each target language L, one row per
B question that has a parallel L question:

- ``en_question``: the B question; ``paragraphs``: its B paragraph (the positive);
- ``neg_1..n``: B paragraphs mined for the B question from the rank window (see
  :mod:`clearir.rows.mining`), never the positive nor a paragraph with the same text (whitespace collapsed);
- ``lang_question``: the L question;
- ``neg_query_k``: an L question of ``neg_k``, i.e. the L translation of a B question on that paragraph
  (a different text from ``lang_question``).

The column names are roles, kept whatever the pivot (``en_question`` is the pivot's query), so the losses
take pivot rows unchanged; the build report records the pivot. Only paragraphs that hold such an L question
may be picked as negatives; ranks still count every paragraph of the B pool, so a window means the same
hardness whatever the language's coverage. A row whose window
holds fewer than n pickable paragraphs is dropped and counted (``too_few_negatives``); it is never padded with
easier negatives. Randomness (which pickable negatives, which L question of a negative, ``max_rows`` and the
final shuffle) comes from generators seeded by ``(seed, language, question id)``, so a row does not depend on
the other rows or languages and a fixed seed gives the same dataset. ``max_rows`` caps the rows of *each*
language (a uniform sample of the built ones); languages are then mixed into one shuffled dataset. XQuAD rows
use only the train articles of :mod:`clearir.rows.split`, and their negatives come only from those articles'
paragraphs. Rows depend only on the records (texts, question ids, their order), not on where they were read.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from datasets import Dataset, Features, Value
from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

from clearir.config import resolve_model
from clearir.data.records import Paragraph, Question
from clearir.errors import ClearirError
from clearir.files import staged_dir
from clearir.rows.mining import (
    DEFAULT_NUM_NEGATIVES,
    DEFAULT_WINDOW,
    MINERS,
    clip_window,
    mine_negatives,
    score_bm25,
    score_dense,
)
from clearir.rows.report import TOO_FEW_NEGATIVES, BuildReport, LanguageStats, RowMeta
from clearir.rows.sources import DEFAULT_PIVOT, TrainSource, registry_data_dir, train_source

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

REPORT_FILE = "build_report.json"
JSONL_FILE = "rows.jsonl"


def row_columns(num_negatives: int) -> list[str]:
    """The CLEAR columns in order: ``en_question, paragraphs, neg_1..n, lang_question, neg_query_1..n``."""
    negatives = [f"neg_{k}" for k in range(1, num_negatives + 1)]
    queries = [f"neg_query_{k}" for k in range(1, num_negatives + 1)]
    return ["en_question", "paragraphs", *negatives, "lang_question", *queries]


@dataclass(frozen=True)
class _Pool:
    """The pivot-language paragraphs negatives come from, and each pivot question's scores over them."""

    paragraphs: list[Paragraph]
    index_of: dict[str, int]
    same_text: dict[str, list[int]]  # whitespace-collapsed text -> indices of the paragraphs with it
    scores: np.ndarray
    score_row: dict[str, int]  # pivot question id -> row of ``scores``

    def excluded(self, positive: int) -> list[int]:
        """The positive and every paragraph with the same text."""
        return self.same_text[_normalize(self.paragraphs[positive].text)]


def build_rows(
    dataset: str | TrainSource,
    langs: Sequence[str] | None,
    num_negatives: int = DEFAULT_NUM_NEGATIVES,
    window: tuple[int, int] = DEFAULT_WINDOW,
    miner: str = "bm25",
    seed: int = 42,
    max_rows: int | None = None,
    data_dir: str | Path | None = None,
    model: str | Path | SentenceTransformer | None = None,
    pivot: str = DEFAULT_PIVOT,
) -> tuple[Dataset, BuildReport]:
    """CLEAR training rows for ``langs`` from ``dataset``, and the build's report.

    ``dataset`` is a registry name (``mlqa`` or ``xquad``, read from ``data_dir``) or any
    :class:`~clearir.rows.sources.TrainSource` (SQuAD files, a table); ``langs`` defaults to every target
    language of files or a table. ``miner`` ranks the negatives: ``bm25`` or ``dense``; ``model`` (a name, a
    path or a loaded SentenceTransformer; default: the built base model) is used only by the ``dense`` miner.
    ``max_rows`` caps the rows of each language. ``pivot`` is the bridge language (see the module doc). Raises
    ClearirError for bad options or input, or when no row can be built.
    """
    started = time.perf_counter()
    source = train_source(dataset=dataset) if isinstance(dataset, str) else dataset
    langs = source.check_langs(langs)
    source.check_pivot(pivot, langs)
    _check_options(num_negatives, window, miner, max_rows)
    data, langs = source.load(langs, data_dir, pivot)
    paragraphs = data.paragraphs
    in_pool = {p.id for p in paragraphs}
    pairs_of: dict[str, list[tuple[Question, Question]]] = {}
    stats: list[LanguageStats] = []
    for lang in langs:
        pairs = data.pairs[lang]
        pairs_of[lang] = [(q, b) for q, b in pairs if b.paragraph_id in in_pool]
        asked = {b.paragraph_id for _, b in pairs_of[lang]}
        held = len(pairs) - len(pairs_of[lang])
        unpaired = data.unpaired.get(lang, 0)
        stats.append(LanguageStats(lang, len(pairs), held, len(asked), unpaired=unpaired))
    loaded = time.perf_counter()

    pivot_questions = list({b.id: b for pairs in pairs_of.values() for _, b in pairs}.values())
    pool = _score(paragraphs, pivot_questions, miner if num_negatives else None, model)
    scored = time.perf_counter()

    built: list[tuple[list[str], RowMeta]] = []
    for lang, lang_stats in zip(langs, stats, strict=True):
        rows_of_lang = _language_rows(lang, pairs_of[lang], pool, num_negatives, window, seed, lang_stats)
        if max_rows is not None and len(rows_of_lang) > max_rows:
            keep = np.sort(
                _rng(seed, "max_rows", lang).choice(len(rows_of_lang), size=max_rows, replace=False)
            )
            lang_stats.capped = len(rows_of_lang) - max_rows
            rows_of_lang = [rows_of_lang[i] for i in keep]
        lang_stats.rows = len(rows_of_lang)
        built += rows_of_lang
    if not built:
        raise ClearirError(
            f"no training rows for {source.name} {','.join(langs)}{_bridged(pivot)}: every question was "
            "dropped "
            f"({_drops(stats)}); try a wider --window or fewer --num-negatives"
        )
    built = [built[i] for i in _rng(seed, "shuffle").permutation(len(built))]
    columns = row_columns(num_negatives)
    rows = Dataset.from_dict(
        {column: [values[j] for values, _ in built] for j, column in enumerate(columns)},
        features=Features({column: Value("string") for column in columns}),
    )
    finished = time.perf_counter()

    report = BuildReport(
        options={
            **source.options(),
            "langs": langs,
            "pivot": pivot,
            "num_negatives": num_negatives,
            "window": list(window),
            "miner": miner,
            "seed": seed,
            "max_rows": max_rows,
            "model": _model_name(model) if miner == "dense" and num_negatives else None,
            "data_dir": registry_data_dir(source, data_dir),
        },
        pool=len(paragraphs),
        window_used=clip_window(window, len(paragraphs) - 1),
        languages=stats,
        rows=[meta for _, meta in built],
        timings={
            "load_s": round(loaded - started, 3),
            "score_s": round(scored - loaded, 3),
            "rows_s": round(finished - scored, 3),
            "total_s": round(finished - started, 3),
        },
        split=data.split,
    )
    return rows, report


def _score(
    paragraphs: list[Paragraph],
    questions: list[Question],
    miner: str | None,
    model: str | Path | SentenceTransformer | None,
) -> _Pool:
    """Score every question against every paragraph (no scoring when ``miner`` is None: no negatives)."""
    texts = [p.text for p in paragraphs]
    if miner is None:
        scores = np.zeros((len(questions), len(paragraphs)))
    elif miner == "bm25":
        scores = score_bm25([q.text for q in questions], texts)
    else:
        scores = score_dense([q.text for q in questions], texts, _load_model(model))
    same_text: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        same_text.setdefault(_normalize(text), []).append(i)
    return _Pool(
        paragraphs=paragraphs,
        index_of={p.id: i for i, p in enumerate(paragraphs)},
        same_text=same_text,
        scores=scores,
        score_row={q.id: i for i, q in enumerate(questions)},
    )


def _language_rows(
    lang: str,
    pairs: list[tuple[Question, Question]],
    pool: _Pool,
    num_negatives: int,
    window: tuple[int, int],
    seed: int,
    stats: LanguageStats,
) -> list[tuple[list[str], RowMeta]]:
    """The rows of one language (values in column order, provenance), counting built and dropped rows."""
    questions_on: dict[int, list[Question]] = {}  # pivot paragraph index -> its questions in ``lang``
    for q, b in pairs:
        questions_on.setdefault(pool.index_of[b.paragraph_id], []).append(q)
    has_question = np.zeros(len(pool.paragraphs), dtype=bool)
    has_question[list(questions_on)] = True
    paragraphs_asking: dict[str, set[int]] = {}
    for i, qs in questions_on.items():
        for q in qs:
            paragraphs_asking.setdefault(q.text, set()).add(i)

    built: list[tuple[list[str], RowMeta]] = []
    for q, b in pairs:
        rng = _rng(seed, lang, q.id)
        positive = pool.index_of[b.paragraph_id]
        eligible = has_question
        if clash := paragraphs_asking.get(q.text):  # a paragraph whose only L questions repeat this text
            eligible = has_question.copy()
            for i in clash:
                eligible[i] = any(other.text != q.text for other in questions_on[i])
        scores = pool.scores[pool.score_row[b.id]]
        negatives = mine_negatives(scores, pool.excluded(positive), eligible, window, num_negatives, rng)
        if negatives is None:
            stats.dropped[TOO_FEW_NEGATIVES] = stats.dropped.get(TOO_FEW_NEGATIVES, 0) + 1
            continue
        neg_queries = []
        for neg in negatives:
            options = [other for other in questions_on[neg.index] if other.text != q.text]
            neg_queries.append(options[int(rng.integers(len(options)))])
        paragraphs = pool.paragraphs
        values = [
            b.text,
            paragraphs[positive].text,
            *(paragraphs[n.index].text for n in negatives),
            q.text,
            *(nq.text for nq in neg_queries),
        ]
        meta = RowMeta(
            lang,
            q.id,
            paragraphs[positive].id,
            [paragraphs[n.index].id for n in negatives],
            [n.rank for n in negatives],
            [nq.id for nq in neg_queries],
        )
        built.append((values, meta))
        stats.built += 1
    return built


def save_rows(
    rows: Dataset, report: BuildReport, out_dir: str | Path, jsonl: bool = False, overwrite: bool = False
) -> Path:
    """Save ``rows`` with ``save_to_disk`` plus ``build_report.json`` (and ``rows.jsonl``) into ``out_dir``.

    Everything is written into a staging sibling directory that is then renamed, so ``out_dir`` is either
    absent, the old content or the complete new one (staging directories of killed builds are removed on the
    next save). An existing non-empty ``out_dir`` needs ``overwrite``.
    """
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ClearirError(
            f"--out {out}: exists and is not a directory; expected a directory to write rows to"
        )
    if out.is_dir() and any(out.iterdir()) and not overwrite:
        raise ClearirError(f"--out {out}: directory exists and is not empty; pass --overwrite to replace it")
    with staged_dir(out) as tmp:
        with _quiet_progress():
            rows.save_to_disk(str(tmp))
        report_text = json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
        (tmp / REPORT_FILE).write_text(report_text, encoding="utf-8")
        if jsonl:
            with (tmp / JSONL_FILE).open("w", encoding="utf-8") as handle:
                for row in rows:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return out


def _check_options(num_negatives: int, window: tuple[int, int], miner: str, max_rows: int | None) -> None:
    if num_negatives < 0:
        raise ClearirError(f"--num-negatives {num_negatives}: expected 0 or more")
    lo, hi = window
    if lo < 0 or lo >= hi:
        raise ClearirError(f"--window {lo}:{hi}: expected 0 <= lo < hi")
    if hi - lo < num_negatives:
        raise ClearirError(
            f"--window {lo}:{hi}: holds {hi - lo} ranks, fewer than --num-negatives {num_negatives}"
        )
    if miner not in MINERS:
        raise ClearirError(f"--miner {miner!r}: expected one of {', '.join(MINERS)}")
    if max_rows is not None and max_rows < 1:
        raise ClearirError(f"--max-rows {max_rows}: expected 1 or more (or no cap)")


def _load_model(model: str | Path | SentenceTransformer | None) -> SentenceTransformer:
    from sentence_transformers import SentenceTransformer

    from clearir.model.load import load_model

    return model if isinstance(model, SentenceTransformer) else load_model(model)


def _model_name(model: Any) -> str:
    if model is None:
        return resolve_model(None)
    if isinstance(model, str | Path):
        return str(model)
    return model.model_card_data.base_model or f"an in-memory {type(model).__name__}"


@contextmanager
def _quiet_progress() -> Iterator[None]:
    """Hide datasets' progress bars (``save_to_disk`` draws one) and restore the previous setting."""
    was_disabled = are_progress_bars_disabled()
    disable_progress_bars()
    try:
        yield
    finally:
        if not was_disabled:
            enable_progress_bars()


def _rng(seed: int, *parts: str) -> np.random.Generator:
    digest = hashlib.sha256("\0".join(parts).encode("utf-8")).digest()
    return np.random.default_rng([seed, int.from_bytes(digest[:8], "little")])


def _normalize(text: str) -> str:
    return " ".join(text.split())


def _bridged(pivot: str) -> str:
    return "" if pivot == DEFAULT_PIVOT else f" (pivot {pivot})"


def _drops(stats: list[LanguageStats]) -> str:
    parts = [f"{s.lang}: {n} {reason}" for s in stats for reason, n in s.dropped.items()]
    return "; ".join(parts) or "no questions"
