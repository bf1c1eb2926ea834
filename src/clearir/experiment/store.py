"""An ablation's directory: where everything lives, the done markers, and reading finished runs back.

::

    <out>/plan.json             the expanded grid (rewritten by every invocation)
    <out>/rows/<key>/           training rows, shared by the runs with the same rows settings
    <out>/base/done.json        the base model's evaluation (eval/base/ holds its per-query values)
    <out>/runs/<id>/            one run: train/ (logs; the model only with keep_models), eval/model/
                                (per-query values) and done.json, written last: its marker
    <out>/ablation.json, summary.md, report.html, *.png    the report

A done marker records the keys of the base model and of the evaluation settings it was made with; a run
made with others is done again (and left out of the report until it is). Ids and keys hold no machine-specific
path, so run folders made on different machines can be copied together.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clearir.data.files import parse_json, read_text
from clearir.errors import ClearirError
from clearir.evaluation.results import RESULTS_LAYOUT, entry_from_record, read_metric_values
from clearir.experiment.grid import Plan
from clearir.experiment.preset import step_key
from clearir.experiment.settings import Run
from clearir.metrics.registry import ABLATION, metric, shown_in
from clearir.model.build import read_manifest
from clearir.precision import resolve_precision
from clearir.report.compare import scenario_kind
from clearir.report.results import ENGLISH

PLAN_FILE = "plan.json"
DONE_FILE = "done.json"
ROWS_DIR = "rows"
BASE_DIR = "base"
RUNS_DIR = "runs"
TRAIN_DIR = "train"
EVAL_DIR = "eval"
BASE_NAME = "base"
MODEL_NAME = "model"

# The kinds of task every model is measured on, per training language L (kinds as in
# clearir.report.compare.scenario_kind), and whether each is a mixed pool.
FOCUS_KINDS: dict[str, bool] = {
    "en→en": False,
    "L→en": False,
    "en→L": False,
    "L→L": False,
    "mixed pool, L queries": True,
}
# The (kind, metric) pairs every model is measured and compared on: the registry's ablation metrics, those
# of mixed pools in the mixed pool, the others in each direction.
FOCUS: tuple[tuple[str, str], ...] = tuple(
    (kind, m.key) for kind, mixed in FOCUS_KINDS.items() for m in shown_in(ABLATION) if m.mixed_only == mixed
)


@dataclass(frozen=True, order=True)
class Target:
    """One measured quantity: a kind of task for language ``lang`` (``en`` for en→en) and a metric."""

    dataset: str
    lang: str
    kind: str
    metric: str

    @property
    def task(self) -> str:
        """``de→en``, ``mixed pool, de queries``, ``en→en``."""
        return self.kind.replace("L", self.lang)


# A model's per-query values of each target: query id -> value (their mean is the reported metric).
Values = dict[Target, dict[str, float]]


def targets_of(dataset: str, langs: Sequence[str]) -> list[Target]:
    """The focus targets of models trained on ``langs``: en→en, then each language's."""
    out = [Target(dataset, ENGLISH, kind, metric) for kind, metric in FOCUS if kind == "en→en"]
    for lang in langs:
        out += [Target(dataset, lang, kind, metric) for kind, metric in FOCUS if kind != "en→en"]
    return out


def run_dir(plan: Plan, run: Run) -> Path:
    return plan.out / RUNS_DIR / run.id


def base_dir(plan: Plan) -> Path:
    return plan.out / BASE_DIR


def eval_key(plan: Plan) -> str:
    """What the evaluation of every model is made from (the same tasks for every run and the base model), and
    what ``precision`` means here (named only when not fp32, so fp32 keys stay as they were)."""
    s = plan.shared
    precision = resolve_precision(s.precision)
    return step_key(
        "ablation-eval",
        RESULTS_LAYOUT,
        list(s.eval_datasets),
        list(plan.eval_langs),
        list(s.scenarios),
        s.eval_max_queries,
        s.eval_max_seq_length,
        *([precision] if precision != "fp32" else []),
    )


def model_key(path: Path) -> str:
    """A base model's identity: a clearir build's source hash, else a hash of the directory's files."""
    built = read_manifest(path)
    if built:
        return step_key("model", built.get("source_sha256"), built.get("converter_version"))
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\x00")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
    return step_key("model", digest.hexdigest())


def run_key(run: Run, base_key: str, evaluation: str) -> str:
    return step_key("ablation-run", run.id, base_key, evaluation)


def read_done(folder: Path) -> dict[str, Any] | None:
    """A folder's done record, or None when it has none or an unreadable one (then it is done again)."""
    path = folder / DONE_FILE
    if not path.is_file():
        return None
    try:
        record = parse_json(read_text(path, "a done marker"), path)
    except ClearirError:
        return None
    return record if isinstance(record, dict) and "key" in record else None


@dataclass
class Finished:
    """What an ablation directory holds for a plan: the base evaluation, the finished runs (done records by
    run id), the runs not done yet, and those done with another base model or other evaluation settings."""

    base: dict[str, Any]
    runs: dict[str, dict[str, Any]]
    missing: list[Run]
    stale: list[Run]


def load_finished(plan: Plan) -> Finished:
    """Every finished run of ``plan`` in its directory; the base model's evaluation must exist."""
    base = read_done(base_dir(plan))
    evaluation = eval_key(plan)
    if base is None or base.get("eval_key") != evaluation:
        state = (
            "has no base-model evaluation" if base is None else "holds a base evaluation of other settings"
        )
        raise ClearirError(
            f"{plan.out} {state}; run `clearir ablate` without --report-only first (any shard evaluates it)"
        )
    runs: dict[str, dict[str, Any]] = {}
    missing: list[Run] = []
    stale: list[Run] = []
    for run in plan.runs:
        record = read_done(run_dir(plan, run))
        if record is None:
            missing.append(run)
        elif record["key"] != run_key(run, base["base_key"], evaluation):
            stale.append(run)
        else:
            runs[run.id] = record
    return Finished(base, runs, missing, stale)


def load_values(folder: Path, entries: Sequence[dict[str, Any]], langs: Sequence[str]) -> Values:
    """The per-query values of the focus targets of ``langs`` from an evaluation's folder, where ``entries``
    are its records (``clearir.evaluation.results.eval_entries``)."""
    values: Values = {}
    for record in entries:
        entry = entry_from_record(record)
        if entry.scenario == "multilingual":
            continue
        if entry.query_lang == ENGLISH and entry.doc_langs == (ENGLISH,):
            kinds = [(ENGLISH, "en→en")]
        else:
            kinds = [
                (lang, scenario_kind(entry, lang))
                for lang in langs
                if lang in (entry.query_lang, *entry.doc_langs)
            ]
        for lang, kind in kinds:
            metrics = [metric for k, metric in FOCUS if k == kind]
            if not metrics:
                continue
            per_query = read_metric_values(folder, record["task"], [metric(key) for key in metrics])
            for key, by_query in per_query.items():
                values[Target(entry.dataset, lang, kind, key)] = by_query
    return values
