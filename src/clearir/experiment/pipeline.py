"""``run_pipeline``: the main job end to end, resumable.

1. the base model (the default one is built if missing);
2. training rows per language from MLQA-R (``<run>/rows/<lang>``);
3. one fine-tuned model per (language, loss) (``<run>/models/<loss>-<lang>``);
4. the base model and every fine-tuned model evaluated on XQuAD, every direction and mixed pool, training and
   zero-shot languages, one pass per model over a shared embedding cache (``<run>/eval/<model>``);
   and, with ``shift`` (the default), each of them again with SHIFT (``<model>+shift``, vectors fitted per
   model from MLQA-R paragraphs; :mod:`clearir.shift`);
5. paired significance tests against the base model (with SHIFT also fine-tuned vs. base + SHIFT vs. both:
   ``clearir.report.compare.significance_pairs``), and the report (``summary.md``, PNGs, ``report.html``,
   ``results.json``) in ``<run>``.

Each step records its settings' hash when it finishes; running again with the
same ``--out`` reuses finished steps, redoes those whose settings changed, and continues an interrupted
fine-tuning from its last checkpoint.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from clearir.config import data_dir as resolve_data_dir
from clearir.config import home_dir, resolve_model
from clearir.data.registry import dataset_spec
from clearir.errors import ClearirError
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.results import RESULTS_LAYOUT, clearir_folder, entry_from_record, eval_entries
from clearir.evaluation.scenarios import RetrievalTask, build_tasks
from clearir.experiment.preset import RunConfig, step_key
from clearir.experiment.rows import write_rows
from clearir.experiment.steps import Steps, now
from clearir.files import check_dir_target
from clearir.model.build import build_model, read_manifest
from clearir.precision import resolve_precision
from clearir.report import ModelEntry, PhaseTiming, RunResults, package_versions, write_report
from clearir.report.compare import significance_pairs
from clearir.report.results import SHIFT_SUFFIX
from clearir.report.results import read_loss_curve as loss_curve
from clearir.report.results import significance_tests as significance
from clearir.rows.sources import own_data_settings
from clearir.shift import ShiftSettings
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.trainer import CHECKPOINTS, LOSS_LOG, last_checkpoint, train

BASE = "base"


@dataclass
class RunOutcome:
    """A finished run: its directory, results, report files, and which steps ran or were reused this time."""

    run_dir: Path
    results: RunResults
    files: dict[str, Path]
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0


@dataclass
class _Model:
    name: str
    path: Path
    key: str
    loss: str | None = None
    lang: str | None = None


class _Runner:
    def __init__(self, config: RunConfig, console: Console, progress: bool) -> None:
        self.config = config
        self.run_dir = check_dir_target(Path(config.out).expanduser().absolute(), "--out")
        self.steps = Steps(self.run_dir)
        self.console = console
        self.progress = progress
        self.data_dir = str(resolve_data_dir(config.data_dir).absolute())
        _check_files(config, Path(self.data_dir))
        # What --precision means on this machine: part of every training and evaluation step's key (named
        # only when it is not fp32, so that fp32 keys stay those of the runs before --precision existed).
        self.precision = resolve_precision(config.precision)
        self.precision_key = [self.precision] if self.precision != "fp32" else []
        self.timings: list[PhaseTiming] = []
        self.computed: list[str] = []
        self.reused: list[str] = []

    def step(
        self,
        name: str,
        key: str,
        compute: Callable[[], dict[str, Any]],
        exists: Callable[[dict[str, Any]], bool],
        detail: Callable[[dict[str, Any]], str],
    ) -> dict[str, Any]:
        """Reuse the finished step ``name`` made with settings ``key`` (if its output still exists), else
        compute it and record it."""
        record = self.steps.finished(name, key)
        if record is not None and exists(record["result"]):
            self.steps.log(name, "reused", 0.0)
            self.reused.append(name)
            text = detail(record["result"])
            self.timings.append(PhaseTiming(name, record["seconds"], True, text))
            took = f"took {record['seconds']:.1f} s"
            self.console.print(Text(f"  {name}: reused ({text}; {took})", style="dim"))
            return record["result"]
        started = time.perf_counter()
        result = compute()
        seconds = time.perf_counter() - started
        self.steps.finish(name, key, seconds, result)
        self.computed.append(name)
        text = detail(result)
        self.timings.append(PhaseTiming(name, round(seconds, 3), False, text))
        self.console.print(Text(f"  {name}: done in {seconds:.1f} s ({text})"))
        return result

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.run_dir))

    # -- 1. base model

    def base_model(self) -> _Model:
        started = time.perf_counter()
        if self.config.model is None:
            path, done = build_model()
            reused = done == "reused"
        else:
            path = Path(resolve_model(self.config.model)).expanduser()
            if not path.is_dir():
                raise ClearirError(f"--model {self.config.model}: not a local model directory")
            reused = True
        path = path.absolute()
        seconds = time.perf_counter() - started
        built = read_manifest(path)
        identity = built["source_sha256"] if built else str(path)
        self.timings.append(PhaseTiming("base model", round(seconds, 3), reused, str(path)))
        how = "reused" if reused else f"built in {seconds:.1f} s"
        self.console.print(Text(f"  base model: {path} ({how})"))
        return _Model(
            BASE, path, step_key("model", identity, built.get("converter_version") if built else None)
        )

    # -- 2. training rows

    def rows(self, lang: str, base: _Model) -> tuple[Path, str]:
        c = self.config
        out = self.run_dir / "rows" / lang
        settings = [c.train_dataset, lang, c.num_negatives, list(c.window), c.miner, c.seed, c.max_rows]
        settings += own_data_settings(c.train_files, c.train_table, c.train_columns)
        key = step_key("rows", settings, self.data_dir, base.key if c.miner == "dense" else None)

        def compute() -> dict[str, Any]:
            count = write_rows(c, [lang], out, self.data_dir, base.path)
            return {"path": self.rel(out), "rows": count}

        self.step(f"rows-{lang}", key, compute, lambda r: out.is_dir(), lambda r: f"{r['rows']} rows")
        return out, key

    # -- 3. fine-tuning

    def fine_tune(self, lang: str, loss: str, rows: tuple[Path, str], base: _Model) -> _Model:
        name = f"{loss}-{lang}"
        out = self.run_dir / "models" / name
        config = self.config.train_config(str(rows[0]), str(out), loss, str(base.path))
        settings = {k: v for k, v in config.to_dict().items() if k not in ("data", "out", "model", "resume")}
        key = step_key("train", settings, rows[1], base.key, *self.precision_key)

        def compute() -> dict[str, Any]:
            result = train(_resumable(config, out), progress=self.progress)
            return {
                "model_dir": self.rel(result.model_dir),
                "loss_log": self.rel(result.loss_log),
                "global_step": result.global_step,
                "train_loss": result.train_loss,
                "train_seconds": round(result.runtime_s, 3),
                "rows": result.rows,
                "resumed_from": self.rel(result.resumed_from) if result.resumed_from else None,
            }

        record = self.step(
            f"train-{name}",
            key,
            compute,
            lambda r: (self.run_dir / r["model_dir"] / "config.json").is_file(),
            lambda r: f"{r['global_step']} steps on {r['rows']} rows, mean loss {r['train_loss']:.4f}",
        )
        # A finished model needs no checkpoints; they are most of a run's disk space.
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
        return _Model(name, self.run_dir / record["model_dir"], key, loss, lang)

    # -- 4. evaluation

    def evaluate(
        self, model: _Model, tasks: Callable[[], list[RetrievalTask]], shift: ShiftSettings | None = None
    ) -> dict[str, Any]:
        c = self.config
        name = model.name + SHIFT_SUFFIX if shift is not None else model.name
        folder = clearir_folder(self.run_dir / "eval", name)
        settings = [
            list(c.eval_datasets),
            list(c.all_eval_langs),
            list(c.scenarios),
            c.eval_max_queries,
            c.eval_max_seq_length,
        ]
        if shift is not None:
            settings.append(shift.to_dict())
        key = step_key("eval", RESULTS_LAYOUT, model.key, settings, self.data_dir, *self.precision_key)

        def compute() -> dict[str, Any]:
            run = evaluate_model(
                str(model.path),
                tasks(),
                self.run_dir / "eval",
                model_name=name,
                cache_dir=Path(c.cache_dir).expanduser() if c.cache_dir else home_dir() / "embeddings",
                batch_size=c.eval_batch_size,
                max_seq_length=c.eval_max_seq_length,
                progress=self.progress,
                shift=shift,
                data_dir=self.data_dir,
                precision=c.precision,
            )
            return {
                "folder": self.rel(folder),
                "entries": eval_entries(name, run.results),
                "encoded": run.encoding.encoded,
                "cached": run.encoding.cached,
            }

        return self.step(
            f"eval-{name}",
            key,
            compute,
            lambda r: (self.run_dir / r["folder"]).is_dir(),
            lambda r: (
                f"{len(r['entries'])} tasks, {r['encoded']} texts encoded, {r['cached']} from the cache"
            ),
        )


def _resumable(config: TrainConfig, out: Path) -> TrainConfig:
    """``config``, resuming when ``out`` holds an interrupted run of the same settings with a checkpoint;
    anything else left in ``out`` (other settings, no checkpoint yet) is removed first."""
    saved = out / CONFIG_FILE
    if saved.is_file():
        before = {k: v for k, v in TrainConfig.load(saved).to_dict().items() if k != "resume"}
        now_ = {k: v for k, v in config.to_dict().items() if k != "resume"}
        if before == now_ and last_checkpoint(out / CHECKPOINTS) is not None:
            return TrainConfig.from_dict({**config.to_dict(), "resume": True})
    shutil.rmtree(out, ignore_errors=True)
    return config


def _check_files(config: RunConfig, root: Path) -> None:
    """Every data file the run reads exists, before any work starts."""
    own_data = config.train_files or config.train_table  # checked when its source is read (settings_source)
    needed = [] if own_data else [(config.train_dataset, lang) for lang in ("en", *config.langs)]
    needed += [(name, lang) for name in config.eval_datasets for lang in ("en", *config.all_eval_langs)]
    for name, lang in dict.fromkeys(needed):
        path = dataset_spec(name).path(root, lang)
        if not path.is_file():
            what = "is not a file" if path.exists() else "file not found"
            raise ClearirError(
                f"{path}: {what} (expected the {name} {lang} file; run `clearir data download --datasets "
                f"{name} --langs {lang}`)"
            )


def _model_entries(
    base: _Model, tuned: list[_Model], c: RunConfig, rel: Callable[[Path], str]
) -> list[ModelEntry]:
    """The report's models: the base model, then each fine-tuned one, each followed by its SHIFT variant
    (training-free for the base model: no training language, compared in every language)."""
    entries = [ModelEntry(BASE, str(base.path))]
    if c.shift:
        entries.append(ModelEntry(BASE + SHIFT_SUFFIX, str(base.path), "shift"))
    for m in tuned:
        label = c.loss_label(m.loss or "")
        entries.append(ModelEntry(m.name, rel(m.path), label, m.lang))
        if c.shift:
            entries.append(ModelEntry(m.name + SHIFT_SUFFIX, rel(m.path), label + " + shift", m.lang))
    return entries


def _phase(console: Console, number: int, text: str) -> None:
    console.print(Text.assemble((f"{number}/5 ", "bold"), text))


def run_pipeline(config: RunConfig, console: Console | None = None, progress: bool = True) -> RunOutcome:
    """Run (or resume) the whole job described by ``config`` and write its report; see the module doc."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    runner = _Runner(config, console, progress)
    c = config
    n_models = len(c.langs) * len(c.losses)
    console.rule(Text(f"clearir run → {runner.run_dir}"))

    _phase(console, 1, "base model")
    base = runner.base_model()

    source = c.train_table or c.train_files or c.train_dataset
    _phase(console, 2, f"training rows from {source} for {', '.join(c.langs)}")
    rows = {lang: runner.rows(lang, base) for lang in c.langs}

    _phase(console, 3, f"fine-tuning {n_models} models ({c.steps} steps each)")
    tuned = [runner.fine_tune(lang, loss, rows[lang], base) for lang in c.langs for loss in c.losses]

    langs = ", ".join(c.all_eval_langs)
    n_evals = (n_models + 1) * (2 if c.shift else 1)
    _phase(
        console, 4, f"{n_evals} evaluations ({n_models + 1} models) on {', '.join(c.eval_datasets)} ({langs})"
    )
    built: list[RetrievalTask] = []

    def tasks() -> list[RetrievalTask]:
        if not built:
            built.extend(
                build_tasks(
                    c.eval_datasets, c.all_eval_langs, c.scenarios, runner.data_dir, c.eval_max_queries
                )
            )
        return built

    evaluations = {m.name: runner.evaluate(m, tasks) for m in [base, *tuned]}
    # SHIFT on top of every model (vectors fitted for each), once its plain evaluation filled the cache.
    shifted = [base, *tuned] if c.shift else []
    evaluations.update({m.name + SHIFT_SUFFIX: runner.evaluate(m, tasks, ShiftSettings()) for m in shifted})

    _phase(console, 5, "significance tests and report")
    test_started = time.perf_counter()
    models = _model_entries(base, tuned, c, runner.rel)
    tests = [
        test
        for name, reference in significance_pairs(models)
        for test in significance(
            name,
            runner.run_dir / evaluations[name]["folder"],
            reference,
            runner.run_dir / evaluations[reference]["folder"],
            evaluations[name]["entries"],
            c.significance_resamples,
        )
    ]
    runner.timings.append(PhaseTiming("significance tests", round(time.perf_counter() - test_started, 3)))
    results = RunResults(
        name=runner.run_dir.name,
        created=now(),
        config={**c.to_dict(), "precision_resolved": runner.precision},
        versions=package_versions(),
        models=models,
        evaluations=[entry_from_record(r) for e in evaluations.values() for r in e["entries"]],
        timings=runner.timings,
        loss_curves=[loss_curve(m.name, m.path.parent / LOSS_LOG) for m in tuned],
        significance=tests,
    )
    report_started = time.perf_counter()
    files = write_report(results, runner.run_dir)
    report_seconds = time.perf_counter() - report_started
    console.print(Text(f"  report: {len(files)} files in {report_seconds:.1f} s"))
    return RunOutcome(
        run_dir=runner.run_dir,
        results=results,
        files=files,
        computed=runner.computed,
        reused=runner.reused,
        wall_seconds=time.perf_counter() - started,
    )
