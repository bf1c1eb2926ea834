"""clearir's scenarios that MTEB lacks, as MTEB retrieval tasks: ``mteb.evaluate(model, tasks=tasks(...))``.

One task per dataset and scenario (e.g. ``ClearirXQuADBilingualRetrieval``), one subset per clearir task
(``de-en+de``: German questions in the English + German pool), built from the local data files by
:func:`clearir.evaluation.scenarios.build_tasks` (never from the hub). The mixed pools also report Max@R,
Complete@k and English inclination (:mod:`clearir.metrics.multigold`) as task-specific scores, ranked over
the whole pool, under the names ``clearir eval`` writes (``max_rank_mean``, ``complete_at_10``,
``inclination_share``, ...).

The scenarios MTEB has (XQuAD monolingual, MLQA monolingual and cross-lingual, Belebele monolingual and
cross-lingual) are left to mteb's own tasks (``XQuADRetrieval``, ``MLQARetrieval``, ``BelebeleRetrieval``).
mteb is imported only when :func:`tasks` is called (the ``mteb`` extra: ``pip install 'clearir[mteb]'``).
The model needs ``query`` and ``document`` prompts if it uses prompts (mteb looks them up by these names).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from clearir.config import data_dir as resolve_data_dir
from clearir.data.registry import DATASETS, available
from clearir.errors import ClearirError
from clearir.evaluation.mteb_names import mteb_subset
from clearir.evaluation.scenarios import SCENARIOS, RetrievalTask, build_tasks, eval_dataset
from clearir.metrics.multigold import COMPLETE_KS, evaluate_multigold

_XQUAD_CITATION = r"""@article{Artetxe:etal:2019,
  archiveprefix = {arXiv},
  author = {Mikel Artetxe and Sebastian Ruder and Dani Yogatama},
  eprint = {1910.11856},
  journal = {CoRR},
  title = {On the cross-lingual transferability of monolingual representations},
  volume = {abs/1910.11856},
  year = {2019},
}"""
_MLQA_CITATION = r"""@article{lewis2019mlqa,
  author = {Lewis, Patrick and Oguz, Barlas and Rinott, Ruty and Riedel, Sebastian and Schwenk, Holger},
  journal = {arXiv preprint arXiv:1910.07475},
  title = {MLQA: Evaluating Cross-lingual Extractive Question Answering},
  year = {2019},
}"""
_BELEBELE_CITATION = r"""@article{bandarkar2023belebele,
  author = {Lucas Bandarkar and Davis Liang and Benjamin Muller and Mikel Artetxe and Satya Narayan Shukla
    and Donald Husa and Naman Goyal and Abhinandan Krishnan and Luke Zettlemoyer and Madian Khabsa},
  journal = {arXiv preprint arXiv:2308.16884},
  title = {The Belebele Benchmark: a Parallel Reading Comprehension Dataset in 122 Language Variants},
  year = {2023},
}"""


@dataclass(frozen=True)
class _Source:
    """The TaskMetadata facts of a dataset's source data, as in mteb's own task of that data (``name``
    Retrieval, which each task is adapted from); the license is the registry's."""

    name: str
    date: tuple[str, str]
    domains: tuple[str, ...]
    annotations_creators: str
    sample_creation: str
    bibtex_citation: str


_SOURCES: dict[str, _Source] = {
    "xquad": _Source(
        "XQuAD",
        ("2019-05-21", "2019-11-21"),
        ("Web", "Written"),
        "human-annotated",
        "created",
        _XQUAD_CITATION,
    ),
    "mlqa": _Source(
        "MLQA",
        ("2019-01-01", "2020-12-31"),
        ("Encyclopaedic", "Written"),
        "human-annotated",
        "found",
        _MLQA_CITATION,
    ),
    "belebele": _Source(
        "Belebele",
        ("2023-08-31", "2023-08-31"),
        ("Web", "News", "Written"),
        "expert-annotated",
        "created",
        _BELEBELE_CITATION,
    ),
}


def task_name(dataset: str, scenario: str) -> str:
    """``ClearirXQuADBilingualRetrieval``, ``ClearirMLQACrosslingualWideRetrieval``, ..."""
    words = "".join(part.capitalize() for part in scenario.split("-"))
    return f"Clearir{_SOURCES[dataset].name}{words}Retrieval"


def _metadata(dataset: str, scenario: str, built: Sequence[RetrievalTask]) -> Any:
    from mteb.abstasks.task_metadata import TaskMetadata

    meta, source = eval_dataset(dataset), _SOURCES[dataset]
    return TaskMetadata(
        name=task_name(dataset, scenario),
        description=(
            f"{meta.title}, clearir's {scenario} scenario: {SCENARIOS[scenario].description}. Subset "
            "<query lang>-<pool langs>; the mixed pools add Max@R (rank of the worst-ranked gold document), "
            "Complete@k and English inclination."
        ),
        reference=meta.reference,
        dataset={"path": meta.reference, "revision": meta.revision},
        type="Retrieval",
        category="t2t",
        modalities=["text"],
        eval_splits=[meta.split],
        eval_langs={task.spec.subset: task.spec.languages for task in built},
        main_score=meta.main_score,
        date=source.date,
        domains=list(source.domains),
        task_subtypes=["Question answering"],
        license=DATASETS[dataset].license.lower().replace(" ", "-"),  # "CC BY-SA 4.0" -> "cc-by-sa-4.0"
        annotations_creators=source.annotations_creators,
        dialect=[],
        sample_creation=source.sample_creation,
        bibtex_citation=source.bibtex_citation,
        adapted_from=[f"{source.name}Retrieval"],
        contributed_by="clearir",
    )


@cache
def _base_class() -> type:
    """The shared task class, made on first use so that importing this module does not need mteb."""
    try:
        from datasets import Dataset
        from mteb.abstasks.retrieval import AbsTaskRetrieval
    except ImportError as exc:
        raise ClearirError(
            "clearir.mteb needs the mteb package; install the extra: pip install 'clearir[mteb]'"
        ) from exc

    class ClearirRetrieval(AbsTaskRetrieval):
        """A clearir scenario on one dataset; ``built``: subset -> the clearir task."""

        built: dict[str, RetrievalTask]

        def __init__(self, built: dict[str, RetrievalTask], **kwargs: Any) -> None:
            self.built = built
            super().__init__(**kwargs)

        def load_data(self, num_proc: int | None = None, **kwargs: Any) -> None:
            if self.data_loaded:
                return
            self.dataset = {}
            for subset in self.hf_subsets:
                task = self.built[subset]
                self.dataset[subset] = {
                    task.split: {
                        "corpus": Dataset.from_dict({"id": task.doc_ids, "text": task.doc_texts}),
                        "queries": Dataset.from_dict({"id": task.query_ids, "text": task.query_texts}),
                        "relevant_docs": {q: dict(gold) for q, gold in task.qrels.items()},
                        "top_ranked": None,
                    }
                }
            self.data_loaded = True

        def _evaluate_subset(self, model: Any, data_split: Any, **kwargs: Any) -> Any:
            # Max@R ranks the whole pool: keep every document's score.
            self._top_k = max(len(data_split["corpus"]), *self.k_values)
            return super()._evaluate_subset(model, data_split, **kwargs)

        def task_specific_scores(
            self,
            scores: dict[str, dict[str, float]],
            qrels: dict[str, dict[str, int]],
            results: dict[str, dict[str, float]],
            hf_split: str,
            hf_subset: str,
        ) -> dict[str, float]:
            task = self.built[hf_subset]
            return multigold_scores(task, score_matrix(task, results)) if task.multigold else {}

    return ClearirRetrieval


def score_matrix(task: RetrievalTask, results: dict[str, dict[str, float]]) -> np.ndarray:
    """mteb's retrieval results (query id -> document id -> score) as a dense [queries, pool] matrix."""
    column = {doc: j for j, doc in enumerate(task.doc_ids)}
    matrix = np.empty((len(task.query_ids), len(task.doc_ids)), dtype=np.float32)
    for i, qid in enumerate(task.query_ids):
        row = results.get(qid, {})
        if len(row) != len(column):
            raise ClearirError(
                f"{task.spec.name}: query {qid!r} has {len(row)} scored documents; expected the whole pool "
                f"({len(column)})"
            )
        for doc, score in row.items():
            matrix[i, column[doc]] = score
    return matrix


def multigold_scores(task: RetrievalTask, scores: np.ndarray) -> dict[str, float]:
    """Max@R, Complete@k and (non-English queries in a pool with English) English inclination."""
    pivot = eval_dataset(task.spec.dataset).pivot
    with_inclination = task.spec.query_lang != pivot and pivot in task.spec.doc_langs
    return evaluate_multigold(
        task.qrels,
        task.query_ids,
        task.doc_ids,
        scores,
        task.doc_langs if with_inclination else None,
        task.spec.query_lang if with_inclination else None,
        ks=COMPLETE_KS,
        other_lang=pivot,
    )


def tasks(
    datasets: Sequence[str] | None = None,
    langs: Sequence[str] | None = None,
    scenarios: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    max_queries: int | None = None,
) -> list[Any]:
    """mteb tasks for clearir's scenarios that MTEB lacks, from the local data files.

    Args:
        datasets: some of xquad, mlqa, belebele (default: those in the data directory).
        langs: languages besides English (default: all available).
        scenarios: clearir scenarios (default: all of each dataset's); subsets MTEB has are left out.
        data_dir: the data directory (default: as ``clearir eval`` finds it).
        max_queries: questions per subset (default: all).

    Example:
        >>> import mteb
        >>> from sentence_transformers import SentenceTransformer
        >>> from clearir.mteb import tasks
        >>> model = SentenceTransformer("path/to/model")
        >>> result = mteb.evaluate(model, tasks=tasks(["xquad"], ["de"], ["bilingual"]), cache=None)
    """
    base = _base_class()
    if datasets is None:
        datasets = [name for name in available(resolve_data_dir(data_dir)) if name in _SOURCES]
    unknown = [name for name in datasets if name not in _SOURCES or name not in DATASETS]
    if unknown:
        raise ClearirError(f"dataset {unknown[0]!r} has no mteb task; expected some of {', '.join(_SOURCES)}")
    groups: dict[tuple[str, str], dict[str, RetrievalTask]] = {}
    for task in build_tasks(datasets, langs, scenarios, data_dir, max_queries):
        spec = task.spec
        if mteb_subset(spec.dataset, spec.scenario, spec.query_lang, spec.doc_langs) is None:
            groups.setdefault((spec.dataset, spec.scenario), {})[spec.subset] = task
    if not groups:
        raise ClearirError(
            "every selected task is an MTEB task already (XQuADRetrieval, MLQARetrieval, BelebeleRetrieval); "
            "choose crosslingual (XQuAD), crosslingual-wide (MLQA), bilingual or multilingual"
        )
    out = []
    for (dataset, scenario), built in groups.items():
        cls = type(
            task_name(dataset, scenario),
            (base,),
            {"metadata": _metadata(dataset, scenario, list(built.values()))},
        )
        out.append(cls(built))
    return out
