"""An experiment's directory: where everything lives, what each step's key is made from, and reading the
finished steps back.

::

    <out>/experiment.json       the layout version and the expanded grid (rewritten by every invocation)
    <out>/steps/<step>.json     one record per finished step (its key, seconds, result); steps.jsonl logs them
    <out>/rows/<key>/           training rows, shared by the runs with the same rows settings
    <out>/models/<run id>/      a run's fine-tuning: settings, loss log, model/ (kept with keep_models)
    <out>/eval/                 every evaluation: mteb's layout, and clearir/<name>/ (per-query values)
    <out>/summary.md, report.html, *.png, results.json or ablation.json     the report

Steps: ``rows-<key>``, ``train-<run id>``, ``eval-base``, ``eval-<run id>``, each evaluation also with SHIFT
(``eval-base+shift``, ...). A step is reused when its record's key is the one its settings give now (the
keys chain: a run's model key is its training key, made from its rows key and the base model's key), and
done again otherwise. Ids and keys hold no machine-specific path, so steps made on different machines can be
put together.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearir.errors import ClearirError
from clearir.evaluation.results import RESULTS_LAYOUT, entry_from_record, read_metric_values
from clearir.experiment.grid import Plan
from clearir.experiment.keys import step_key
from clearir.experiment.settings import Run, shift_settings
from clearir.experiment.steps import Steps
from clearir.metrics.registry import ABLATION, metric, shown_in
from clearir.precision import resolve_precision
from clearir.report.compare import scenario_kind
from clearir.report.results import ENGLISH, SHIFT_SUFFIX
from clearir.rows.sources import DEFAULT_PIVOT

LAYOUT_FILE = "experiment.json"
LAYOUT_VERSION = 2
ROWS_DIR = "rows"
MODELS_DIR = "models"
EVAL_DIR = "eval"
BASE_NAME = "base"

# The kinds of task every model is measured on, per training language L (kinds as in
# clearir.report.compare.scenario_kind), and whether each is a mixed pool.
FOCUS_KINDS: dict[str, bool] = {
    "en→en": False,
    "L→en": False,
    "en→L": False,
    "L→L": False,
    "mixed pool, L queries": True,
    "mixed pool, en queries": True,
}
# The (kind, metric) pairs every model is measured and compared on: the registry's ablation metrics, all of
# them in the mixed pools (nDCG@10 and nDCG@1 too), the others in each direction.
FOCUS: tuple[tuple[str, str], ...] = tuple(
    (kind, m.key)
    for kind, mixed in FOCUS_KINDS.items()
    for m in shown_in(ABLATION)
    if mixed or not m.mixed_only
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


def eval_name(run: Run | None, shift: bool) -> str:
    """The name an evaluation is stored under: ``base`` or the run's id, with ``+shift`` for SHIFT."""
    return (BASE_NAME if run is None else run.id) + (SHIFT_SUFFIX if shift else "")


def precision_part(plan: Plan) -> list[str]:
    """What ``precision`` means on this machine, as a key part: named only when not fp32, so fp32 keys stay
    those of the steps made before precision existed."""
    resolved = resolve_precision(plan.shared.precision)
    return [resolved] if resolved != "fp32" else []


def rows_key(run: Run, base_key: str) -> str:
    s = run.settings
    settings = [
        s.train_dataset,
        list(run.langs),
        s.num_negatives,
        list(s.window),
        s.miner,
        s.seed,
        s.max_rows,
    ]
    if s.rows.own_data:
        settings.append([s.train_files, s.train_table, s.train_columns])
    if s.pivot != DEFAULT_PIVOT:  # named only when not English, so English-pivot rows keep their keys
        settings.append({"pivot": s.pivot})
    return step_key("rows", settings, base_key if s.miner == "dense" else None)


def train_key(plan: Plan, run: Run, base_key: str) -> str:
    """The key of the run's fine-tuning, which is its model's key."""
    return step_key(
        "train", run.settings.relevant(), rows_key(run, base_key), base_key, *precision_part(plan)
    )


def eval_key(plan: Plan, run: Run | None, model: str, shift: bool) -> str:
    """The key of an evaluation of ``run``'s model (None: the base model), whose key is ``model``."""
    s = plan.shared
    settings = [
        list(s.eval_datasets),
        list(plan.model_langs(run, shift)),
        list(s.scenarios),
        s.eval_max_queries,
    ]
    settings += [s.eval_max_seq_length, *([shift_settings(s).to_dict()] if shift else [])]
    return step_key("eval", RESULTS_LAYOUT, model, settings, *precision_part(plan))


def check_layout(out: Path) -> None:
    """Refuse a directory made by another version of the experiment engine (or by something else)."""
    marker = out / LAYOUT_FILE
    if marker.is_file():
        try:
            version = json.loads(marker.read_text(encoding="utf-8")).get("layout")
        except (OSError, json.JSONDecodeError, AttributeError):
            version = None
        if version == LAYOUT_VERSION:
            return
        raise ClearirError(
            f"{out}: made by another clearir version (layout {version!r}, this one reads {LAYOUT_VERSION}); "
            "remove it or choose another --out"
        )
    old = [name for name in ("steps", "runs", "base", "plan.json", "results.json") if (out / name).exists()]
    if old:
        raise ClearirError(
            f"{out}: made by clearir before its one experiment engine (it holds {', '.join(old)}); its steps "
            "cannot be reused: remove it or choose another --out"
        )


@dataclass
class Finished:
    """What an experiment directory holds for a plan: the base model's evaluations (records by evaluation
    name), the finished runs' facts by run id, the runs not done yet, and those done with another base model
    or other settings."""

    base: dict[str, dict[str, Any]]
    runs: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[Run] = field(default_factory=list)
    stale: list[Run] = field(default_factory=list)
    base_key: str = ""


def load_finished(plan: Plan, required: bool = True) -> Finished:
    """Every finished run of ``plan`` in its directory (the base model's evaluation must exist unless not
    ``required``): a run is finished when its evaluations (with SHIFT too when on) have today's keys."""
    steps = Steps(plan.out)
    record = steps.record(f"eval-{BASE_NAME}")
    base_key = record["result"].get("model_key", "") if record else ""
    base = {}
    for shift in plan.shifts:
        done = steps.finished(f"eval-{eval_name(None, shift)}", eval_key(plan, None, base_key, shift))
        if done is not None:
            base[eval_name(None, shift)] = done["result"]
    if len(base) < len(plan.shifts):
        if required:
            raise ClearirError(
                f"{plan.out} has no base-model evaluation of these settings; run the experiment without "
                "--report-only first (any shard evaluates it)"
            )
        return Finished(base, missing=list(plan.runs), base_key=base_key)
    finished = Finished(base, base_key=base_key)
    for run in plan.runs:
        facts = run_facts(plan, steps, run, base_key)
        if facts is None:
            stale = steps.record(f"eval-{eval_name(run, False)}") is not None
            (finished.stale if stale else finished.missing).append(run)
        else:
            finished.runs[run.id] = facts
    return finished


def run_steps(plan: Plan, run: Run, base_key: str) -> dict[str, tuple[str, str]]:
    """The run's steps by role (``rows``, ``train``, ``eval``, with SHIFT ``eval+shift``): name and key."""
    train = train_key(plan, run, base_key)
    rows = rows_key(run, base_key)
    steps = {"rows": (f"rows-{rows}", rows), "train": (f"train-{run.id}", train)}
    for shift in plan.shifts:
        steps["eval+shift" if shift else "eval"] = (
            f"eval-{eval_name(run, shift)}",
            eval_key(plan, run, train, shift),
        )
    return steps


def finished_steps(plan: Plan, steps: Steps, run: Run, base_key: str) -> dict[str, dict[str, Any]] | None:
    """The records of the run's steps by role, or None unless every one is finished with today's key."""
    records = {
        role: steps.finished(name, key) for role, (name, key) in run_steps(plan, run, base_key).items()
    }
    return None if any(r is None for r in records.values()) else records


def run_facts(plan: Plan, steps: Steps, run: Run, base_key: str) -> dict[str, Any] | None:
    """A finished run's facts from its step records, or None when it is not finished with today's keys
    (then the job layer does what is missing: a run whose evaluations are finished needs no model)."""
    records = finished_steps(plan, steps, run, base_key)
    if records is None:
        return None
    rows, train = records["rows"], records["train"]
    evals = {
        eval_name(run, role == "eval+shift"): r for role, r in records.items() if role.startswith("eval")
    }
    seconds = {
        "rows": rows["seconds"],
        "train": train["seconds"],
        "eval": round(sum(e["seconds"] for e in evals.values()), 3),
    }
    plain = records["eval"]["result"]
    return {
        "settings": run.settings.relevant(),
        "rows": {"path": rows["result"]["path"], "count": rows["result"]["rows"]},
        "train": train["result"],
        "seconds": {**seconds, "total": round(sum(seconds.values()), 3)},
        "evaluations": {name: e["result"] for name, e in evals.items()},
        "entries": plain["entries"],
        "folder": plain["folder"],
        "host": train.get("host", ""),
        "finished": max(e["finished"] for e in evals.values()),
    }


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
