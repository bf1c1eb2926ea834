"""The settings of one ablation run (any of them may vary across the grid) and the settings every run shares
(base model, evaluation), with their defaults, which are ``clearir run``'s; their value types; which settings
matter for which loss; and each run's stable id.

A setting that does not matter for a run (``alpha``, ``beta``, ``kl`` and the CLEAR variants for anything
but CLEAR, ``beta`` and ``symmetric_kl`` without the KL term, the ``jsd`` options for anything but ``jsd``)
is reset to its default, so that, for example, InfoNCE "with and without KL" is one run, not two.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property
from typing import Any

from clearir.errors import ClearirError
from clearir.experiment.preset import QA_SCENARIOS, defaults, step_key
from clearir.precision import PRECISIONS
from clearir.training.config import CLEAR_VARIANTS, TrainConfig

_RUN = defaults()
_TRAIN = {f.name: f.default for f in fields(TrainConfig)}
LANG_SEPARATOR = "+"
_LANG = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class RunSettings:
    """Everything one fine-tuned model of the ablation is made from.

    ``langs`` is one training language (``de``) or several trained into one model (``de+ar``); the other
    names are those of ``clearir run`` (``steps`` is ``clearir train``'s ``max_steps``), plus
    ``freeze_word_embeddings`` and the ``jsd`` loss options of ``clearir train``. 0 means "none" for
    ``max_rows``, ``mini_batch_size`` and ``max_query_length``, as on the command line.
    """

    langs: str = _RUN["langs"][0]
    loss: str = "clear"
    alpha: float = _RUN["alpha"]
    beta: float = _RUN["beta"]
    kl: bool = _RUN["kl"]
    symmetric_kl: bool = _RUN["symmetric_kl"]
    bidirectional_reverse: bool = _RUN["bidirectional_reverse"]
    scale: float = _RUN["scale"]
    jsd_weight: float = _TRAIN["jsd_weight"]
    jsd_query: str = _TRAIN["jsd_query"]
    train_dataset: str = _RUN["train_dataset"]
    train_files: str | None = None
    train_table: str | None = None
    train_columns: str | None = None
    max_rows: int | None = _RUN["max_rows"]
    num_negatives: int = _RUN["num_negatives"]
    window: tuple[int, int] = _RUN["window"]
    miner: str = _RUN["miner"]
    steps: int = _RUN["steps"]
    batch_size: int = _RUN["batch_size"]
    mini_batch_size: int | None = _RUN["mini_batch_size"]
    lr: float = _RUN["lr"]
    warmup_ratio: float = _RUN["warmup_ratio"]
    scheduler: str = _RUN["scheduler"]
    max_seq_length: int = _RUN["max_seq_length"]
    max_query_length: int | None = _RUN["max_query_length"]
    freeze_word_embeddings: bool = _TRAIN["freeze_word_embeddings"]
    freeze_layers: int = _RUN["freeze_layers"]
    seed: int = _RUN["seed"]

    @property
    def lang_list(self) -> tuple[str, ...]:
        return tuple(self.langs.split(LANG_SEPARATOR))

    def relevant(self) -> dict[str, Any]:
        """The settings that matter for this run's loss, JSON-ready (the window as a list); the CLEAR variants
        only when switched on, so that the paper form's runs keep their ids."""
        values = {**asdict(self), "window": list(self.window)}
        for name in irrelevant(self):
            del values[name]
        for name in (*VARIANTS, *OWN_DATA):
            if name in values and not values[name]:
                del values[name]
        return values

    def train_config(
        self, data: str, out: str, model: str, save_steps: int, precision: str = _RUN["precision"]
    ) -> TrainConfig:
        """The ``clearir train`` configuration of this run (``precision`` is the ablation's, shared)."""
        names = set(_TRAIN) & {f.name for f in fields(self)}
        return TrainConfig(
            data=data,
            out=out,
            model=model,
            max_steps=self.steps,
            save_steps=min(save_steps, self.steps),
            save_total_limit=1,
            logging_steps=1,
            precision=precision,
            **{name: getattr(self, name) for name in names},
        )


DEFAULT_RUN = RunSettings()
VARIANTS: tuple[str, ...] = tuple(CLEAR_VARIANTS)
# The user's own training data (as clearir run's --train-files, --train-table, --columns): in a run's
# settings only when given, so that registry runs keep their ids.
OWN_DATA: tuple[str, ...] = ("train_files", "train_table", "train_columns")
RUN_KEYS: tuple[str, ...] = tuple(f.name for f in fields(RunSettings))


def irrelevant(settings: RunSettings) -> list[str]:
    """The settings that do not change what ``settings`` trains."""
    names = []
    if settings.loss != "clear":
        names += ["alpha", "beta", "kl", *VARIANTS]
    elif not settings.kl:
        names += ["beta", "symmetric_kl"]
    if settings.loss != "jsd":
        names += ["jsd_weight", "jsd_query"]
    return names


def canonical(settings: RunSettings) -> RunSettings:
    """``settings`` with every irrelevant setting at its default."""
    return replace(settings, **{name: getattr(DEFAULT_RUN, name) for name in irrelevant(settings)})


@dataclass(frozen=True)
class Run:
    """One run of the grid: its (canonical) settings, its id and its model configuration's id."""

    settings: RunSettings

    @cached_property
    def id(self) -> str:
        """A stable hash of the settings that matter (same settings, same id, on any machine)."""
        return step_key("ablation-run", self.settings.relevant())

    @cached_property
    def config_id(self) -> str:
        """The id of the run's configuration: its settings but the seed (runs over seeds share it)."""
        return config_id(self.settings)

    @property
    def langs(self) -> tuple[str, ...]:
        return self.settings.lang_list


def config_id(settings: RunSettings) -> str:
    values = canonical(settings).relevant()
    del values["seed"]
    return step_key("ablation-config", values)


@dataclass(frozen=True)
class SharedSettings:
    """What every run of an ablation shares: where it lives, the base model and the evaluation.

    ``eval_langs`` are evaluated besides every training language of the grid (zero-shot); the evaluation
    settings are ``clearir run``'s. ``save_steps`` checkpoints a fine-tuning (an interrupted one resumes);
    ``keep_models`` keeps each fine-tuned model (about 470 MB for the default base model) after its
    evaluation. ``precision`` (``auto``, ``fp32``, ``bf16``) is that of every fine-tuning and evaluation.
    """

    out: str = "runs/ablation"
    model: str | None = None
    data_dir: str | None = None
    cache_dir: str | None = None
    eval_datasets: tuple[str, ...] = _RUN["eval_datasets"]
    eval_langs: tuple[str, ...] = ()
    scenarios: tuple[str, ...] = _RUN["scenarios"]
    eval_max_queries: int | None = _RUN["eval_max_queries"]
    eval_batch_size: int = _RUN["eval_batch_size"]
    eval_max_seq_length: int | None = _RUN["eval_max_seq_length"]
    significance_resamples: int = 10000
    save_steps: int = _RUN["save_steps"]
    keep_models: bool = False
    precision: str = _RUN["precision"]


SHARED_KEYS: tuple[str, ...] = tuple(f.name for f in fields(SharedSettings))

# Value type of each setting: how a TOML or command-line value is checked and converted.
KINDS: dict[str, str] = {
    "langs": "langs",
    "loss": "str",
    "alpha": "float",
    "beta": "float",
    "kl": "bool",
    "symmetric_kl": "bool",
    "bidirectional_reverse": "bool",
    "scale": "float",
    "jsd_weight": "float",
    "jsd_query": "str",
    "train_dataset": "str",
    "train_files": "str",
    "train_table": "str",
    "train_columns": "str",
    "max_rows": "count",
    "num_negatives": "int",
    "window": "window",
    "miner": "str",
    "steps": "int",
    "batch_size": "int",
    "mini_batch_size": "count",
    "lr": "float",
    "warmup_ratio": "float",
    "scheduler": "str",
    "max_seq_length": "int",
    "max_query_length": "count",
    "freeze_word_embeddings": "bool",
    "freeze_layers": "int",
    "seed": "int",
    "out": "str",
    "model": "str",
    "data_dir": "str",
    "cache_dir": "str",
    "eval_datasets": "list",
    "eval_langs": "list",
    "scenarios": "list",
    "eval_max_queries": "count",
    "eval_batch_size": "int",
    "eval_max_seq_length": "count",
    "significance_resamples": "int",
    "save_steps": "int",
    "keep_models": "bool",
    "precision": "str",
}
_EXPECTED = {
    "int": "an integer",
    "count": "an integer (0: none)",
    "float": "a number",
    "bool": "true or false",
    "str": "a string",
    "langs": 'a language such as "de", or several trained together such as "de+ar"',
    "window": 'a rank window: [LO, HI] or "LO:HI"',
    "list": 'a list of strings or one comma-separated string, e.g. ["xquad"]',
}


def coerce(key: str, value: Any, where: str) -> Any:
    """``value`` as setting ``key`` takes it; ``where`` (e.g. ``g.toml: [fixed] lr``) starts the error."""
    kind = KINDS[key]
    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind in ("int", "count") and is_int:
        if value < 0:
            raise ClearirError(f"{where}: expected {_EXPECTED[kind]} >= 0, got {value!r}")
        return None if kind == "count" and value == 0 else value
    if kind == "float" and (is_int or isinstance(value, float)):
        return float(value)
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind in ("str", "langs") and isinstance(value, str) and value.strip():
        return value.strip()
    if kind == "window":
        return _window(value, where)
    if kind == "list":
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return tuple(item.strip() for item in items if item.strip())
    raise ClearirError(f"{where}: expected {_EXPECTED[kind]}, got {value!r}")


def _window(value: Any, where: str) -> tuple[int, int]:
    from clearir.rows.mining import parse_window

    if not isinstance(value, str | list):
        raise ClearirError(f"{where}: expected {_EXPECTED['window']}, got {value!r}")
    return parse_window(value, where)


def check_run(settings: RunSettings, where: str) -> None:
    """Raise ClearirError (starting with ``where``) if ``settings`` cannot be trained."""
    from clearir.data.registry import dataset_spec
    from clearir.rows.mining import MINERS
    from clearir.rows.sources import TRAIN_DATASETS, settings_source

    langs = settings.lang_list
    if any(getattr(settings, name) is not None for name in OWN_DATA):
        try:
            source = settings_source(
                settings.train_dataset, settings.train_files, settings.train_table, settings.train_columns
            )
            source.check_langs(langs)
        except ClearirError as exc:
            raise ClearirError(f"{where}: {exc}") from exc
    elif settings.train_dataset not in TRAIN_DATASETS:
        raise ClearirError(
            f"{where}: train_dataset {settings.train_dataset!r}: expected one of {TRAIN_DATASETS}"
        )
    else:
        targets = [lang for lang in dataset_spec(settings.train_dataset).languages if lang != "en"]
        for lang in langs:
            if lang not in targets:
                raise ClearirError(
                    f"{where}: langs {settings.langs!r}: {lang!r} is not a target language of "
                    f"{settings.train_dataset}; expected {_EXPECTED['langs']} from {', '.join(targets)}"
                )
    if len(set(langs)) != len(langs):
        raise ClearirError(f"{where}: langs {settings.langs!r}: a language is repeated")
    if settings.miner not in MINERS:
        raise ClearirError(f"{where}: miner {settings.miner!r}: expected one of {', '.join(MINERS)}")
    lo, hi = settings.window
    if hi - lo < settings.num_negatives:
        raise ClearirError(
            f"{where}: window {lo}:{hi} holds fewer ranks than num_negatives {settings.num_negatives}"
        )
    try:
        settings.train_config("rows", "out", "model", 1)
    except ClearirError as exc:
        raise ClearirError(f"{where}: {exc}") from exc


def check_shared(shared: SharedSettings, where: str) -> None:
    """Raise ClearirError (starting with ``where``) for shared settings that cannot work."""
    for scenario in shared.scenarios:
        if scenario not in QA_SCENARIOS:
            raise ClearirError(f"{where}: scenarios {scenario!r}: expected some of {', '.join(QA_SCENARIOS)}")
    for name in ("eval_datasets", "scenarios"):
        if not getattr(shared, name):
            raise ClearirError(f"{where}: {name}: expected at least one value")
    for name in ("eval_batch_size", "significance_resamples", "save_steps"):
        if getattr(shared, name) < 1:
            raise ClearirError(f"{where}: {name}: expected a positive integer, got {getattr(shared, name)}")
    if shared.precision not in PRECISIONS:
        raise ClearirError(
            f"{where}: precision {shared.precision!r}: expected one of {', '.join(PRECISIONS)}"
        )
    for lang in shared.eval_langs:
        if not _LANG.match(lang) or lang == "en":
            raise ClearirError(f"{where}: eval_langs {lang!r}: expected a language code other than en")
