"""The machine-readable record of one run (``results.json``): what ran, with what, how long, and the scores.

Raw facts only live here (configuration, versions, timings, models, per-scenario metrics, training-loss
curves, significance tests); derived views (deltas against the base model, English retention) are computed by
``clearir.report.compare`` and written next to the raw facts in ``results.json`` for convenience.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from clearir.data.files import parse_json, read_text
from clearir.errors import ClearirError
from clearir.evaluation.results import EvalEntry, clean_metrics, entry_from_record, read_metric_values
from clearir.metrics.registry import RUN, metric, shown_in
from clearir.metrics.significance import PairedTest, compare_many

SCHEMA_VERSION = 1
ENGLISH = "en"
# A model's SHIFT variant is named ``<model>+shift`` (``clearir.shift`` applied at indexing).
SHIFT_SUFFIX = "+shift"


@dataclass(frozen=True)
class ModelEntry:
    """One evaluated model: the base model (``loss`` None), one fine-tuned per (training language, loss), or
    a variant of either (e.g. ``+ shift``; the base model's has no training language)."""

    name: str
    path: str
    loss: str | None = None
    train_lang: str | None = None

    @property
    def is_base(self) -> bool:
        return self.loss is None


@dataclass(frozen=True)
class PhaseTiming:
    """Wall time of one phase of the run; ``reused`` when a finished result of an earlier run was taken."""

    phase: str
    seconds: float
    reused: bool = False
    detail: str = ""


@dataclass(frozen=True)
class LossCurve:
    """The training loss of one fine-tuned model: one value list per component, aligned with ``steps``."""

    model: str
    steps: tuple[int, ...]
    components: dict[str, tuple[float, ...]]


@dataclass(frozen=True)
class _Tested:
    """What a ``Significance`` record tested: a model on one evaluation and metric."""

    model: str
    dataset: str
    scenario: str
    query_lang: str
    doc_langs: tuple[str, ...]
    metric: str


@dataclass(frozen=True)
class Significance(PairedTest, _Tested):
    """Paired test (:class:`~clearir.metrics.significance.PairedTest`: ``diff``, ``ci_low``, ``ci_high``,
    ``p_value``, ``n``) of a model against a ``reference`` model (the base model unless named) on one
    evaluation and metric (per query); fields in the order model, dataset, scenario, query_lang, doc_langs,
    metric, diff, ci_low, ci_high, p_value, n, reference.

    A ``results.json`` written before references were named has none: its tests are against the base model,
    ``"base"``.
    """

    reference: str = "base"

    @property
    def key(self) -> tuple[str, str, str, tuple[str, ...]]:
        return (self.dataset, self.scenario, self.query_lang, self.doc_langs)


@dataclass
class RunResults:
    """Everything one ``clearir run`` produced, in the form written to ``results.json``."""

    name: str
    created: str
    config: dict[str, Any]
    versions: dict[str, str]
    models: list[ModelEntry]
    evaluations: list[EvalEntry]
    timings: list[PhaseTiming] = field(default_factory=list)
    loss_curves: list[LossCurve] = field(default_factory=list)
    significance: list[Significance] = field(default_factory=list)

    def __post_init__(self) -> None:
        names = [m.name for m in self.models]
        if len(set(names)) != len(names):
            raise ClearirError(f"results: model names must be unique, got {names}")
        bases = [m.name for m in self.models if m.is_base]
        if len(bases) != 1:
            raise ClearirError(f"results: expected exactly one base model (loss null), got {bases}")
        known = set(names)
        for item in [*self.evaluations, *self.loss_curves, *self.significance]:
            if item.model not in known:
                raise ClearirError(f"results: {type(item).__name__} names unknown model {item.model!r}")
        for test in self.significance:
            if test.reference not in known:
                raise ClearirError(f"results: Significance names unknown reference model {test.reference!r}")

    @property
    def base(self) -> ModelEntry:
        return next(m for m in self.models if m.is_base)

    @property
    def losses(self) -> list[str]:
        """The losses of the fine-tuned models, in first-seen order."""
        return list(dict.fromkeys(m.loss for m in self.models if m.loss is not None))

    @property
    def train_langs(self) -> list[str]:
        return list(dict.fromkeys(m.train_lang for m in self.models if m.train_lang is not None))

    @property
    def total_seconds(self) -> float:
        return sum(t.seconds for t in self.timings)

    def model(self, loss: str, train_lang: str) -> ModelEntry | None:
        """The model of ``loss`` trained on ``train_lang``, or a training-free one of ``loss`` (no training
        language, e.g. the base model + SHIFT), which stands for every language."""
        return next((m for m in self.models if m.loss == loss and m.train_lang in (train_lang, None)), None)

    def shifted(self, model: ModelEntry) -> ModelEntry | None:
        """``model``'s SHIFT variant (``<name>+shift``), if it was evaluated."""
        return next((m for m in self.models if m.name == model.name + SHIFT_SUFFIX), None)

    def to_dict(self) -> dict[str, Any]:
        """The raw facts as JSON-ready data (tuples become lists)."""
        data = asdict(self)
        return {"schema_version": SCHEMA_VERSION, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "results") -> RunResults:
        """Inverse of ``to_dict``; extra keys (derived views) are ignored, missing or malformed ones raise."""
        if not isinstance(data, dict):
            raise ClearirError(f"{source}: expected a JSON object, got {type(data).__name__}")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            raise ClearirError(
                f"{source}: schema_version {version!r} is not supported (expected {SCHEMA_VERSION})"
            )
        try:
            models = [ModelEntry(**m) for m in data["models"]]
            # Tests written before references were named are against the base model.
            base = next((m.name for m in models if m.is_base), "base")
            return cls(
                name=str(data["name"]),
                created=str(data["created"]),
                config=dict(data["config"]),
                versions={str(k): str(v) for k, v in data["versions"].items()},
                models=models,
                evaluations=[
                    EvalEntry(
                        **{**e, "doc_langs": tuple(e["doc_langs"]), "metrics": clean_metrics(e["metrics"])}
                    )
                    for e in data["evaluations"]
                ],
                timings=[PhaseTiming(**t) for t in data.get("timings", [])],
                loss_curves=[
                    LossCurve(
                        model=c["model"],
                        steps=tuple(int(s) for s in c["steps"]),
                        components={k: tuple(float(x) for x in v) for k, v in c["components"].items()},
                    )
                    for c in data.get("loss_curves", [])
                ],
                significance=[
                    Significance(**{"reference": base, **s, "doc_langs": tuple(s["doc_langs"])})
                    for s in data.get("significance", [])
                ],
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise ClearirError(f"{source}: malformed results ({type(exc).__name__}: {exc})") from exc


def load_results(path: Path) -> RunResults:
    """Read a ``results.json`` written by ``write_report``."""
    return RunResults.from_dict(parse_json(read_text(path, "a clearir results.json"), path), str(path))


VERSIONED_PACKAGES = ("torch", "transformers", "sentence-transformers", "datasets", "numpy", "clearir")


def package_versions() -> dict[str, str]:
    """Python's and the main packages' versions (``not installed`` when absent)."""
    versions = {"python": platform.python_version()}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


# -- made from what a run's steps wrote

# Logged values that are not loss components.
_NOT_LOSS = {"step", "epoch", "learning_rate", "grad_norm", "total_flos"}


def read_loss_curve(model: str, log_path: Path) -> LossCurve:
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


# The metric of each language-matrix scenario's heatmap (:mod:`clearir.report.matrix`).
HEATMAP_METRIC: dict[str, str] = {"matrix": "ndcg_at_10", "pairs": "complete_at_10"}


def significance_tests(
    model: str,
    model_dir: Path,
    reference: str,
    reference_dir: Path,
    records: Sequence[dict[str, Any]],
    n_resamples: int,
) -> list[Significance]:
    """Paired randomization tests and bootstrap intervals of ``model`` against the ``reference`` model on
    every task of ``records`` (the model's ``eval_entries``) and every metric of the run report
    (:mod:`clearir.metrics.registry`) with per-query values; a language-matrix cell only on its heatmap's
    metric (``HEATMAP_METRIC``: hundreds of cells, each tested once)."""
    keys, pairs = [], []
    for record in records:
        entry = entry_from_record(record)
        key = HEATMAP_METRIC.get(entry.scenario)
        metrics = (metric(key),) if key else shown_in(RUN)
        mine = read_metric_values(model_dir, record["task"], metrics)
        base = read_metric_values(reference_dir, record["task"], metrics)
        for name in (m for m in mine if m in base):
            keys.append((*entry.key, name))
            pairs.append((mine[name], base[name], name))
    tests = compare_many(pairs, n_resamples, seed=0)
    return [
        Significance(model, *key, **test.record(), reference=reference)
        for key, test in zip(keys, tests, strict=True)
    ]
