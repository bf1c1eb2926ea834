"""Evaluation output: the tasks MTEB has as mteb writes them, everything in clearir's own folder, a CSV
summary and a terminal table; every file atomic.

* ``<out>/<mteb model>/<revision>/<MTEB task>.json`` and ``model_meta.json``: mteb's results layout, for the
  tasks that are exactly an MTEB task's subset (:mod:`clearir.evaluation.mteb_names`), so
  ``mteb.ResultCache`` reads ``<out>`` when it is named ``results``. One file per MTEB task, one entry per
  subset: ``{"dataset_revision", "task_name", "mteb_version", "scores": {<split>: [{"hf_subset",
  "languages", "main_score", <metric>: value, ...}]}, "evaluation_time", "kg_co2_emissions", "date"}``;
  subsets of an earlier run of the same model and revision are kept. ``<mteb model>`` is
  :func:`~clearir.evaluation.mteb_names.mteb_model_folder`, ``<revision>`` the model's fingerprint.
* ``<out>/clearir/<model>/``: ``tasks/<task>.json`` (every task, in the same form plus a ``"clearir"``
  object: scenario, languages, pool size, encoding counts and precision, the SHIFT applied if any),
  ``per_query/<task>.json.gz`` (per-query values, gzip-compressed JSON: ``{"task_name", "split",
  "queries": [query id, ...], "values": {measure: [value or null per query]}}``; ``read_per_query`` also
  reads the older uncompressed ``<task>.json`` of ``{measure: {query id: value}}``) and ``summary.csv``
  (a row per task); deeper than the ``<model>/<revision>/<task>.json`` that mteb scans.
  This folder is written in a staging folder and renamed into place when complete.

``evaluation_time`` is the search and metric time (the encoding is shared by all tasks of a run).

Reading it back (beside the writer, so one module says what the folder holds): ``eval_entries`` are the
records a run keeps of an evaluation (one per task: what it measured, its scores, its task name),
``entry_from_record`` turns one into an :class:`EvalEntry`, ``read_per_query`` reads a task's per-query values
and ``read_metric_values`` those of reported metrics (:mod:`clearir.metrics.registry`).
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import shutil
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from clearir import __version__
from clearir.data.files import parse_json, read_text
from clearir.errors import ClearirError
from clearir.evaluation.mteb_names import MTEB_VERSION, mteb_model_folder
from clearir.evaluation.scenarios import eval_dataset
from clearir.files import staged_dir, write_bytes, write_json, write_text
from clearir.metrics.registry import EVAL, Metric, shown_in, tested_values

if TYPE_CHECKING:
    from clearir.evaluation.types import EvalRun, TaskResult


CLEARIR_DIR = "clearir"
# The version of this layout: part of every finished evaluation's key, so a run directory written in an older
# layout is evaluated again rather than read in the wrong place.
RESULTS_LAYOUT = "mteb-v1"
TASKS_DIR = "tasks"
PER_QUERY_DIR = "per_query"
PER_QUERY_SUFFIX = ".json.gz"
MODEL_META = "model_meta.json"


def clearir_folder(out_dir: str | Path, model_name: str) -> Path:
    """``<out>/clearir/<model>``: a model's clearir results (tasks, per-query values, summary)."""
    return Path(out_dir).expanduser() / CLEARIR_DIR / model_name


def mteb_folder(out_dir: str | Path, model_name: str) -> Path:
    """``<out>/<mteb model>``: a model's results in mteb's layout (one folder per revision)."""
    return Path(out_dir).expanduser() / mteb_model_folder(model_name)


def remove_results(out_dir: str | Path, model_name: str) -> None:
    """Delete a model's results from ``out_dir``, both folders."""
    for folder in (clearir_folder(out_dir, model_name), mteb_folder(out_dir, model_name)):
        shutil.rmtree(folder, ignore_errors=True)


def task_json(result: TaskResult, run: EvalRun) -> dict[str, Any]:
    """The MTEB-style result object of one task, with clearir's facts."""
    spec = result.spec
    entry = {
        "hf_subset": spec.subset,
        "languages": spec.languages,
        "main_score": result.main_value,
        **result.scores,
    }
    return {
        "dataset_revision": eval_dataset(spec.dataset).revision,
        "task_name": spec.name,
        "mteb_version": None,
        "scores": {result.split: [entry]},
        "evaluation_time": result.evaluation_time,
        "kg_co2_emissions": None,
        "clearir": {
            "version": __version__,
            "model": run.model_name,
            "dataset": spec.dataset,
            "scenario": spec.scenario,
            "query_lang": spec.query_lang,
            "doc_langs": list(spec.doc_langs),
            "main_score": result.main_score,
            "num_queries": result.n_queries,
            "num_docs": result.n_docs,
            "texts_encoded_in_run": run.encoding.encoded,
            "encoding_seconds_in_run": run.encoding.seconds,
            "mteb": None
            if result.mteb is None
            else {"task_name": result.mteb.task, "hf_subset": result.mteb.subset, "split": result.mteb.split},
            **({"shift": run.shift} if run.shift is not None else {}),
            "precision": run.precision,
        },
    }


def mteb_task_jsons(run: EvalRun) -> dict[str, dict[str, Any]]:
    """MTEB task name -> its result object as mteb writes it, from the run's tasks that are MTEB subsets (each
    subset once)."""
    out: dict[str, dict[str, Any]] = {}
    for result in run.results:
        if (mteb := result.mteb) is None:
            continue
        entry = {
            "hf_subset": mteb.subset,
            "languages": mteb.languages,
            "main_score": result.main_value,
            **result.scores,
            "mteb_version": MTEB_VERSION,
        }
        task = out.setdefault(
            mteb.task,
            {
                "dataset_revision": eval_dataset(result.spec.dataset).revision,
                "task_name": mteb.task,
                "mteb_version": MTEB_VERSION,
                "scores": {},
                "evaluation_time": 0.0,
                "kg_co2_emissions": None,
                "date": time.time(),
            },
        )
        entries = task["scores"].setdefault(mteb.split, [])
        if any(e["hf_subset"] == mteb.subset for e in entries):
            continue  # a matrix cell that is also a classic direction of the run: the same task
        entries.append(entry)
        task["evaluation_time"] += result.evaluation_time
    return out


def _merge_earlier(path: Path, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` plus the subsets of the earlier result at ``path`` (same data revision) that it lacks."""
    if not path.is_file():
        return new
    old = parse_json(read_text(path, "an mteb task result"), path)
    try:
        if old["dataset_revision"] != new["dataset_revision"]:
            return new
        scores = {split: list(entries) for split, entries in new["scores"].items()}
        for split, entries in old["scores"].items():
            have = {entry["hf_subset"] for entry in scores.get(split, [])}
            scores.setdefault(split, []).extend(e for e in entries if e["hf_subset"] not in have)
        time_before = old.get("evaluation_time") or 0.0
    except (KeyError, TypeError, AttributeError) as exc:
        raise ClearirError(
            f"{path}: not an mteb task result ({exc}); remove it or choose another --out"
        ) from exc
    return {**new, "scores": scores, "evaluation_time": new["evaluation_time"] + time_before}


def summary_rows(results: Sequence[TaskResult]) -> list[dict[str, Any]]:
    """One flat row per task: identity, sizes, ``main_score`` and every metric."""
    rows = []
    for result in results:
        spec = result.spec
        rows.append(
            {
                "task_name": spec.name,
                "dataset": spec.dataset,
                "scenario": spec.scenario,
                "query_lang": spec.query_lang,
                "doc_langs": "+".join(spec.doc_langs),
                "num_queries": result.n_queries,
                "num_docs": result.n_docs,
                "main_score": result.main_value,
                **result.scores,
            }
        )
    return rows


def summary_csv(results: Sequence[TaskResult]) -> str:
    """The summary rows as CSV; metrics a task lacks are empty cells."""
    rows = summary_rows(results)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_results(run: EvalRun, out_dir: str | Path, write_per_query: bool = True) -> Path:
    """Write the MTEB tasks' files and ``model_meta.json``, then every task's JSON (and per-query JSON) and
    ``summary.csv`` into a staging folder that then replaces clearir's folder of the model: that folder holds
    a previous complete result or the new one, never a part. Returns clearir's folder of the model."""
    if (mteb_tasks := mteb_task_jsons(run)) and run.model_meta is not None:
        revision_dir = mteb_folder(out_dir, run.model_name) / run.revision
        for name, data in mteb_tasks.items():
            path = revision_dir / f"{name}.json"
            write_json(path, _merge_earlier(path, data))
        write_json(revision_dir / MODEL_META, run.model_meta)
    folder = clearir_folder(out_dir, run.model_name)
    with staged_dir(folder) as staging:
        for result in run.results:
            write_json(staging / TASKS_DIR / f"{result.name}.json", task_json(result, run))
            if write_per_query:
                write_bytes(
                    staging / PER_QUERY_DIR / f"{result.name}{PER_QUERY_SUFFIX}", per_query_file(result)
                )
        write_text(staging / "summary.csv", summary_csv(run.results))
    return folder


def summary_table(run: EvalRun) -> Table:
    """A terminal table: one row per task with the metrics the registry shows in ``clearir eval``."""
    table = Table(title=f"{run.model_name}: {len(run.results)} tasks", title_justify="left")
    for header in ("dataset", "scenario", "queries→pool"):
        table.add_column(header)
    for header in ("#q", "#docs", "main"):
        table.add_column(header, justify="right")
    metrics = shown_in(EVAL)
    for spec in metrics:
        table.add_column(spec.short, justify="right")
    for result in run.results:
        spec, scores = result.spec, result.scores
        table.add_row(
            spec.dataset,
            spec.scenario,
            f"{spec.query_lang}→{'+'.join(spec.doc_langs)}",
            str(result.n_queries),
            str(result.n_docs),
            f"{result.main_value:.3f}",
            *("" if (value := scores.get(m.key)) is None else m.format(value) for m in metrics),
        )
    return table


# -- reading it back


@dataclass(frozen=True)
class EvalEntry:
    """The metrics of one model on one (dataset, scenario, query language, pool languages).

    ``doc_langs`` lists the languages of the document pool: one language for a direction such as hi→en, two
    (English and L) for the bilingual mixed pool, all of them for the multilingual pool. Metric values are
    finite floats, or None where the metric is undefined.
    """

    model: str
    dataset: str
    scenario: str
    query_lang: str
    doc_langs: tuple[str, ...]
    metrics: dict[str, float | None]
    num_queries: int = 0
    num_docs: int = 0

    @property
    def is_mixed(self) -> bool:
        return len(self.doc_langs) > 1

    @property
    def key(self) -> tuple[str, str, str, tuple[str, ...]]:
        """What the entry measures, independent of the model."""
        return (self.dataset, self.scenario, self.query_lang, self.doc_langs)


def clean_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Metric values as floats; None, NaN and infinities become None (shown as missing, never as a number)."""
    cleaned: dict[str, float | None] = {}
    for name, value in metrics.items():
        number = None if value is None else float(value)
        cleaned[str(name)] = number if number is not None and math.isfinite(number) else None
    return cleaned


def eval_entries(model: str, results: Sequence[TaskResult]) -> list[dict[str, Any]]:
    """The records a run keeps of one model's evaluation (JSON-ready): an ``EvalEntry``'s fields and the
    task's name (where its per-query values are)."""
    return [
        {
            "model": model,
            "dataset": r.spec.dataset,
            "scenario": r.spec.scenario,
            "query_lang": r.spec.query_lang,
            "doc_langs": list(r.spec.doc_langs),
            "metrics": clean_metrics(r.scores),
            "num_queries": r.n_queries,
            "num_docs": r.n_docs,
            "task": r.spec.name,
        }
        for r in results
    ]


def entry_from_record(record: dict[str, Any]) -> EvalEntry:
    """An ``EvalEntry`` from one of ``eval_entries``' records."""
    fields = {k: v for k, v in record.items() if k != "task"}
    return EvalEntry(
        **{**fields, "doc_langs": tuple(fields["doc_langs"]), "metrics": clean_metrics(fields["metrics"])}
    )


def per_query_file(result: TaskResult) -> bytes:
    """A task's per-query values as ``write_results`` stores them: the query ids once, then each measure's
    values in that order (null where a measure has no value for a query), gzip-compressed JSON. Written with
    ``mtime=0`` so the same values give the same bytes."""
    queries = list(dict.fromkeys(q for values in result.per_query.values() for q in values))
    values = {m: [by_query.get(q) for q in queries] for m, by_query in result.per_query.items()}
    data = {"task_name": result.name, "split": result.split, "queries": queries, "values": values}
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return gzip.compress(text.encode("utf-8"), mtime=0)


def read_per_query(folder: Path, task: str) -> dict[str, dict[str, float]]:
    """A task's per-query values, ``measure -> query id -> value``, as ``write_results`` wrote them into
    ``folder`` (:func:`clearir_folder`): ``<task>.json.gz``, or an older ``<task>.json``."""
    path = folder / PER_QUERY_DIR / f"{task}{PER_QUERY_SUFFIX}"
    if path.is_file():
        try:
            text = gzip.decompress(path.read_bytes()).decode("utf-8")
        except (OSError, EOFError, UnicodeDecodeError) as exc:
            raise ClearirError(f"{path}: not readable gzip-compressed per-query values ({exc})") from exc
    else:
        path = folder / PER_QUERY_DIR / f"{task}.json"
        text = read_text(path, "per-query values written by the evaluation")
    data = parse_json(text, path)
    try:
        if "queries" in data:
            queries = [str(q) for q in data["queries"]]
            return {
                measure: {q: float(v) for q, v in zip(queries, values, strict=True) if v is not None}
                for measure, values in data["values"].items()
            }
        return {
            measure: {str(q): float(v) for q, v in values.items()}
            for measure, values in data["values"].items()
        }
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise ClearirError(
            f"{path}: malformed per-query values ({exc}); expected {{'queries': [...], 'values': {{...}}}}"
        ) from exc


def read_metric_values(folder: Path, task: str, metrics: Iterable[Metric]) -> dict[str, dict[str, float]]:
    """``metric key -> query id -> value`` of a task for each testable metric of ``metrics`` it has: the
    values whose mean is the reported metric."""
    return tested_values(read_per_query(folder, task), metrics)
