"""Every setting of ``clearir run`` and its default, in one place.

The defaults are the main job on a 2-core CPU machine: small enough to finish in the time budget, large enough
to show the method's effect. The fine-tuning defaults are ``clearir train``'s (the recipe ``clearir ablate``
found, see ``TrainConfig``); the paper's recipe (batch 64, 50 steps, full XQuAD) is flags away.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from clearir.data.registry import dataset_spec
from clearir.errors import ClearirError
from clearir.precision import check_precision
from clearir.rows.mining import DEFAULT_WINDOW, parse_window
from clearir.rows.sources import settings_source
from clearir.shift.parallel import auto_dataset
from clearir.training.config import LOSS_NAMES, TrainConfig, check_clear_options, loss_label

QA_SCENARIOS = ("monolingual", "crosslingual", "bilingual", "multilingual")
# Languages and losses name files and folders of the run directory.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_TRAIN = {f.name: f.default for f in fields(TrainConfig)}


@dataclass(frozen=True)
class RunConfig:
    """One ``clearir run``.

    Args:
        out: run directory (reused and resumed when run again).
        langs: training languages; one model is fine-tuned per (language, loss).
        losses: the losses compared with the base model (``clear``, ``infonce``, ``jsd``, ...).
        eval_langs: languages evaluated besides the training languages (zero-shot for the fine-tuned models).
        model: base model name or path; ``None`` is the default model, built if missing.
        data_dir: the data directory (default ``$CLEARIR_DATA_DIR``).
        train_dataset, max_rows, num_negatives, window, miner: the training rows (``clearir data
            build-train``): source, rows per language, hard negatives per row, mining rank window and miner.
        train_files, train_table, train_columns: the user's own training data instead of ``train_dataset``
            (``build-train``'s ``--train-files``, ``--train-table`` and ``--columns``, same syntax).
        steps, batch_size, mini_batch_size, lr, warmup_ratio, scheduler, max_seq_length, max_query_length,
            alpha, beta, kl, symmetric_kl, bidirectional_reverse, scale, freeze_layers, seed, save_steps:
            fine-tuning (``clearir train``).
        eval_datasets, scenarios, eval_max_queries, eval_batch_size, eval_max_seq_length: evaluation
            (``clearir eval``); ``eval_max_queries`` keeps that many questions per task (``None``: all).
        cache_dir: embedding cache shared by every model and run (``None``: ``$CLEARIR_HOME/embeddings``).
        precision: ``auto``, ``fp32`` or ``bf16``, for fine-tuning and evaluation (:mod:`clearir.precision`).
        significance_resamples: resamples of the paired tests of each model against the base model.
        shift: also evaluate every model with SHIFT (``clearir eval --shift auto``: vectors re-estimated for
            each model from MLQA-R paragraphs, no renormalisation), as ``<model>+shift``.
    """

    out: str = "runs/default"
    langs: tuple[str, ...] = ("hi",)
    losses: tuple[str, ...] = ("infonce", "clear")
    eval_langs: tuple[str, ...] = ("de",)
    model: str | None = None
    data_dir: str | None = None
    # Training rows.
    train_dataset: str = "mlqa"
    train_files: str | None = None
    train_table: str | None = None
    train_columns: str | None = None
    max_rows: int | None = 500
    num_negatives: int = _TRAIN["num_negatives"]
    window: tuple[int, int] = DEFAULT_WINDOW
    miner: str = "bm25"
    # Fine-tuning: clearir train's defaults (the recipe).
    steps: int = _TRAIN["max_steps"]
    batch_size: int = _TRAIN["batch_size"]
    mini_batch_size: int | None = _TRAIN["mini_batch_size"]
    lr: float = _TRAIN["lr"]
    warmup_ratio: float = _TRAIN["warmup_ratio"]
    scheduler: str = _TRAIN["scheduler"]
    max_seq_length: int = _TRAIN["max_seq_length"]
    max_query_length: int | None = _TRAIN["max_query_length"]
    alpha: float = _TRAIN["alpha"]
    beta: float = _TRAIN["beta"]
    kl: bool = _TRAIN["kl"]
    symmetric_kl: bool = _TRAIN["symmetric_kl"]
    bidirectional_reverse: bool = _TRAIN["bidirectional_reverse"]
    scale: float = _TRAIN["scale"]
    freeze_layers: int = _TRAIN["freeze_layers"]
    seed: int = _TRAIN["seed"]
    save_steps: int = _TRAIN["save_steps"]
    # Evaluation.
    eval_datasets: tuple[str, ...] = ("xquad",)
    scenarios: tuple[str, ...] = ("monolingual", "crosslingual", "bilingual")
    eval_max_queries: int | None = 300
    eval_batch_size: int = 32
    eval_max_seq_length: int | None = 256
    cache_dir: str | None = None
    precision: str = _TRAIN["precision"]
    significance_resamples: int = 2000
    shift: bool = True

    def __post_init__(self) -> None:
        for name in ("langs", "losses", "eval_datasets", "scenarios"):
            if not getattr(self, name):
                raise ClearirError(f"--{_flag(name)}: expected at least one value")
        for name in ("langs", "eval_langs", "losses"):
            for value in getattr(self, name):
                if not _NAME.match(value):
                    raise ClearirError(f"--{_flag(name)} {value!r}: expected letters, digits, - or _ only")
        for loss in self.losses:
            if loss not in LOSS_NAMES:
                raise ClearirError(f"--losses {loss!r}: expected some of {', '.join(LOSS_NAMES)}")
        if len(set(self.losses)) != len(self.losses) or len(set(self.langs)) != len(self.langs):
            raise ClearirError(f"--langs {self.langs} / --losses {self.losses}: values must not repeat")
        if "en" in self.langs:
            raise ClearirError(
                "--langs: English is the pivot language; expected target languages such as hi,de"
            )
        for scenario in self.scenarios:
            if scenario not in QA_SCENARIOS:
                raise ClearirError(f"--scenarios {scenario!r}: expected some of {', '.join(QA_SCENARIOS)}")
        positive = ["steps", "batch_size", "max_seq_length", "eval_batch_size", "save_steps"]
        optional = [
            "max_rows",
            "mini_batch_size",
            "max_query_length",
            "eval_max_queries",
            "eval_max_seq_length",
        ]
        positive += [name for name in optional if getattr(self, name) is not None]
        positive.append("significance_resamples")
        for name in positive:
            if getattr(self, name) < 1:
                raise ClearirError(f"--{_flag(name)} {getattr(self, name)}: expected a positive integer")
        if self.num_negatives < 0:
            raise ClearirError(f"--num-negatives {self.num_negatives}: expected a value >= 0")
        parse_window(self.window)
        source = settings_source(self.train_dataset, self.train_files, self.train_table, self.train_columns)
        source.check_langs(self.langs)
        check_clear_options(self.alpha, self.beta, self.kl, self.symmetric_kl)
        check_precision(self.precision)
        for loss in self.losses:  # every fine-tuning setting, checked before any work starts
            self.train_config("rows", "out", loss, None)
        self._check_datasets()
        if self.shift:  # fail now rather than after the fine-tuning
            parallel = dataset_spec(auto_dataset(self.eval_datasets))
            if missing := [lang for lang in self.all_eval_langs if lang not in parallel.languages]:
                raise ClearirError(
                    f"--shift: {parallel.name} has no parallel paragraphs for {', '.join(missing)} to fit "
                    f"SHIFT vectors from (it has {', '.join(parallel.languages)}); pass --no-shift or other "
                    "languages"
                )

    def _check_datasets(self) -> None:
        """The evaluation datasets and languages exist (the training source is checked by
        ``settings_source``; the files are checked at the start of the run, in the data directory)."""
        from clearir.evaluation.scenarios import eval_dataset

        for name in self.eval_datasets:
            try:
                eval_dataset(name)
                spec = dataset_spec(name)
            except ClearirError as exc:
                raise ClearirError(f"--eval-datasets {name!r}: {exc}") from None
            for lang in self.all_eval_langs:
                if lang not in spec.languages:
                    flag = "--langs" if lang in self.langs else "--eval-langs"
                    raise ClearirError(
                        f"{flag} {lang!r}: not a language of {name}; expected some of "
                        f"{', '.join(x for x in spec.languages if x != 'en')}"
                    )

    def train_config(self, data: str, out: str, loss: str, model: str | None) -> TrainConfig:
        """The ``clearir train`` settings of one fine-tuned model of this run: every setting the two share by
        name (but the base model and the output), ``steps`` as ``max_steps``, one checkpoint kept."""
        shared = {name: getattr(self, name) for name in _TRAIN_SHARED}
        return TrainConfig(
            data=data,
            out=out,
            model=model,
            loss=loss,
            max_steps=self.steps,
            save_total_limit=1,
            logging_steps=1,
            **shared,
        )

    @property
    def all_eval_langs(self) -> tuple[str, ...]:
        """The training languages, then the other evaluated languages."""
        return tuple(dict.fromkeys((*self.langs, *self.eval_langs)))

    def loss_label(self, loss: str) -> str:
        """``loss`` as the report names it: CLEAR's variants beyond the paper are spelled out."""
        return loss_label(loss, self)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# The fine-tuning settings RunConfig passes to TrainConfig under the same name.
_TRAIN_SHARED = tuple(sorted((set(_TRAIN) & {f.name for f in fields(RunConfig)}) - {"model", "out"}))


def _flag(name: str) -> str:
    return name.replace("_", "-")


def defaults() -> dict[str, Any]:
    """Each setting's default value, by name (for the CLI)."""
    return {f.name: f.default for f in fields(RunConfig)}


def step_key(*parts: Any) -> str:
    """A short stable hash of a step's settings (JSON of ``parts``): what a finished step was made from."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
