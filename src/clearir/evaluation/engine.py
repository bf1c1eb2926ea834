"""Run retrieval tasks on a model: encode every unique text once, search, and compute the metrics.

Standard metrics (:mod:`clearir.metrics.ranking`) use the top ``top_k`` documents of each query, so MAP is
reported as ``map_at_<top_k>``. Multi-gold tasks (bilingual and multilingual pools) add Max@R, Complete@k
and, for non-English queries with a gold document in their own language, English inclination
(:mod:`clearir.metrics.multigold`), computed exactly over the whole pool, block by block of queries. Bitext
tasks add ``accuracy`` (the translation ranked first).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sentence_transformers import SentenceTransformer

from clearir.config import resolve_model
from clearir.errors import ClearirError
from clearir.evaluation.encoder import Embeddings, TextEncoder, model_fingerprint, resolve_prompt
from clearir.evaluation.mteb_names import model_meta
from clearir.evaluation.results import write_results
from clearir.evaluation.scenarios import RetrievalTask, eval_dataset
from clearir.evaluation.search import Backend
from clearir.evaluation.search import top_k as search_top_k
from clearir.evaluation.types import EvalRun, TaskResult
from clearir.files import check_dir_target, check_name
from clearir.metrics.multigold import COMPLETE_KS, gold_ranks, inclination, max_rank
from clearir.metrics.ranking import per_query as ranking_per_query
from clearir.metrics.registry import ranking_measures, summarize
from clearir.model.load import load_model, model_source, set_max_seq_length
from clearir.precision import DEFAULT_PRECISION
from clearir.shift import Shift, ShiftSettings, prepare_shift

# Queries whose full score rows are held at once for the multi-gold metrics.
_RANK_BLOCK = 256


def default_model_name(model: str | Path | None) -> str:
    """The results folder name of a model: a path's last part, or a hub name with ``/`` as ``__`` (MTEB)."""
    name = resolve_model(None if model is None else str(model))
    path = Path(name).expanduser()
    return path.resolve().name if path.exists() else name.replace("/", "__")


def encoding_inputs(tasks: Sequence[RetrievalTask], model: SentenceTransformer) -> list[tuple[str, str]]:
    """Every (prompt, text) the tasks need, in task order (duplicates kept; the encoder dedupes)."""
    items: list[tuple[str, str]] = []
    for task in tasks:
        query_prompt, doc_prompt = (
            resolve_prompt(model, task.query_prompt),
            resolve_prompt(model, task.doc_prompt),
        )
        items += [(query_prompt, text) for text in task.query_texts]
        items += [(doc_prompt, text) for text in task.doc_texts]
    return items


def _multigold_per_query(
    task: RetrievalTask, queries: np.ndarray, docs: np.ndarray, pivot: str
) -> dict[str, dict[str, float]]:
    """Per query, over the whole pool: ``max_rank``, ``complete_at_k`` and (non-pivot queries, each with a
    gold document in its own language) ``inclination``."""
    lang_of = dict(zip(task.doc_ids, task.doc_langs, strict=True))
    with_inclination = (
        task.spec.query_lang != pivot
        and pivot in task.spec.doc_langs
        and all(
            any(rel > 0 and lang_of[doc] == task.spec.query_lang for doc, rel in task.qrels[qid].items())
            for qid in task.query_ids
        )
    )
    out: dict[str, dict[str, float]] = {"max_rank": {}}
    out.update({f"complete_at_{k}": {} for k in COMPLETE_KS})
    if with_inclination:
        out["inclination"] = {}
    for start in range(0, len(task.query_ids), _RANK_BLOCK):
        ids = task.query_ids[start : start + _RANK_BLOCK]
        scores = queries[start : start + _RANK_BLOCK] @ docs.T
        worst = max_rank(gold_ranks(task.qrels, ids, task.doc_ids, scores))
        for qid in ids:
            out["max_rank"][qid] = float(worst[qid])
            for k in COMPLETE_KS:
                out[f"complete_at_{k}"][qid] = float(worst[qid] <= k)
        if with_inclination:
            counts = inclination(
                task.qrels, ids, task.doc_ids, scores, task.doc_langs, task.spec.query_lang, pivot
            )
            out["inclination"].update({qid: float(n) for qid, n in counts.items()})
    return out


def score_task(
    task: RetrievalTask,
    queries: np.ndarray,
    docs: np.ndarray,
    search: Backend = "exact",
    top_k: int = 100,
) -> TaskResult:
    """Metrics of one task from its query and document embeddings (rows in task order)."""
    started = time.perf_counter()
    top_scores, top_indices = search_top_k(queries, docs, top_k, search)
    run = {
        qid: {task.doc_ids[j]: float(s) for j, s in zip(row_idx.tolist(), row_scores.tolist(), strict=True)}
        for qid, row_idx, row_scores in zip(task.query_ids, top_indices, top_scores, strict=True)
    }
    values = ranking_per_query(task.qrels, run, ranking_measures())
    values[f"map_at_{top_k}"] = values.pop("map")
    if task.spec.scenario == "bitext":
        values["accuracy"] = dict(values["recall_at_1"])
    if task.multigold:
        values.update(_multigold_per_query(task, queries, docs, eval_dataset(task.spec.dataset).pivot))
    return TaskResult(
        spec=task.spec,
        main_score=task.main_score,
        split=task.split,
        n_queries=len(task.query_ids),
        n_docs=len(task.doc_ids),
        scores=summarize(values),
        per_query=values,
        evaluation_time=time.perf_counter() - started,
        mteb=task.mteb,
    )


def score_tasks(
    tasks: Sequence[RetrievalTask],
    embeddings: Embeddings,
    model: SentenceTransformer,
    search: Backend = "exact",
    top_k: int = 100,
    progress: bool = True,
    shift: Shift | None = None,
) -> list[TaskResult]:
    """Score every task with embeddings looked up from ``embeddings`` (see :class:`TextEncoder`), the
    documents (and queries, if so set) shifted by ``shift``."""
    results = []
    columns = (
        TextColumn("scoring {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, disable=not progress, transient=True) as bar:
        job = bar.add_task("", total=len(tasks))
        for task in tasks:
            bar.update(job, description=task.spec.name)
            queries = embeddings.lookup(task.query_texts, resolve_prompt(model, task.query_prompt))
            docs = embeddings.lookup(task.doc_texts, resolve_prompt(model, task.doc_prompt))
            if shift is not None:
                queries, docs = shift.queries(task, queries), shift.documents(task, docs)
            results.append(score_task(task, queries, docs, search, top_k))
            bar.advance(job)
    return results


def evaluate_model(
    model: str | Path | SentenceTransformer | None,
    tasks: Sequence[RetrievalTask],
    out_dir: str | Path | None = None,
    *,
    model_name: str | None = None,
    cache_dir: str | Path | None = None,
    batch_size: int = 32,
    max_seq_length: int | None = None,
    search: Backend = "exact",
    top_k: int = 100,
    write_per_query: bool = True,
    progress: bool = True,
    shift: ShiftSettings | None = None,
    data_dir: str | Path | None = None,
    precision: str = DEFAULT_PRECISION,
    source: str | Path | None = None,
) -> EvalRun:
    """Evaluate ``model`` (a path or name, ``None`` for the default model, or a loaded SentenceTransformer)
    on ``tasks`` (see :func:`clearir.evaluation.scenarios.build_tasks`), encoding each unique text once.

    With ``out_dir``, writes the results (see :mod:`clearir.evaluation.results`: the tasks MTEB has in its
    layout, everything in clearir's). A loaded model gets its max_seq_length back afterwards.

    With ``shift``, the documents are SHIFT-corrected at indexing (:mod:`clearir.shift`; "auto" vectors are
    fitted from ``data_dir``'s parallel texts) and the default ``model_name`` ends in ``+shift``.
    ``precision`` (``auto``, ``fp32``, ``bf16``; see :mod:`clearir.precision`) is the encoding's. ``source``:
    the directory a loaded ``model`` was read from; its files then fingerprint the model as for a path (the
    same embedding cache), else its tensors do.
    """
    if not tasks:
        raise ClearirError("no tasks to evaluate")
    started = time.perf_counter()
    if model_name is None:
        if isinstance(model, SentenceTransformer):
            raise ClearirError("evaluating a loaded model needs model_name (the results folder name)")
        model_name = default_model_name(model) + ("+shift" if shift is not None else "")
    check_name(model_name, "--model-name")
    if out_dir is not None:
        check_dir_target(Path(out_dir).expanduser(), "--out")
    if isinstance(model, SentenceTransformer):
        loaded, source = model, None if source is None else model_source(source)
    else:
        loaded, source = load_model(model), model_source(model)
    original_length = loaded.max_seq_length
    # The model as loaded (its own max_seq_length): what SHIFT vectors files are checked against.
    identity = model_fingerprint(loaded, source) if shift is not None else ""
    try:
        if max_seq_length is not None:
            set_max_seq_length(loaded, max_seq_length)
        # The model as it encodes here (this max_seq_length): the embedding cache's and mteb's revision.
        fingerprint = model_fingerprint(loaded, source)
        encoder = TextEncoder(
            loaded,
            batch_size,
            cache_dir,
            progress,
            source=source,
            fingerprint=fingerprint,
            precision=precision,
        )
        shifted = prepare_shift(shift, encoder, identity, tasks, data_dir) if shift is not None else None
        embeddings, stats = encoder.encode(encoding_inputs(tasks, loaded))
        results = score_tasks(tasks, embeddings, loaded, search, top_k, progress, shifted)
        revision = fingerprint[:32]  # the id of the model's embedding cache folder too
        meta = model_meta(
            model_name,
            revision,
            n_parameters=sum(p.numel() for p in loaded.parameters()),
            embed_dim=loaded.get_embedding_dimension(),
            max_tokens=loaded.max_seq_length,
            similarity=loaded.similarity_fn_name,
        )
    finally:
        loaded.max_seq_length = original_length
    summary = shifted.summary() if shifted is not None else None
    run = EvalRun(
        model_name,
        results,
        stats,
        time.perf_counter() - started,
        revision=revision,
        model_meta=meta,
        shift=summary,
        precision=encoder.precision,
    )
    if out_dir is not None:
        write_results(run, out_dir, write_per_query=write_per_query)
    return run
