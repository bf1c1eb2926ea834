"""``run_ablation``: run one shard of a plan, reusing everything already made.

Reused: a run whose folder has a done marker of the same base model and evaluation settings (nothing is
trained or evaluated again); training rows with the same rows settings (``<out>/rows/<key>``); the base
model's evaluation; and every embedding the shared cache holds (the base model's texts are encoded once for
all ablations and ``clearir run``). An interrupted fine-tuning continues from its last checkpoint.
"""

from __future__ import annotations

import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.text import Text

from clearir.config import data_dir as resolve_data_dir
from clearir.config import home_dir, resolve_model
from clearir.errors import ClearirError
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.results import eval_entries, remove_results
from clearir.evaluation.scenarios import RetrievalTask, build_tasks
from clearir.experiment.grid import Plan
from clearir.experiment.preset import step_key
from clearir.experiment.rows import write_rows
from clearir.experiment.settings import Run
from clearir.experiment.steps import now
from clearir.experiment.store import (
    BASE_NAME,
    DONE_FILE,
    EVAL_DIR,
    MODEL_NAME,
    PLAN_FILE,
    ROWS_DIR,
    TRAIN_DIR,
    base_dir,
    eval_key,
    model_key,
    read_done,
    run_dir,
    run_key,
)
from clearir.files import write_json
from clearir.model.build import build_default_model
from clearir.rows.build import REPORT_FILE
from clearir.rows.sources import own_data_settings
from clearir.training.config import CONFIG_FILE, TrainConfig
from clearir.training.trainer import CHECKPOINTS, MODEL, last_checkpoint, train


@dataclass
class AblationOutcome:
    """What one invocation did: the runs of its shard trained now and those reused, whether the base model's
    evaluation was reused, and its wall time."""

    trained: list[str] = field(default_factory=list)
    reused: list[str] = field(default_factory=list)
    base_reused: bool = False
    seconds: float = 0.0


class _Runner:
    def __init__(self, plan: Plan, console: Console, progress: bool) -> None:
        self.plan = plan
        self.console = console
        self.progress = progress
        self.data_dir = str(resolve_data_dir(plan.shared.data_dir).absolute())
        self.cache_dir = (
            Path(plan.shared.cache_dir).expanduser() if plan.shared.cache_dir else home_dir() / "embeddings"
        )
        self.eval_key = eval_key(plan)
        self._tasks: list[RetrievalTask] = []
        self.model_path, self.base_key = self._base_model()

    def _base_model(self) -> tuple[Path, str]:
        if self.plan.shared.model is None:
            path = build_default_model()
        else:
            path = Path(resolve_model(self.plan.shared.model)).expanduser()
            if not (path / "config.json").is_file():
                raise ClearirError(f"model {self.plan.shared.model}: not a local model directory")
        return path.absolute(), model_key(path)

    def tasks(self) -> list[RetrievalTask]:
        """The evaluation tasks, the same for every model (built once, on first use)."""
        if not self._tasks:
            s = self.plan.shared
            self._tasks = build_tasks(
                s.eval_datasets, self.plan.eval_langs, s.scenarios, self.data_dir, s.eval_max_queries
            )
        return self._tasks

    def evaluate(self, model: Path, folder: Path, name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Evaluate ``model`` into ``folder/name``: its result records, and the texts encoded, those taken
        from the embedding cache and the seconds it took."""
        started = time.perf_counter()
        remove_results(folder, name)
        run = evaluate_model(
            str(model),
            self.tasks(),
            folder,
            model_name=name,
            cache_dir=self.cache_dir,
            batch_size=self.plan.shared.eval_batch_size,
            max_seq_length=self.plan.shared.eval_max_seq_length,
            progress=self.progress,
            precision=self.plan.shared.precision,
        )
        facts = {"encoded": run.encoding.encoded, "cached": run.encoding.cached}
        return eval_entries(name, run.results), {**facts, "seconds": round(time.perf_counter() - started, 3)}

    def base(self) -> bool:
        """Evaluate the base model unless done with these settings; whether it was reused."""
        folder = base_dir(self.plan)
        key = step_key("ablation-base", self.base_key, self.eval_key)
        done = read_done(folder)
        if done is not None and done["key"] == key:
            self.console.print(Text(f"  base model: evaluation reused ({self.model_path})", style="dim"))
            return True
        entries, facts = self.evaluate(self.model_path, folder / EVAL_DIR, BASE_NAME)
        record = {
            "key": key,
            "base_key": self.base_key,
            "eval_key": self.eval_key,
            "model": str(self.model_path),
            "entries": entries,
            "seconds": facts["seconds"],
            "encoding": {k: facts[k] for k in ("encoded", "cached")},
            "finished": now(),
            "host": platform.node(),
        }
        write_json(folder / DONE_FILE, record)
        self.console.print(Text(f"  base model: evaluated in {facts['seconds']:.1f} s ({self.model_path})"))
        return False

    def rows(self, run: Run) -> tuple[Path, bool]:
        """The run's training rows (built unless already there) and whether they were reused."""
        s = run.settings
        settings = [
            s.train_dataset,
            list(run.langs),
            s.num_negatives,
            list(s.window),
            s.miner,
            s.seed,
            s.max_rows,
            *own_data_settings(s.train_files, s.train_table, s.train_columns),
        ]
        key = step_key("ablation-rows", settings, self.base_key if s.miner == "dense" else None)
        out = self.plan.out / ROWS_DIR / key
        if (out / REPORT_FILE).is_file():
            return out, True
        write_rows(s, run.langs, out, self.data_dir, self.model_path)
        return out, False

    def run(self, run: Run, say: Callable[[str, str], None]) -> bool:
        """Train and evaluate ``run`` unless it is done; whether it was reused."""
        folder = run_dir(self.plan, run)
        key = run_key(run, self.base_key, self.eval_key)
        done = read_done(folder)
        if done is not None and done["key"] == key:
            say("reused", "dim")
            return True
        say("training and evaluating", "dim")
        started = time.perf_counter()
        rows, rows_reused = self.rows(run)
        rows_seconds = time.perf_counter() - started
        train_dir = folder / TRAIN_DIR
        config = self._resumable(
            run.settings.train_config(
                str(rows),
                str(train_dir),
                str(self.model_path),
                self.plan.shared.save_steps,
                self.plan.shared.precision,
            )
        )
        result = train(config, progress=self.progress)
        shutil.rmtree(train_dir / CHECKPOINTS, ignore_errors=True)
        entries, facts = self.evaluate(result.model_dir, folder / EVAL_DIR, MODEL_NAME)
        if not self.plan.shared.keep_models:
            shutil.rmtree(train_dir / MODEL, ignore_errors=True)
        record = {
            "key": key,
            "id": run.id,
            "config_id": run.config_id,
            "settings": run.settings.relevant(),
            "base_key": self.base_key,
            "eval_key": self.eval_key,
            "rows": {
                "path": str(rows.relative_to(self.plan.out)),
                "count": result.rows,
                "reused": rows_reused,
            },
            "train": {
                "global_step": result.global_step,
                "train_loss": result.train_loss,
                "trainable_parameters": result.trainable_parameters,
                "resumed": result.resumed_from is not None,
            },
            "seconds": {
                "rows": round(rows_seconds, 3),
                "train": round(result.runtime_s, 3),
                "eval": facts["seconds"],
                "total": round(time.perf_counter() - started, 3),
            },
            "encoding": {k: facts[k] for k in ("encoded", "cached")},
            "entries": entries,
            "finished": now(),
            "host": platform.node(),
        }
        write_json(folder / DONE_FILE, record)
        say(
            f"trained {result.global_step} steps on {result.rows} rows in {result.runtime_s:.0f} s "
            f"(rows {'reused' if rows_reused else f'built in {rows_seconds:.0f} s'}), "
            f"evaluated in {facts['seconds']:.0f} s",
            "",
        )
        return False

    @staticmethod
    def _resumable(config: TrainConfig) -> TrainConfig:
        """``config``, resuming an interrupted fine-tuning of the same settings that left a checkpoint; any
        other content of its folder is removed first."""
        out = Path(config.out)
        saved = out / CONFIG_FILE
        resumable = saved.is_file() and last_checkpoint(out / CHECKPOINTS) is not None
        if resumable and replace(TrainConfig.load(saved), resume=False) == config:
            return replace(config, resume=True)
        shutil.rmtree(out, ignore_errors=True)
        return config


def run_ablation(
    plan: Plan, shard: tuple[int, int] = (0, 1), console: Console | None = None, progress: bool = True
) -> AblationOutcome:
    """Run shard ``shard`` (index, count) of ``plan``: the base model's evaluation, then each of its runs
    that is not done yet (see the module doc). The report is written separately
    (``clearir.experiment.report.write_ablation_report``)."""
    console = console or Console(stderr=True)
    started = time.perf_counter()
    outcome = AblationOutcome()
    runs = plan.shard(*shard)
    write_json(
        plan.out / PLAN_FILE,
        {**plan.spec, "runs": [{"id": r.id, **r.settings.relevant()} for r in plan.runs]},
    )
    which = f"shard {shard[0]}/{shard[1]}: " if shard[1] > 1 else ""
    console.rule(Text(f"clearir ablate → {plan.out} ({which}{len(runs)} of {len(plan.runs)} runs)"))
    runner = _Runner(plan, console, progress)
    outcome.base_reused = runner.base()
    for number, run in enumerate(runs, start=1):
        head = f"  [{number}/{len(runs)}] {plan.label(run.settings)} ({run.id})"

        def say(text: str, style: str, head: str = head) -> None:
            console.print(Text(f"{head}: {text}", style=style))

        if runner.run(run, say):
            outcome.reused.append(run.id)
        else:
            outcome.trained.append(run.id)
    outcome.seconds = time.perf_counter() - started
    return outcome
