"""The experiment's settings model, built from the parts each layer owns.

``RunSettings`` is what one fine-tuned model is made of: its training language(s), every setting of
``clearir.training.TrainConfig`` that a run may vary, and ``clearir.rows.settings.RowsSettings``.
``SharedSettings`` is what every run of an experiment shares: where it lives, the base model,
``clearir.evaluation.settings.EvalSettings``, the precision and the paired tests. A field added to one of
those parts appears here, in ``clearir run``'s options, in ``clearir ablate``'s keys and in both reports.

A setting that does not matter for a run (``alpha``, ``beta``, ``kl`` and the CLEAR variants for anything
but CLEAR, ``beta`` and ``symmetric_kl`` without the KL term, the ``jsd`` options for anything but ``jsd``)
is reset to its default, so that, for example, InfoNCE "with and without KL" is one run, not two. A setting
added later is left out of a run's id at the value runs had before it (``LEGACY``), so they keep their ids.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from dataclasses import asdict, dataclass, fields, replace
from functools import cached_property
from typing import Any

from clearir.config import DATA_DIR_HELP
from clearir.errors import ClearirError
from clearir.evaluation.settings import EVAL_SCOPES, QA_SCENARIOS, EvalSettings
from clearir.experiment.keys import step_key
from clearir.fields import coerce, field_kind, setting
from clearir.losses.clear import check_clear_options
from clearir.metrics.significance import DEFAULT_RESAMPLES
from clearir.precision import PRECISIONS
from clearir.rows.settings import OWN_DATA, RowsSettings
from clearir.rows.sources import DEFAULT_PIVOT
from clearir.shift.fit import ShiftSettings
from clearir.training.config import CLEAR_VARIANTS, TrainConfig
from clearir.training.config import LEGACY as TRAIN_LEGACY

LANG_SEPARATOR = "+"
# Run settings added after runs were made, each at the value those runs had: at that value a setting is left
# out of a run's id, so that the runs keep theirs.
LEGACY: dict[str, Any] = {"pivot": DEFAULT_PIVOT, **TRAIN_LEGACY}
_LANG = re.compile(r"^[a-z]{2,3}$")
# TrainConfig fields that are not a run's choice (the job layer sets them), and those every run shares.
_TRAIN_PLUMBING = (
    "data",
    "out",
    "model",
    "resume",
    "save_total_limit",
    "logging_steps",
    "gather_across_devices",
)
_TRAIN_SHARED = ("precision", "save_steps")
# A TrainConfig field a run names otherwise (grid files and ``clearir run --steps`` say ``steps``).
RENAMED = {"max_steps": "steps"}


def _copied(cls: type, keep: typing.Callable[[str], bool]) -> list[tuple[str, Any, dataclasses.Field]]:
    """The fields of dataclass ``cls`` that ``keep`` accepts, as ``make_dataclass`` takes them."""
    hints = typing.get_type_hints(cls)
    return [
        (
            RENAMED.get(f.name, f.name),
            hints[f.name],
            dataclasses.field(default=f.default, metadata=f.metadata),
        )
        for f in fields(cls)
        if keep(f.name)
    ]


class _RunMethods:
    langs: str

    @property
    def lang_list(self) -> tuple[str, ...]:
        return tuple(self.langs.split(LANG_SEPARATOR))

    @property
    def rows(self) -> RowsSettings:
        return RowsSettings(**{f.name: getattr(self, f.name) for f in fields(RowsSettings)})

    def relevant(self) -> dict[str, Any]:
        """The settings that matter for this run's loss, JSON-ready (the window as a list); the CLEAR
        variants, the user's own data and the ``LEGACY`` settings only when given, so that the paper
        form's, registry and earlier runs keep their ids."""
        values = {**asdict(self), "window": list(self.window)}  # type: ignore[call-overload]
        for name in irrelevant(self):
            del values[name]
        for name in (*VARIANTS, *OWN_DATA):
            if name in values and not values[name]:
                del values[name]
        for name, value in LEGACY.items():
            if values[name] == value:
                del values[name]
        return values

    def train_config(self, data: str, out: str, model: str, shared: Any) -> TrainConfig:
        """The ``clearir train`` configuration of this run in an experiment with ``shared`` settings."""
        own = {
            f.name: getattr(self, RENAMED.get(f.name, f.name))
            for f in fields(TrainConfig)
            if f.name not in _TRAIN_PLUMBING + _TRAIN_SHARED
        }
        return TrainConfig(
            data=data,
            out=out,
            model=model,
            save_steps=min(shared.save_steps, own["max_steps"]),
            save_total_limit=1,
            logging_steps=1,
            precision=shared.precision,
            **own,
        )


RunSettings = dataclasses.make_dataclass(
    "RunSettings",
    [
        (
            "langs",
            str,
            setting(
                "hi",
                'A training language such as "de", or several trained into one model such as "de+ar".',
                kind="str",
            ),
        ),
        *_copied(TrainConfig, lambda name: name not in _TRAIN_PLUMBING + _TRAIN_SHARED),
        *_copied(RowsSettings, lambda name: True),
    ],
    bases=(_RunMethods,),
    frozen=True,
    namespace={
        "__doc__": "Everything one fine-tuned model of an experiment is made from (see the module doc)."
    },
)


@dataclass(frozen=True)
class _Where:
    out: str = setting(
        "runs/ablation", "Experiment directory; running again with the same --out reuses finished steps."
    )
    model: str | None = setting(None, "Base model directory (default: the built default model).")
    data_dir: str | None = setting(None, DATA_DIR_HELP)
    cache_dir: str | None = setting(
        None, "Embedding cache shared by every model and experiment (default: $CLEARIR_HOME/embeddings)."
    )


@dataclass(frozen=True)
class _Tests:
    significance_resamples: int = setting(DEFAULT_RESAMPLES, "Resamples of the paired significance tests.")
    holm_by_language: bool = setting(
        False,
        "Holm-correct each family of comparisons per language's table (a per-language model's tests, a "
        "multilingual model's on one language) rather than over every language at once.",
    )
    keep_models: bool = setting(
        False, "Keep each fine-tuned model after its evaluation (about 470 MB each for the default model)."
    )


SharedSettings = dataclasses.make_dataclass(
    "SharedSettings",
    [
        *_copied(_Where, lambda name: True),
        *_copied(EvalSettings, lambda name: True),
        *_copied(TrainConfig, lambda name: name in _TRAIN_SHARED),
        *_copied(_Tests, lambda name: True),
    ],
    frozen=True,
    namespace={"__doc__": "What every run of an experiment shares: where, base model, evaluation, tests."},
)

RunSettings.__module__ = SharedSettings.__module__ = __name__
DEFAULT_RUN = RunSettings()
VARIANTS: tuple[str, ...] = tuple(CLEAR_VARIANTS)
RUN_KEYS: tuple[str, ...] = tuple(f.name for f in fields(RunSettings))
SHARED_KEYS: tuple[str, ...] = tuple(f.name for f in fields(SharedSettings))
KINDS: dict[str, str] = {
    **{f.name: field_kind(SharedSettings, f) for f in fields(SharedSettings)},
    **{f.name: field_kind(RunSettings, f) for f in fields(RunSettings)},
}


def setting_value(key: str, value: Any, where: str) -> Any:
    """``value`` as setting ``key`` takes it (``clearir.fields.coerce``)."""
    return coerce(KINDS[key], value, where)


def irrelevant(settings: Any) -> list[str]:
    """The settings that do not change what ``settings`` trains."""
    names = []
    if settings.loss != "clear":
        names += ["alpha", "beta", "kl", *VARIANTS]
    elif not settings.kl:
        names += ["beta", "symmetric_kl"]
    if settings.loss != "jsd":
        names += ["jsd_weight", "jsd_query"]
    return names


def canonical(settings: Any) -> Any:
    """``settings`` with every irrelevant setting at its default."""
    return replace(settings, **{name: getattr(DEFAULT_RUN, name) for name in irrelevant(settings)})


@dataclass(frozen=True)
class Run:
    """One run of the grid: its (canonical) settings, its id and its model configuration's id."""

    settings: Any  # RunSettings

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


def config_id(settings: Any) -> str:
    values = canonical(settings).relevant()
    del values["seed"]
    return step_key("ablation-config", values)


def check_run(settings: Any, where: str) -> None:
    """Raise ClearirError (starting with ``where``) if ``settings`` cannot be trained."""
    from clearir.data.registry import dataset_spec
    from clearir.rows.mining import MINERS, parse_window
    from clearir.rows.sources import TRAIN_DATASETS

    langs = settings.lang_list
    for lang in langs:
        if not _LANG.match(lang) or lang == "en":
            raise ClearirError(
                f"{where}: langs {settings.langs!r}: expected target languages such as de or de+ar "
                "(English is a bridge language, never a trained one)"
            )
    if settings.rows.own_data:
        try:
            settings.rows.source.check_langs(langs)
        except ClearirError as exc:
            raise ClearirError(f"{where}: {exc}") from exc
    elif settings.train_dataset not in TRAIN_DATASETS:
        raise ClearirError(
            f"{where}: train_dataset {settings.train_dataset!r}: expected one of {', '.join(TRAIN_DATASETS)}"
        )
    else:
        targets = [lang for lang in dataset_spec(settings.train_dataset).languages if lang != "en"]
        for lang in langs:
            if lang not in targets:
                raise ClearirError(
                    f"{where}: langs {settings.langs!r}: {lang!r} is not a target language of "
                    f"{settings.train_dataset}; expected some of {', '.join(targets)}"
                )
    if len(set(langs)) != len(langs):
        raise ClearirError(f"{where}: langs {settings.langs!r}: a language is repeated")
    try:
        settings.rows.source.check_pivot(settings.pivot, langs, option="pivot")
    except ClearirError as exc:
        raise ClearirError(f"{where}: {exc}") from exc
    if settings.miner not in MINERS:
        raise ClearirError(f"{where}: miner {settings.miner!r}: expected one of {', '.join(MINERS)}")
    lo, hi = parse_window(list(settings.window), f"{where}: window")
    if hi - lo < settings.num_negatives:
        raise ClearirError(
            f"{where}: window {lo}:{hi} holds fewer ranks than num_negatives {settings.num_negatives}"
        )
    try:
        check_clear_options(settings.alpha, settings.beta, settings.kl, settings.symmetric_kl)
        settings.train_config("rows", "out", "model", SharedSettings())
    except ClearirError as exc:
        raise ClearirError(f"{where}: {exc}") from exc


def check_shared(shared: Any, where: str) -> None:
    """Raise ClearirError (starting with ``where``) for shared settings that cannot work."""
    from clearir.data.registry import dataset_spec
    from clearir.evaluation.scenarios import eval_dataset

    for name in ("eval_datasets", "scenarios"):
        if not getattr(shared, name):
            raise ClearirError(f"{where}: {name}: expected at least one value")
    for scenario in shared.scenarios:
        if scenario not in QA_SCENARIOS:
            raise ClearirError(f"{where}: scenarios {scenario!r}: expected some of {', '.join(QA_SCENARIOS)}")
    for name in ("eval_batch_size", "significance_resamples", "save_steps"):
        if getattr(shared, name) < 1:
            raise ClearirError(f"{where}: {name}: expected a positive integer, got {getattr(shared, name)}")
    if shared.shift_max_pairs is not None and shared.shift_max_pairs < 1:
        raise ClearirError(
            f"{where}: shift_max_pairs: expected a positive integer (0: all), got {shared.shift_max_pairs}"
        )
    if shared.eval_scope not in EVAL_SCOPES:
        raise ClearirError(
            f"{where}: eval_scope {shared.eval_scope!r}: expected one of {', '.join(EVAL_SCOPES)}"
        )
    if shared.precision not in PRECISIONS:
        raise ClearirError(
            f"{where}: precision {shared.precision!r}: expected one of {', '.join(PRECISIONS)}"
        )
    for lang in shared.eval_langs:
        if not _LANG.match(lang) or lang == "en":
            raise ClearirError(f"{where}: eval_langs {lang!r}: expected a language code other than en")
    for name in shared.eval_datasets:
        try:
            eval_dataset(name)
            dataset_spec(name)
        except ClearirError as exc:
            raise ClearirError(f"{where}: eval_datasets {name!r}: {exc}") from None


def shift_settings(shared: Any) -> ShiftSettings:
    """How the experiment's SHIFT evaluations apply SHIFT: vectors fitted per model ("auto")."""
    return ShiftSettings(max_pairs=shared.shift_max_pairs)


def _parallel(shared: Any) -> Any:
    """The registry spec of the parallel data SHIFT's ``auto`` fits from for the evaluated datasets."""
    from clearir.data.registry import dataset_spec
    from clearir.shift.parallel import auto_dataset

    return dataset_spec(auto_dataset(shared.eval_datasets))


def shift_langs(shared: Any) -> tuple[str, ...]:
    """The languages SHIFT vectors can be fitted for: those of the parallel data ``auto`` takes for the
    evaluated datasets."""
    return tuple(_parallel(shared).languages)


def check_eval_langs(shared: Any, langs: tuple[str, ...], trained: tuple[str, ...], where: str) -> None:
    """Every evaluated language ``langs`` (training languages first) is one of every evaluation dataset's,
    and with SHIFT every ``trained`` language has parallel data to fit its vectors from (a zero-shot one
    without is evaluated without SHIFT only)."""
    from clearir.data.registry import dataset_spec

    for name in shared.eval_datasets:
        spec = dataset_spec(name)
        for lang in langs:
            if lang not in spec.languages:
                raise ClearirError(
                    f"{where}: {lang!r} is not a language of {name}; expected some of "
                    f"{', '.join(x for x in spec.languages if x != 'en')}"
                )
    parallel = _parallel(shared) if shared.shift else None
    if parallel and (missing := [lang for lang in trained if lang not in parallel.languages]):
        raise ClearirError(
            f"{where}: shift: {parallel.name} has no parallel paragraphs for {', '.join(missing)} to "
            f"fit SHIFT vectors from (it has {', '.join(parallel.languages)}); turn SHIFT off or choose "
            "other languages"
        )
