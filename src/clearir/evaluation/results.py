"""Evaluation output in the MTEB results layout, a CSV summary and a terminal table; every file atomic.

``<out>/<model>/<task>.json`` holds ``{"dataset_revision", "task_name", "mteb_version", "scores": {<split>:
[{"hf_subset", "languages", "main_score", <metric>: value, ...}]}, "evaluation_time", "kg_co2_emissions"}`` as
MTEB writes it, plus a ``"clearir"`` object (scenario, languages, pool size, encoding counts and precision);
``evaluation_time`` is the task's search and metric time (the encoding is shared by all tasks of a run).
``<out>/<model>/per_query/<task>.json`` has the per-query values, ``<out>/<model>/summary.csv`` a row per
task.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.table import Table

from clearir import __version__
from clearir.evaluation.scenarios import eval_dataset
from clearir.files import write_json, write_text

if TYPE_CHECKING:
    from clearir.evaluation.engine import EvalRun, TaskResult


def task_json(result: TaskResult, run: EvalRun) -> dict[str, Any]:
    """The MTEB-style result object of one task."""
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
            "precision": run.precision,
        },
    }


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
    """Write every task's JSON (and per-query JSON), then ``summary.csv``; returns the model's folder."""
    folder = Path(out_dir).expanduser() / run.model_name
    for result in run.results:
        write_json(folder / f"{result.name}.json", task_json(result, run))
        if write_per_query:
            write_json(
                folder / "per_query" / f"{result.name}.json",
                {"task_name": result.name, "split": result.split, "values": result.per_query},
            )
    write_text(folder / "summary.csv", summary_csv(run.results))
    return folder


def _cell(value: float | None, digits: int = 3) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def summary_table(run: EvalRun) -> Table:
    """A terminal table: one row per task with the headline metrics."""
    table = Table(title=f"{run.model_name}: {len(run.results)} tasks", title_justify="left")
    for header in ("dataset", "scenario", "queries→pool", "#q", "#docs", "main", "nDCG@10", "R@100"):
        table.add_column(
            header, justify="left" if header in ("dataset", "scenario", "queries→pool") else "right"
        )
    for header in ("Max@R", "C@10", "incl."):
        table.add_column(header, justify="right")
    for result in run.results:
        spec, scores = result.spec, result.scores
        table.add_row(
            spec.dataset,
            spec.scenario,
            f"{spec.query_lang}→{'+'.join(spec.doc_langs)}",
            str(result.n_queries),
            str(result.n_docs),
            _cell(result.main_value),
            _cell(scores["ndcg_at_10"]),
            _cell(scores["recall_at_100"]),
            _cell(scores.get("max_rank_mean"), 1),
            _cell(scores.get("complete_at_10")),
            _cell(scores.get("inclination_share")),
        )
    return table
