"""Paired statistics of an ablation, and what they say in plain words.

A *configuration* is a run's settings but the seed; its runs over seeds are averaged query by query before
testing, so each test asks whether the configuration differs on these queries (paired randomization test for
the p-value, paired bootstrap for the 95% interval, both over queries); the per-seed differences and how many
seeds agree in sign are given beside it, and every metric as mean ± std over seeds.

Comparisons (each on the focus targets of ``clearir.experiment.store.FOCUS``):

- family ``vs base``: every configuration against the base model;
- with SHIFT evaluations (``shift`` on), each configuration has a twin, ``<configuration> + SHIFT``, and the
  base model one too; three more families say whether to fine-tune, SHIFT, or both: ``SHIFT added`` (each
  twin against its configuration, the base model + SHIFT against the base model), ``fine-tuning vs SHIFT``
  (each configuration against the base model + SHIFT) and ``fine-tuning + SHIFT vs SHIFT`` (each twin
  against the base model + SHIFT);
- one family per varied setting: each configuration against the one that differs only in that setting, at
  its reference value (InfoNCE for ``loss``, off for ``kl``, ``sdpa`` for ``attention_kernel``, else
  ``clearir run``'s default when the grid has it, else the setting's first value), on the seeds both have.
  For ``langs``, a multilingual model is compared with each single-language model of its languages, on that
  language: the one with the same budget per language (the multilingual model's steps over its number of
  languages) when the grid has it, else the one with the same steps.

p-values are Holm-corrected over every test of a family, or with ``holm_by_language`` over those of one
language's table within a family: a per-language model's tests, or a multilingual model's (or the base
model's) tests on one language. A difference is called *real* only
when the corrected p < 0.05 and the confidence interval excludes 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from clearir.experiment.grid import Plan
from clearir.experiment.settings import DEFAULT_RUN, RunSettings, config_id, irrelevant
from clearir.experiment.store import Target, Values, targets_of
from clearir.metrics.registry import ENGLISH_KEPT, ENGLISH_METRIC, metric
from clearir.metrics.significance import HolmTest, compare_many, holm, mean_std
from clearir.report.results import SHIFT_SUFFIX

BASE = "base"
BASE_SHIFT = BASE + SHIFT_SUFFIX
VS_BASE = "vs base"
SHIFT_ADDED = "SHIFT added"
TUNING_VS_SHIFT = "fine-tuning vs SHIFT"
BOTH_VS_SHIFT = "fine-tuning + SHIFT vs SHIFT"
# The reference of a comparison: the baseline loss, CLEAR without KL, the paper's form without a variant,
# PyTorch's attention kernel (the fast one is its faster stand-in).
PREFERRED_REFERENCE: dict[str, Any] = {
    "loss": "infonce",
    "kl": False,
    "symmetric_kl": False,
    "bidirectional_reverse": False,
    "attention_kernel": "sdpa",
}


@dataclass(frozen=True)
class Config:
    """A configuration: its id, label, settings (those of its first run) and its runs by seed; ``shift``:
    the SHIFT twin, whose runs are the ``+shift`` evaluations of its configuration's; ``zero_shot``: the
    languages of ``eval_langs`` it was evaluated on besides its training languages."""

    id: str
    label: str
    settings: RunSettings
    runs: dict[int, str]
    shift: bool = False
    zero_shot: tuple[str, ...] = ()

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(self.runs)

    @property
    def langs(self) -> tuple[str, ...]:
        return self.settings.lang_list

    @property
    def evaluated(self) -> tuple[str, ...]:
        """The languages it has targets in: its training languages, then the zero-shot ones."""
        return (*self.langs, *self.zero_shot)


@dataclass(frozen=True)
class Stat:
    """A metric over seeds: mean, sample standard deviation and each seed's value."""

    mean: float
    std: float
    per_seed: dict[int, float]


@dataclass(frozen=True, kw_only=True)
class ConfigTest(HolmTest):
    """``variant`` (a configuration id) against ``reference`` (one, or ``base``) on one target: the
    significance record (``diff``, ``ci_low``, ``ci_high``, ``p_value``, ``n``, ``p_holm``: the family's
    Holm-corrected p-value) and what was compared.

    ``value``/``reference_value`` are the metric means over the ``seeds`` both have (``diff`` is their
    difference); ``per_seed_diffs`` the difference seed by seed.
    """

    family: str
    variant: str
    reference: str
    target: Target
    seeds: tuple[int, ...]
    value: float
    reference_value: float
    per_seed_diffs: tuple[float, ...]

    @property
    def higher_is_better(self) -> bool:
        return metric(self.target.metric).higher_is_better

    @property
    def outcome(self) -> str:
        """``better``, ``worse`` (real differences: Holm-corrected p < 0.05 and the interval excludes 0) or
        ``no real difference``."""
        if not self.real:
            return "no real difference"
        return "better" if (self.diff > 0) == self.higher_is_better else "worse"

    @property
    def english_kept(self) -> bool:
        """Within ``ENGLISH_KEPT`` of the reference (meant for the en→en ``ENGLISH_METRIC`` test)."""
        return abs(self.diff) <= ENGLISH_KEPT

    @property
    def seeds_agreeing(self) -> int:
        """How many seeds' differences have the sign of ``diff``."""
        return sum(1 for d in self.per_seed_diffs if d != 0 and (d > 0) == (self.diff > 0))


@dataclass
class Analysis:
    """The configurations, the base model's values, each configuration's stats, and every test."""

    configs: list[Config]
    base: dict[Target, float]
    stats: dict[tuple[str, Target], Stat]
    tests: list[ConfigTest] = field(default_factory=list)
    base_shift: dict[Target, float] = field(default_factory=dict)

    def config(self, id_: str) -> Config:
        return next(c for c in self.configs if c.id == id_)

    def label(self, id_: str) -> str:
        if id_ in (BASE, BASE_SHIFT):
            return "base model" + (" + SHIFT" if id_ == BASE_SHIFT else "")
        return self.config(id_).label

    def targets(self, config: Config) -> list[Target]:
        """The targets ``config`` has stats for, in focus order."""
        return [t for (c, t) in self.stats if c == config.id]

    def families(self) -> list[str]:
        return list(dict.fromkeys(t.family for t in self.tests))

    def vs_base(self, config: Config, target: Target) -> ConfigTest | None:
        return next(
            (t for t in self.tests if t.family == VS_BASE and t.variant == config.id and t.target == target),
            None,
        )

    def english(self, config: Config) -> ConfigTest | None:
        """``config``'s en→en ``ENGLISH_METRIC`` test against the base model (the first dataset's)."""
        return next(
            (
                t
                for t in self.tests
                if t.family == VS_BASE
                and t.variant == config.id
                and t.target.kind == "en→en"
                and t.target.metric == ENGLISH_METRIC
            ),
            None,
        )

    def sentence(self, test: ConfigTest) -> str:
        """One test in plain words."""
        spec = metric(test.target.metric)
        seeds = (
            f"; {test.seeds_agreeing} of {len(test.seeds)} seeds agree"
            if len(test.seeds) > 1
            else "; one seed"
        )
        if test.outcome == "no real difference":
            verdict = "no real difference (could be noise)"
        else:
            verdict = f"real: {test.outcome}"
        diff, low, high = (spec.format(x, sign=True) for x in (test.diff, test.ci_low, test.ci_high))
        return (
            f"{self.label(test.variant)} vs. {self.label(test.reference)}, {test.target.task} {spec.label}"
            f" ({test.target.dataset}): {diff} (95% CI {low} to {high}; p = {test.p_value:.4f}, "
            f"Holm-corrected {test.p:.4f}{seeds}) — {verdict}."
        )


def reference_value(key: str, values: Sequence[Any]) -> Any:
    """The value of setting ``key`` the other values are compared with (see the module doc)."""
    preferred = PREFERRED_REFERENCE.get(key, getattr(DEFAULT_RUN, key))
    return preferred if preferred in values else values[0]


def _mean(values: Mapping[str, float]) -> float:
    return float(np.mean(list(values.values())))


def _average(per_seed: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Per-query values averaged over seeds (the same queries in each)."""
    if len(per_seed) == 1:
        return dict(per_seed[0])
    queries = list(per_seed[0])
    means = np.mean([[values[q] for q in queries] for values in per_seed], axis=0)
    return dict(zip(queries, means.tolist(), strict=True))


def analyse(
    plan: Plan,
    runs: Mapping[str, Values],
    base: Values,
    n_resamples: int = 10000,
    shifted: Mapping[str, Values] | None = None,
    base_shifted: Values | None = None,
) -> Analysis:
    """The analysis of the finished runs ``runs`` (per-query values by run id) of ``plan`` against the base
    model's values ``base``; runs of ``plan`` not in ``runs`` are left out. ``shifted``/``base_shifted``:
    the same with SHIFT, when evaluated (the SHIFT twins and families)."""
    configs: dict[str, Config] = {}
    for run in plan.runs:
        if run.id in runs:
            zero_shot = tuple(
                x for x in plan.model_langs(run) if x in plan.shared.eval_langs and x not in run.langs
            )
            label = plan.label(run.settings, seed=False)
            config = configs.setdefault(
                run.config_id, Config(run.config_id, label, run.settings, {}, False, zero_shot)
            )
            config.runs[run.settings.seed] = run.id
    values: dict[str, Values] = dict(runs)
    twins: dict[str, Config] = {}
    for config in configs.values() if shifted else ():
        if all(r in shifted for r in config.runs.values()):
            runs_shifted = {seed: r + SHIFT_SUFFIX for seed, r in config.runs.items()}
            label = f"{config.label} + SHIFT"
            twins[config.id] = replace(
                config, id=config.id + SHIFT_SUFFIX, label=label, runs=runs_shifted, shift=True
            )
            values.update({r + SHIFT_SUFFIX: shifted[r] for r in config.runs.values()})
    every = [c for plain in configs.values() for c in (plain, twins.get(plain.id)) if c is not None]
    datasets = list(dict.fromkeys(t.dataset for t in base))
    stats: dict[tuple[str, Target], Stat] = {}
    for config in every:
        for target in (t for d in datasets for t in targets_of(d, config.evaluated)):
            if target in base and all(target in values[r] for r in config.runs.values()):
                per_seed = {seed: _mean(values[r][target]) for seed, r in config.runs.items()}
                mean, std = mean_std(list(per_seed.values()))
                stats[(config.id, target)] = Stat(mean, std, per_seed)
    fixed: dict[str, Values] = {BASE: base, **({BASE_SHIFT: base_shifted} if base_shifted else {})}
    analysis = Analysis(
        every,
        {t: _mean(v) for t, v in base.items()},
        stats,
        base_shift={t: _mean(v) for t, v in (base_shifted or {}).items()},
    )
    pending: list[
        tuple[str, str, str, Target, list[int], list[dict[str, float]], list[dict[str, float]]]
    ] = []

    def side(who: Config | str, target: Target, seeds: list[int]) -> list[dict[str, float]] | None:
        """Per-query values of ``who`` (a configuration, or the base model with or without SHIFT) per seed."""
        if isinstance(who, Config):
            return [values[who.runs[s]][target] for s in seeds] if (who.id, target) in stats else None
        return [fixed[who][target]] * len(seeds) if target in fixed[who] else None

    def test(family: str, variant: Config | str, reference: Config | str, targets: Sequence[Target]) -> None:
        if isinstance(variant, Config):
            seeds = [s for s in variant.seeds if not isinstance(reference, Config) or s in reference.runs]
        else:
            seeds = [0]
        for target in targets if seeds else ():
            mine, other = side(variant, target, seeds), side(reference, target, seeds)
            if mine is not None and other is not None:
                ids = [x.id if isinstance(x, Config) else x for x in (variant, reference)]
                pending.append((family, ids[0], ids[1], target, seeds, mine, other))

    for config in every:
        test(VS_BASE, config, BASE, analysis.targets(config))
    for key in (k for k in plan.varying if k != "seed"):
        for config, reference, langs in _pairs(plan, key, configs):
            test(key, config, reference, [t for d in datasets for t in targets_of(d, langs)])
    if base_shifted:
        test(SHIFT_ADDED, BASE_SHIFT, BASE, [t for d in datasets for t in targets_of(d, plan.train_langs)])
        for config in configs.values():
            if twin := twins.get(config.id):
                test(SHIFT_ADDED, twin, config, analysis.targets(twin))
            test(TUNING_VS_SHIFT, config, BASE_SHIFT, analysis.targets(config))
            if twin:
                test(BOTH_VS_SHIFT, twin, BASE_SHIFT, analysis.targets(twin))
    averages: dict[tuple[str, Target, tuple[int, ...]], dict[str, float]] = {}

    def average(
        who: str, target: Target, seeds: list[int], per_seed: list[dict[str, float]]
    ) -> dict[str, float]:
        """``_average`` once per (configuration or base model, target, seeds), shared by its many tests."""
        key = (who, target, tuple(seeds))
        if key not in averages:
            averages[key] = _average(per_seed)
        return averages[key]

    pairs = [
        (average(v, t, s, mine), average(r, t, s, other), t.metric) for _, v, r, t, s, mine, other in pending
    ]
    for (family, variant, reference, target, seeds, mine, other), result in zip(
        pending, compare_many(pairs, n_resamples, seed=0), strict=True
    ):
        analysis.tests.append(
            ConfigTest(
                family=family,
                variant=variant,
                reference=reference,
                target=target,
                seeds=tuple(seeds),
                value=result.mean_a,
                reference_value=result.mean_b,
                per_seed_diffs=tuple(_mean(a) - _mean(b) for a, b in zip(mine, other, strict=True)),
                **result.record(),
            )
        )
    _correct(analysis, plan.shared.holm_by_language)
    return analysis


def _scope(analysis: Analysis, test: ConfigTest) -> str:
    """The table a test belongs to: its configuration's training language (a per-language model's table
    holds its English targets too), or the target's language for the base model and a multilingual model
    (one table per language it is evaluated on)."""
    if test.variant in (BASE, BASE_SHIFT):
        return test.target.lang
    langs = analysis.config(test.variant).langs
    return langs[0] if len(langs) == 1 else f"{'+'.join(langs)}: {test.target.lang}"


def _correct(analysis: Analysis, by_language: bool) -> None:
    """Set every test's Holm-corrected p-value: over its family, or ``by_language`` over the tests of one
    language's table within the family (``_scope``)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, t in enumerate(analysis.tests):
        groups.setdefault((t.family, _scope(analysis, t) if by_language else ""), []).append(i)
    for members in groups.values():
        for i, p in zip(members, holm([analysis.tests[i].p_value for i in members]), strict=True):
            analysis.tests[i] = replace(analysis.tests[i], p_holm=p)


def _pairs(
    plan: Plan, key: str, configs: Mapping[str, Config]
) -> list[tuple[Config, Config, tuple[str, ...]]]:
    """(configuration, its reference for setting ``key``, the languages compared) for every configuration
    that differs from a finished reference in ``key`` only."""
    pairs = []
    if key == "langs":
        for config in configs.values():
            if len(config.langs) > 1:
                share = config.settings.steps // len(config.langs)  # the same budget per language
                for lang in config.langs:
                    candidates = (
                        replace(config.settings, langs=lang, steps=share),
                        replace(config.settings, langs=lang),
                    )
                    reference = next((r for c in candidates if (r := configs.get(config_id(c)))), None)
                    if reference is not None:
                        pairs.append((config, reference, (lang,)))
        return pairs
    ref = reference_value(key, plan.values(key))
    for config in configs.values():
        if key in irrelevant(config.settings) or getattr(config.settings, key) == ref:
            continue
        reference = configs.get(config_id(replace(config.settings, **{key: ref})))
        if reference is not None:
            pairs.append((config, reference, config.langs))
    return pairs
