"""The job layer every experiment runs on (``clearir run`` and ``clearir ablate`` alike): the base model and
its identity, training rows, fine-tuning with resume, and evaluation over the shared embedding cache. Each job
is a step with one record and one resume rule (:mod:`clearir.experiment.steps`, keys in
:mod:`clearir.experiment.store`): a step whose record has today's key is reused, any other is done again, and
an interrupted fine-tuning of the same settings continues from its last checkpoint.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text
from sentence_transformers import SentenceTransformer

from clearir.config import data_dir as resolve_data_dir
from clearir.config import home_dir, resolve_model
from clearir.data.registry import dataset_spec
from clearir.errors import ClearirError
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.results import clearir_folder, eval_entries
from clearir.evaluation.scenarios import RetrievalTask, build_tasks
from clearir.experiment.grid import Plan
from clearir.experiment.keys import model_key
from clearir.experiment.settings import Run, shift_settings
from clearir.experiment.steps import Steps
from clearir.experiment.store import (
    EVAL_DIR,
    MODELS_DIR,
    ROWS_DIR,
    eval_key,
    eval_name,
    finished_steps,
    rows_key,
    run_steps,
    train_key,
)
from clearir.model.build import build_model
from clearir.model.load import load_model
from clearir.report.results import PhaseTiming
from clearir.rows.settings import write_rows
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.trainer import CHECKPOINTS, MODEL, last_checkpoint, train


@dataclass
class Model:
    """A model to evaluate: the run it comes from (None for the base model), its directory and its key."""

    run: Run | None
    path: Path
    key: str


@dataclass
class Jobs:
    """The jobs of one experiment directory, and what this invocation computed and reused."""

    plan: Plan
    console: Console
    progress: bool = True
    timings: list[PhaseTiming] = field(default_factory=list)
    computed: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.out = self.plan.out
        self.steps = Steps(self.out)
        self.data_dir = str(resolve_data_dir(self.plan.shared.data_dir).absolute())
        cache = self.plan.shared.cache_dir
        self.cache_dir = Path(cache).expanduser() if cache else home_dir() / "embeddings"
        self._tasks: dict[tuple[str, ...], list[RetrievalTask]] = {}
        self._rows: set[str] = set()  # rows made or checked by this invocation (shared by several runs)
        self._loaded: tuple[Path, SentenceTransformer] | None = None  # the model being evaluated

    def step(
        self,
        name: str,
        key: str,
        compute: Callable[[], dict[str, Any]],
        exists: Callable[[dict[str, Any]], bool],
        detail: Callable[[dict[str, Any]], str],
        label: str | None = None,
    ) -> dict[str, Any]:
        """Reuse the finished step ``name`` made with settings ``key`` (if its output still exists), else
        compute it and record it; ``label`` names it in the log (default: ``name``)."""
        label = label or name
        record = self.steps.finished(name, key)
        if record is not None and exists(record["result"]):
            self._reuse(name, label, record, detail(record["result"]))
            return record["result"]
        started = time.perf_counter()
        result = compute()
        seconds = time.perf_counter() - started
        self.steps.finish(name, key, seconds, result, label)
        self.computed.append(label)
        text = detail(result)
        self.timings.append(PhaseTiming(label, round(seconds, 3), False, text))
        self.console.print(Text(f"  {label}: done in {seconds:.1f} s ({text})"))
        return result

    def _reuse(self, name: str, label: str, record: dict[str, Any], text: str) -> None:
        self.steps.log(name, "reused", 0.0, label)
        self.reused.append(label)
        self.timings.append(PhaseTiming(label, record["seconds"], True, text))
        took = f"took {record['seconds']:.1f} s"
        self.console.print(Text(f"  {label}: reused ({text}; {took})", style="dim"))

    def reuse_finished(self, run: Run, base: Model, labels: dict[str, str]) -> bool:
        """Reuse a run whose every step is finished with today's keys (its model need not exist any more);
        ``labels`` names its steps (``rows``, ``train``, ``eval``, ``eval+shift``). Whether it was."""
        records = finished_steps(self.plan, self.steps, run, base.key)
        if records is None:
            return False
        rows_done = rows_key(run, base.key) in self._rows
        names = run_steps(self.plan, run, base.key)
        for role, record in records.items():
            if not (role == "rows" and rows_done):
                self._reuse(names[role][0], labels[role], record, "finished")
        self._rows.add(rows_key(run, base.key))
        return True

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.out))

    def check_files(self) -> None:
        """Every registry data file the experiment reads exists, before any work starts."""
        root = Path(self.data_dir)
        needed = [
            (run.settings.train_dataset, lang)
            for run in self.plan.runs
            if not run.settings.rows.own_data  # checked when its source is read
            for lang in ("en", *run.langs)
        ]
        needed += [
            (name, lang) for name in self.plan.shared.eval_datasets for lang in ("en", *self.plan.eval_langs)
        ]
        for name, lang in dict.fromkeys(needed):
            path = dataset_spec(name).path(root, lang)
            if not path.is_file():
                what = "is not a file" if path.exists() else "file not found"
                raise ClearirError(
                    f"{path}: {what} (expected the {name} {lang} file; run `clearir data download --datasets "
                    f"{name} --langs {lang}`)"
                )

    # -- the base model

    def base_model(self) -> Model:
        started = time.perf_counter()
        if self.plan.shared.model is None:
            path, done = build_model()
            reused = done == "reused"
        else:
            path = Path(resolve_model(self.plan.shared.model)).expanduser()
            if not (path / "config.json").is_file():
                raise ClearirError(f"--model {self.plan.shared.model}: not a local model directory")
            reused = True
        path = path.absolute()
        seconds = time.perf_counter() - started
        self.timings.append(PhaseTiming("base model", round(seconds, 3), reused, str(path)))
        how = "reused" if reused else f"built in {seconds:.1f} s"
        self.console.print(Text(f"  base model: {path} ({how})"))
        return Model(None, path, model_key(path))

    # -- training rows

    def rows(self, run: Run, base: Model, label: str) -> Path:
        key = rows_key(run, base.key)
        out = self.out / ROWS_DIR / key
        s = run.settings
        if key in self._rows and out.is_dir():  # a reused run's rows may be gone (a new machine)
            return out

        def compute() -> dict[str, Any]:
            count = write_rows(s.rows, run.langs, s.num_negatives, s.seed, out, self.data_dir, base.path)
            return {"path": self.rel(out), "rows": count}

        self.step(f"rows-{key}", key, compute, lambda r: out.is_dir(), lambda r: f"{r['rows']} rows", label)
        self._rows.add(key)
        return out

    # -- fine-tuning

    def fine_tune(self, run: Run, rows: Path, base: Model, label: str) -> Model:
        out = self.out / MODELS_DIR / run.id
        key = train_key(self.plan, run, base.key)
        config = run.settings.train_config(str(rows), str(out), str(base.path), self.plan.shared)

        def compute() -> dict[str, Any]:
            result = train(_resumable(config), progress=self.progress)
            return {
                "model_dir": self.rel(result.model_dir),
                "loss_log": self.rel(result.loss_log),
                "global_step": result.global_step,
                "train_loss": result.train_loss,
                "train_seconds": round(result.runtime_s, 3),
                "rows": result.rows,
                "trainable_parameters": result.trainable_parameters,
                "resumed_from": self.rel(result.resumed_from) if result.resumed_from else None,
            }

        record = self.step(
            f"train-{run.id}",
            key,
            compute,
            lambda r: (self.out / r["model_dir"] / "config.json").is_file(),
            lambda r: f"{r['global_step']} steps on {r['rows']} rows, mean loss {r['train_loss']:.4f}",
            label,
        )
        # A finished model needs no checkpoints; they are most of a run's disk space.
        shutil.rmtree(out / CHECKPOINTS, ignore_errors=True)
        return Model(run, self.out / record["model_dir"], key)

    def drop_model(self, model: Model) -> None:
        """Done with ``model``: release it; remove a fine-tuned one (without keep_models). Records stay."""
        self._loaded = None
        if model.run is not None and not self.plan.shared.keep_models:
            shutil.rmtree(self.out / MODELS_DIR / model.run.id / MODEL, ignore_errors=True)

    # -- evaluation

    def tasks(self, run: Run | None, shift: bool) -> list[RetrievalTask]:
        """The evaluation tasks of ``run``'s model (None: the base model), with SHIFT or without, built once
        per language set."""
        langs = self.plan.model_langs(run, shift)
        if langs not in self._tasks:
            s = self.plan.shared
            self._tasks[langs] = build_tasks(
                s.eval_datasets, langs, s.scenarios, self.data_dir, s.eval_max_queries
            )
        return self._tasks[langs]

    def _load(self, model: Model) -> SentenceTransformer:
        """``model``, loaded once for its evaluations without and with SHIFT."""
        if self._loaded is None or self._loaded[0] != model.path:
            self._loaded = None  # the previous model's memory first
            self._loaded = (model.path, load_model(model.path))
        return self._loaded[1]

    def evaluate(self, model: Model, shift: bool, label: str) -> dict[str, Any]:
        """Evaluate ``model`` (with SHIFT: vectors fitted for it) unless done with these settings."""
        s = self.plan.shared
        name = eval_name(model.run, shift)
        folder = clearir_folder(self.out / EVAL_DIR, name)

        def compute() -> dict[str, Any]:
            run = evaluate_model(
                self._load(model),
                self.tasks(model.run, shift),
                self.out / EVAL_DIR,
                model_name=name,
                cache_dir=self.cache_dir,
                batch_size=s.eval_batch_size,
                max_seq_length=s.eval_max_seq_length,
                progress=self.progress,
                shift=shift_settings(s) if shift else None,
                data_dir=self.data_dir,
                precision=s.precision,
                source=model.path,
            )
            return {
                "folder": self.rel(folder),
                "model_key": model.key,
                "model_path": str(model.path),
                "entries": eval_entries(name, run.results),
                "encoded": run.encoding.encoded,
                "cached": run.encoding.cached,
            }

        return self.step(
            f"eval-{name}",
            eval_key(self.plan, model.run, model.key, shift),
            compute,
            lambda r: (self.out / r["folder"]).is_dir(),
            lambda r: (
                f"{len(r['entries'])} tasks, {r['encoded']} texts encoded, {r['cached']} from the cache"
            ),
            label,
        )


def _resumable(config: TrainConfig) -> TrainConfig:
    """``config``, resuming an interrupted fine-tuning of the same settings that left a checkpoint; any other
    content of its folder is removed first."""
    out = Path(config.out)
    saved = out / CONFIG_FILE
    resumable = saved.is_file() and last_checkpoint(out / CHECKPOINTS) is not None
    if resumable and replace(TrainConfig.load(saved), resume=False) == config:
        return replace(config, resume=True)
    shutil.rmtree(out, ignore_errors=True)
    return config
