"""Evaluation scenarios and tasks, declared as data (MTEB v2 style), and building them from the corpora.

A *scenario* says which query language searches which pool of languages; a *task* is one scenario on one
dataset for one language pair, e.g. ``xquad-crosslingual-de-en`` (German questions, English paragraphs).
Queries are questions, documents the unique paragraphs of every pool language (distinct ids per language).
A query's gold set is the paragraph of its parallel question (same question id) in every pool language, so a
bilingual pool has two gold documents per query, a multilingual pool one per language. Only questions with a
parallel partner in every language of the task are used, except in the multilingual pool (see
:class:`Scenario`). The mixed pools hold every paragraph of their languages; the monolingual and cross-lingual
pools hold the paragraphs parallel to the task's questions, as MTEB builds them (they differ on MLQA-R only,
whose English file has paragraphs without a German, Hindi, ... question: ``crosslingual-wide`` keeps them).

Beyond English as the pivot (on request): ``matrix`` is every query language x every document language of the
evaluated languages, English included (XQuAD's 12 languages: 144 directions), each cell built exactly as the
classic direction it may equal (``xquad-matrix-de-en`` is ``xquad-crosslingual-de-en`` under another name);
``pairs`` is the bilingual pool of any two languages, built as ``bilingual`` builds en ∪ L. A language's texts
are the same in every task, so the engine encodes them once however many cells use them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from clearir.config import data_dir as resolve_data_dir
from clearir.data.belebele import BELEBELE_CODES
from clearir.data.bitext import bitext_corpora, tatoeba_code, tatoeba_languages
from clearir.data.records import Corpus, Question
from clearir.data.registry import DATASETS, available, check_language, load_corpus
from clearir.errors import ClearirError
from clearir.evaluation.mteb_names import MtebSubset, mteb_subset
from clearir.evaluation.settings import CLASSIC_SCENARIOS, MATRIX_SCENARIOS
from clearir.metrics.ranking import Qrels


@dataclass(frozen=True)
class Scenario:
    """A way to pair a query language with a pool; ``pairs(pivot, langs)`` lists ``(query lang, pool langs)``
    for the pivot (English) and the other selected languages. ``gold``: ``"every"`` uses only questions with a
    partner in every language of the task; ``"available"`` only needs one in the pivot, and the gold set holds
    the versions that exist (MLQA-R, whose questions exist in 2 to 4 of its 7 languages, as in LAReQA).
    ``pool``: ``"all"`` holds every paragraph of the pool languages; ``"parallel"`` only the gold paragraphs
    of the task's eligible questions (before ``max_queries``), MTEB's corpus of a question set."""

    name: str
    description: str
    pairs: Callable[[str, Sequence[str]], list[tuple[str, tuple[str, ...]]]]
    gold: Literal["every", "available"] = "every"
    pool: Literal["all", "parallel"] = "all"


def _monolingual(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(pivot, (pivot,))] + [(lang, (lang,)) for lang in langs]


def _crosslingual(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [pair for lang in langs for pair in ((lang, (pivot,)), (pivot, (lang,)))]


def _to_pivot(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(lang, (pivot,)) for lang in langs]


def _bilingual(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    return [(query, (pivot, lang)) for lang in langs for query in (lang, pivot)]


def _multilingual(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    pool = (pivot, *langs)
    return [(query, pool) for query in pool] if langs else []


def _matrix(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    every = (pivot, *langs)
    return [(query, (doc,)) for query in every for doc in every]


def _pairs(pivot: str, langs: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """Each pair of languages once, in language order (the pivot first): the second's queries, then the
    first's, as ``_bilingual`` orders en ∪ L."""
    every = (pivot, *langs)
    return [
        (query, (first, second))
        for i, first in enumerate(every)
        for second in every[i + 1 :]
        for query in (second, first)
    ]


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario("monolingual", "en→en and L→L", _monolingual, pool="parallel"),
        Scenario(
            "crosslingual",
            "L→en and en→L; the pool: paragraphs parallel to the questions",
            _crosslingual,
            pool="parallel",
        ),
        Scenario(
            "crosslingual-wide",
            "L→en; the pool: every English paragraph (LAReQA's MLQA-R pool), not just the parallel ones",
            _to_pivot,
        ),
        Scenario(
            "bilingual", "L and en queries in a pool of en ∪ L documents; gold: both versions", _bilingual
        ),
        Scenario(
            "multilingual",
            "each language's queries in a pool of all languages; gold: every version",
            _multilingual,
            gold="available",
        ),
        Scenario("bitext", "find the translation of a sentence, L→en and en→L (accuracy)", _crosslingual),
        Scenario(
            "matrix",
            "every query language × every document language, English included; the pool: paragraphs "
            "parallel to the questions (a cell equals its monolingual or crosslingual direction)",
            _matrix,
            pool="parallel",
        ),
        Scenario(
            "pairs",
            "L1 and L2 queries in a pool of L1 ∪ L2 documents, for any two languages; gold: both versions",
            _pairs,
        ),
    )
}


@dataclass(frozen=True)
class EvalDataset:
    """How one dataset is evaluated: its scenarios (``optional_scenarios`` run only when asked for), pivot
    language, prompts, main score and split (MTEB's); ``revision`` is the data release evaluated (MTEB's
    ``dataset_revision``)."""

    name: str
    title: str
    reference: str
    revision: str
    scenarios: tuple[str, ...]
    optional_scenarios: tuple[str, ...] = ()
    pivot: str = "en"
    query_prompt: str = "query"
    doc_prompt: str = "passage"
    main_score: str = "ndcg_at_10"
    split: str = "test"


EVAL_DATASETS: dict[str, EvalDataset] = {
    d.name: d
    for d in (
        # XQuAD and MLQA-R are SQuAD's and MLQA's dev sets: MTEB's split "validation".
        EvalDataset(
            "xquad",
            "XQuAD",
            "https://github.com/google-deepmind/xquad",
            "7d30520",
            CLASSIC_SCENARIOS,
            optional_scenarios=MATRIX_SCENARIOS,
            split="validation",
        ),
        EvalDataset(
            "mlqa",
            "MLQA-R",
            "https://github.com/google-research-datasets/lareqa",
            "354d67d",
            CLASSIC_SCENARIOS,
            optional_scenarios=("crosslingual-wide", *MATRIX_SCENARIOS),
            split="validation",
        ),
        EvalDataset(
            "belebele",
            "Belebele",
            "https://github.com/facebookresearch/belebele",
            "v1",
            CLASSIC_SCENARIOS,
            optional_scenarios=MATRIX_SCENARIOS,
        ),
        # Symmetric task: both sides are sentences, so both get the query prompt.
        EvalDataset(
            "tatoeba",
            "Tatoeba",
            "https://github.com/facebookresearch/LASER/tree/main/data/tatoeba/v1",
            "v1",
            ("bitext",),
            pivot="eng",
            doc_prompt="query",
            main_score="accuracy",
        ),
    )
}


# ISO 639-1 ("de") and ISO 639-3 ("deu", Tatoeba) codes -> MTEB's "deu-Latn", via the FLORES-200 codes.
_MTEB_CODES = {
    **{code[:3]: code.replace("_", "-") for code in BELEBELE_CODES.values()},
    **{lang: code.replace("_", "-") for lang, code in BELEBELE_CODES.items()},
    "ara": "ara-Arab",
    "cmn": "cmn-Hans",
}


@dataclass(frozen=True)
class TaskSpec:
    """One task: ``dataset``'s ``scenario``, ``query_lang`` queries, a pool of ``doc_langs`` documents."""

    dataset: str
    scenario: str
    query_lang: str
    doc_langs: tuple[str, ...]

    @property
    def subset(self) -> str:
        """MTEB ``hf_subset``: ``de-en``, ``de-en+de`` (bilingual), ``de-multi`` (multilingual)."""
        pool = "multi" if self.scenario == "multilingual" else "+".join(self.doc_langs)
        return f"{self.query_lang}-{pool}"

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.scenario}-{self.subset}"

    @property
    def languages(self) -> list[str]:
        """MTEB language codes (``deu-Latn``) of the query language, then the pool's other languages."""
        langs = dict.fromkeys((self.query_lang, *self.doc_langs))
        return [_MTEB_CODES.get(lang, lang) for lang in langs]


@dataclass
class RetrievalTask:
    """A built task: queries, the document pool (``doc_langs[i]`` is document i's language) and the qrels;
    ``mteb``: the MTEB task and subset it is, if it is exactly one (all its questions, MTEB's definition)."""

    spec: TaskSpec
    query_ids: list[str]
    query_texts: list[str]
    doc_ids: list[str]
    doc_texts: list[str]
    doc_langs: list[str]
    qrels: Qrels
    query_prompt: str
    doc_prompt: str
    main_score: str
    split: str
    mteb: MtebSubset | None = None

    @property
    def multigold(self) -> bool:
        """Whether the pool mixes languages and a query has several gold documents (Max@R, Complete@k
        apply)."""
        return len(self.spec.doc_langs) > 1 and any(
            sum(rel > 0 for rel in gold.values()) > 1 for gold in self.qrels.values()
        )


def task_specs(dataset: str, langs: Sequence[str], scenarios: Iterable[str] | None = None) -> list[TaskSpec]:
    """The task specs of ``dataset`` for the non-pivot ``langs`` (the pivot is always included)."""
    meta = eval_dataset(dataset)
    chosen = meta.scenarios if scenarios is None else tuple(scenarios)
    known = (*meta.scenarios, *meta.optional_scenarios)
    for name in chosen:
        if name not in SCENARIOS:
            raise ClearirError(f"unknown scenario {name!r}; expected one of {', '.join(SCENARIOS)}")
        if name not in known:
            raise ClearirError(
                f"scenario {name!r} does not apply to {dataset}; expected one of {', '.join(known)}"
            )
    others = [lang for lang in dict.fromkeys(langs) if lang != meta.pivot]
    return [
        TaskSpec(dataset, name, query, pool)
        for name in known
        if name in chosen
        for query, pool in SCENARIOS[name].pairs(meta.pivot, others)
    ]


# A local BEIR/MTEB-format set (``clearir eval --beir DIR``, :mod:`clearir.evaluation.beir`); not in the data
# directory, so not in EVAL_DATASETS.
BEIR = EvalDataset("beir", "BEIR-format set", "https://github.com/beir-cellar/beir", "local", ())


def eval_dataset(dataset: str) -> EvalDataset:
    if dataset == BEIR.name:
        return BEIR
    if dataset not in EVAL_DATASETS:
        raise ClearirError(f"unknown dataset {dataset!r}; expected one of {', '.join(EVAL_DATASETS)}")
    return EVAL_DATASETS[dataset]


def _sample_order(qid: str) -> str:
    """A fixed pseudo-random order of question ids, the same in every language and run."""
    return hashlib.sha1(qid.encode("utf-8")).hexdigest()


def sample_queries(query_ids: Iterable[str], max_queries: int) -> set[str]:
    """The ``max_queries`` ids first in a fixed hash order: the same questions in every language and task,
    and a subset of those kept with a larger ``max_queries``."""
    if max_queries < 1:
        raise ClearirError(f"max_queries must be >= 1, got {max_queries}")
    return set(sorted(query_ids, key=_sample_order)[:max_queries])


def build_task(
    spec: TaskSpec, corpora: Mapping[str, Corpus], max_queries: int | None = None
) -> RetrievalTask:
    """Build ``spec`` from ``corpora`` (language -> corpus of ``spec.dataset``).

    With ``max_queries``, keep that many eligible questions, chosen by a hash of their id: the same questions
    in every language and task, and a subset of those kept with a larger ``max_queries``.
    """
    meta = eval_dataset(spec.dataset)
    langs = list(dict.fromkeys((spec.query_lang, *spec.doc_langs)))
    missing = [lang for lang in langs if lang not in corpora]
    if missing:
        raise ClearirError(f"{spec.name}: no {spec.dataset} corpus for {', '.join(missing)}")
    by_id = {lang: {q.id: q for q in corpora[lang].questions} for lang in langs}
    scenario = SCENARIOS[spec.scenario]
    if scenario.gold == "available":
        langs = list(dict.fromkeys((spec.query_lang, meta.pivot)))
    queries = [q for q in corpora[spec.query_lang].questions if all(q.id in by_id[lang] for lang in langs)]

    def gold(question: Question) -> dict[str, int]:
        return {
            corpora[lang].paragraph_of(by_id[lang][question.id]).id: 1
            for lang in spec.doc_langs
            if question.id in by_id[lang]
        }

    docs = [p for lang in spec.doc_langs for p in corpora[lang].paragraphs]
    if not docs:
        raise ClearirError(
            f"{spec.name}: the document pool is empty (no {'/'.join(spec.doc_langs)} paragraphs)"
        )
    if not queries:
        raise ClearirError(
            f"{spec.name}: no {spec.query_lang} questions with a parallel partner in "
            f"{', '.join(langs)}; expected at least one"
        )
    if scenario.pool == "parallel":
        parallel = {doc for q in queries for doc in gold(q)}
        docs = [p for p in docs if p.id in parallel]
    eligible = len(queries)
    if max_queries is not None:
        keep = sample_queries((q.id for q in queries), max_queries)
        queries = [q for q in queries if q.id in keep]
    doc_ids = [p.id for p in docs]
    if len(set(doc_ids)) != len(doc_ids):
        raise ClearirError(f"{spec.name}: document ids repeat in the pool; expected distinct paragraph ids")
    qrels = {q.id: gold(q) for q in queries}
    texts = [q.text for q in queries]
    mteb = mteb_subset(spec.dataset, spec.scenario, spec.query_lang, spec.doc_langs)
    repeated = len(set(texts)) < len(texts)
    if mteb is not None and (len(queries) < eligible or (mteb.queries_by_text and repeated)):
        mteb = None  # not MTEB's question set
    return RetrievalTask(
        spec=spec,
        query_ids=[q.id for q in queries],
        query_texts=texts,
        doc_ids=doc_ids,
        doc_texts=[p.text for p in docs],
        doc_langs=[p.lang for p in docs],
        qrels=qrels,
        query_prompt=meta.query_prompt,
        doc_prompt=meta.doc_prompt,
        main_score=meta.main_score,
        split=meta.split,
        mteb=mteb,
    )


def build_tasks(
    datasets: Sequence[str] | None = None,
    langs: Sequence[str] | None = None,
    scenarios: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    max_queries: int | None = None,
) -> list[RetrievalTask]:
    """All tasks of ``datasets`` (default: every dataset in the data directory) for ``langs`` (default: all
    of each dataset's available languages) and ``scenarios`` (default: all of each dataset's)."""
    root = resolve_data_dir(data_dir)
    found = available(root)
    if tatoeba := tatoeba_languages(root):
        found["tatoeba"] = tatoeba
    names = list(found) if datasets is None else list(dict.fromkeys(datasets))
    if not names:
        raise ClearirError(f"no datasets found in the data directory {root}; run `clearir data download`")
    tasks: list[RetrievalTask] = []
    for name in names:
        meta = eval_dataset(name)
        have = found.get(name, [])
        if not have:
            raise ClearirError(f"dataset {name!r} has no files in the data directory {root}")
        wanted = list(have) if langs is None else list(dict.fromkeys(langs))
        if name in DATASETS:
            wanted = [check_language(DATASETS[name], lang) for lang in wanted]
        else:
            wanted = [tatoeba_code(lang) for lang in wanted]
        pivot = [meta.pivot] if name in DATASETS else []  # Tatoeba: each pair file has its English side
        unknown = [lang for lang in (*pivot, *wanted) if lang not in have]
        if unknown:
            raise ClearirError(
                f"language {unknown[0]!r} is not available for {name} in {root}; "
                f"expected one of {', '.join(have)}"
            )
        if name == "tatoeba":
            for lang in wanted:
                if lang != meta.pivot:
                    corpora = bitext_corpora(root, lang)
                    tasks += [
                        build_task(s, corpora, max_queries) for s in task_specs(name, [lang], scenarios)
                    ]
            continue
        specs = task_specs(name, wanted, scenarios)
        needed = dict.fromkeys(lang for spec in specs for lang in (spec.query_lang, *spec.doc_langs))
        corpora = {lang: load_corpus(name, lang, root) for lang in needed}
        tasks += [build_task(spec, corpora, max_queries) for spec in specs]
    if not tasks:
        raise ClearirError("no tasks selected; give at least one language besides English, or monolingual")
    return tasks
