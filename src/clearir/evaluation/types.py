"""What an evaluation produces: one task's metrics (:class:`TaskResult`), one model's run (:class:`EvalRun`).

Its own module so that the engine, which makes them, and :mod:`clearir.evaluation.results`, which writes and
reads them, both import it and not each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from clearir.evaluation.encoder import EncodeStats
from clearir.evaluation.mteb_names import MtebSubset
from clearir.evaluation.scenarios import TaskSpec


@dataclass
class TaskResult:
    """The metrics of one task: means over queries (``scores``) and per-query values
    (``per_query[measure][query id]``), for significance tests; ``mteb``: the MTEB subset it is, if any."""

    spec: TaskSpec
    main_score: str
    split: str
    n_queries: int
    n_docs: int
    scores: dict[str, float]
    per_query: dict[str, dict[str, float]] = field(repr=False)
    evaluation_time: float
    mteb: MtebSubset | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def main_value(self) -> float:
        return self.scores[self.main_score]


@dataclass
class EvalRun:
    """One model's evaluation: its results, the encoding counts and the total wall time; ``revision`` (the
    model's content fingerprint) and ``model_meta`` (mteb's ``model_meta.json``) name it for mteb; for a SHIFT
    variant, ``shift`` is what was applied (:meth:`clearir.shift.Shift.summary`). ``precision`` is
    what the texts were encoded in (``fp32`` or ``bf16``)."""

    model_name: str
    results: list[TaskResult]
    encoding: EncodeStats
    seconds: float
    revision: str = "no_revision_available"
    model_meta: dict[str, Any] | None = None
    shift: dict[str, Any] | None = None
    precision: str = "fp32"
