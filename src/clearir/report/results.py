"""The machine-readable record of one run (``results.json``): what ran, with what, how long, and the scores.

Raw facts only live here (configuration, versions, timings, models, per-scenario metrics, training-loss
curves, significance tests); derived views (deltas against the base model, English retention) are computed by
``clearir.report.compare`` and written next to the raw facts in ``results.json`` for convenience.
"""

from __future__ import annotations

import math
import platform
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from clearir.data.files import parse_json, read_text
from clearir.errors import ClearirError

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
class Significance:
    """Paired test of a model against a ``reference`` model (the base model unless named) on one evaluation
    and metric (per query).

    ``diff`` is mean(model - reference), ``ci_low``/``ci_high`` its bootstrap interval, ``p_value`` the
    two-sided randomization-test p-value over ``n`` queries. A ``results.json`` written before references
    were named has none: its tests are against the base model, ``"base"``.
    """

    model: str
    dataset: str
    scenario: str
    query_lang: str
    doc_langs: tuple[str, ...]
    metric: str
    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int
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


def clean_metrics(metrics: dict[str, Any]) -> dict[str, float | None]:
    """Metric values as floats; None, NaN and infinities become None (shown as missing, never as a number)."""
    cleaned: dict[str, float | None] = {}
    for name, value in metrics.items():
        number = None if value is None else float(value)
        cleaned[str(name)] = number if number is not None and math.isfinite(number) else None
    return cleaned


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
