"""Retrieval tasks from a local BEIR/MTEB-format set (``clearir eval --beir DIR``; :mod:`clearir.data.beir`).

The set is one task per query language (one task when queries carry no language): its judged queries
against the whole corpus. A language missing from the files is ``und`` (undetermined). The task is named
``beir-<directory name>-<query language>-<corpus languages>``, e.g. ``beir-myset-de-en+de``. Where the corpus
mixes languages and a query has several relevant documents, the engine adds the mixed-pool metrics (Max@R,
Complete@k and, for non-English queries with a relevant document in their own language, English
inclination).
"""

from __future__ import annotations

import re
from pathlib import Path

from clearir.data.beir import read_beir
from clearir.evaluation.scenarios import BEIR, RetrievalTask, TaskSpec, sample_queries

UNDETERMINED = "und"


def beir_tasks(path: str | Path, split: str = "test", max_queries: int | None = None) -> list[RetrievalTask]:
    """The tasks of the BEIR-format set in directory ``path`` for ``split``; ``max_queries`` keeps that many
    queries per task, chosen as the registry's tasks choose them (by a hash of the id)."""
    data = read_beir(path, split)
    corpus, queries = data.corpus, data.queries
    doc_langs = corpus.langs or [UNDETERMINED] * len(corpus.ids)
    pool = sorted(set(doc_langs), key=lambda lang: (lang != "en", lang))
    query_lang = dict(zip(queries.ids, queries.langs or [UNDETERMINED] * len(queries.ids), strict=True))
    by_lang: dict[str, list[str]] = {}
    for qid in data.qrels:
        by_lang.setdefault(query_lang[qid], []).append(qid)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", data.path.resolve().name).strip("_") or "local"
    text_of = dict(zip(queries.ids, queries.texts, strict=True))
    tasks = []
    for lang, ids in by_lang.items():
        if max_queries is not None:
            keep = sample_queries(ids, max_queries)
            ids = [qid for qid in ids if qid in keep]
        tasks.append(
            RetrievalTask(
                spec=TaskSpec(BEIR.name, name, lang, tuple(pool)),
                query_ids=ids,
                query_texts=[text_of[qid] for qid in ids],
                doc_ids=list(corpus.ids),
                doc_texts=list(corpus.texts),
                doc_langs=list(doc_langs),
                qrels={qid: data.qrels[qid] for qid in ids},
                query_prompt=BEIR.query_prompt,
                doc_prompt=BEIR.doc_prompt,
                main_score=BEIR.main_score,
                split=split,
            )
        )
    return tasks
