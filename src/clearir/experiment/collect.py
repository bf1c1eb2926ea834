"""Turn what the steps wrote into report records: metrics, training-loss curves and significance tests."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from clearir.data.files import parse_json, read_text
from clearir.errors import ClearirError
from clearir.evaluation.engine import TaskResult
from clearir.evaluation.results import PER_QUERY_DIR
from clearir.metrics.significance import compare
from clearir.report.results import EvalEntry, LossCurve, Significance, clean_metrics

# Logged values that are not loss components.
_NOT_LOSS = {"step", "epoch", "learning_rate", "grad_norm", "total_flos"}
# Report metric -> (per-query measure, per-query transform): the mean of the transformed per-query values is
# the reported metric, so the paired tests test exactly the reported difference.
PER_QUERY: dict[str, tuple[str, Any]] = {
    "ndcg_at_10": ("ndcg_at_10", float),
    "recall_at_10": ("recall_at_10", float),
    "max_rank_mean": ("max_rank", float),
    "complete_at_10": ("complete_at_10", float),
    "inclination_share": ("inclination", lambda count: float(count >= 1)),
}


def eval_entries(model: str, results: Sequence[TaskResult]) -> list[dict[str, Any]]:
    """The report's metric records of one model's evaluation, as JSON-ready dicts."""
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
    """An ``EvalEntry`` from one of ``eval_entries``' dicts."""
    fields = {k: v for k, v in record.items() if k != "task"}
    return EvalEntry(
        **{**fields, "doc_langs": tuple(fields["doc_langs"]), "metrics": clean_metrics(fields["metrics"])}
    )


def loss_curve(model: str, log_path: Path) -> LossCurve:
    """The loss components per step from a trainer's ``loss_log.jsonl`` (lines without a loss are skipped:
    the end-of-training summary). Non-finite values are kept out (a stopped run never logs them)."""
    steps: list[int] = []
    components: dict[str, list[float]] = {}
    for number, line in enumerate(read_text(log_path, "the trainer's loss log").splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json(line, log_path, first_line=number)
        if not isinstance(record, dict) or "loss" not in record or "step" not in record:
            continue
        values = {
            key: float(value)
            for key, value in record.items()
            if key not in _NOT_LOSS
            and not key.startswith("train_")
            and isinstance(value, int | float)
            and math.isfinite(value)
        }
        steps.append(int(record["step"]))
        for key, value in values.items():
            components.setdefault(key, []).append(value)
    # Components must line up with the steps; one logged only sometimes is left out.
    aligned = {key: tuple(v) for key, v in components.items() if len(v) == len(steps)}
    return LossCurve(model, tuple(steps), aligned)


def read_per_query(folder: Path, task: str) -> dict[str, dict[str, float]]:
    """A task's per-query values, ``measure -> query id -> value``, as written by ``clearir eval`` into
    ``folder`` (:func:`clearir.evaluation.results.clearir_folder`)."""
    path = folder / PER_QUERY_DIR / f"{task}.json"
    data = parse_json(read_text(path, "per-query values written by the evaluation"), path)
    try:
        return {
            measure: {str(q): float(v) for q, v in values.items()}
            for measure, values in data["values"].items()
        }
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise ClearirError(
            f"{path}: malformed per-query values ({exc}); expected {{'values': {{...}}}}"
        ) from exc


def significance(
    model: str,
    model_dir: Path,
    reference: str,
    reference_dir: Path,
    records: Sequence[dict[str, Any]],
    n_resamples: int,
) -> list[Significance]:
    """Paired randomization tests and bootstrap intervals of ``model`` against the ``reference`` model on
    every task of ``records`` (the model's ``eval_entries``) and every reported metric with per-query
    values."""
    out: list[Significance] = []
    for record in records:
        mine = read_per_query(model_dir, record["task"])
        base = read_per_query(reference_dir, record["task"])
        for metric, (measure, transform) in PER_QUERY.items():
            if measure not in mine or measure not in base:
                continue
            a = {q: transform(v) for q, v in mine[measure].items()}
            b = {q: transform(v) for q, v in base[measure].items()}
            test = compare(a, b, metric, n_resamples=n_resamples, seed=0)
            out.append(
                Significance(
                    model=model,
                    dataset=record["dataset"],
                    scenario=record["scenario"],
                    query_lang=record["query_lang"],
                    doc_langs=tuple(record["doc_langs"]),
                    metric=metric,
                    diff=test.diff,
                    ci_low=test.ci_low,
                    ci_high=test.ci_high,
                    p_value=test.p_value,
                    n=test.n,
                    reference=reference,
                )
            )
    return out
