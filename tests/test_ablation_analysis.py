"""The ablation's statistics on synthetic per-query values with known outcomes: a real gain found, no
difference not called real, lower-is-better metrics, mean ± std over seeds, Holm per family, references."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from clearir.experiment.analysis import VS_BASE, Analysis, ConfigTest, analyse, reference_value
from clearir.experiment.grid import Plan, load_plan
from clearir.experiment.plots import plot_lines, render_plots
from clearir.experiment.settings import Run
from clearir.experiment.store import FOCUS, Target, Values, targets_of
from clearir.metrics.significance import holm

N = 200
DATASET = "xquad"


def _base_values(langs: tuple[str, ...]) -> Values:
    """Per-query values of the base model: nDCG and Complete@10 in [0, 1], Max@R ranks."""
    rng = np.random.default_rng(0)
    values: Values = {}
    for target in targets_of(DATASET, langs):
        if target.metric == "max_rank_mean":
            column = rng.integers(1, 60, N).astype(float)
        else:
            column = rng.uniform(0.2, 0.8, N)
        values[target] = {f"q{i}": float(v) for i, v in enumerate(column)}
    return values


def _model(base: Values, run: Run, shift: dict[tuple[str, str], float]) -> Values:
    """``base`` plus small zero-mean noise and ``shift[(kind, metric)]``, on the run's languages."""
    rng = np.random.default_rng(run.settings.seed * 1000 + len(run.langs))
    out: Values = {}
    for target, column in base.items():
        if target.lang not in ("en", *run.langs):
            continue
        add = shift.get((target.kind, target.metric), 0.0)
        noise = rng.normal(0, 0.01, N)
        out[target] = {q: v + add + float(e) for (q, v), e in zip(column.items(), noise, strict=True)}
    return out


def _find(analysis: Analysis, family: str, variant: str, reference: str, target: Target) -> ConfigTest:
    return next(
        t
        for t in analysis.tests
        if (t.family, t.variant, t.reference, t.target) == (family, variant, reference, target)
    )


@pytest.fixture(scope="module")
def loss_grid() -> tuple[Plan, Analysis]:
    plan = load_plan(vary=["langs=de", "loss=infonce,clear", "kl=true,false", "seed=1,2"])
    base = _base_values(("de",))
    runs: dict[str, Values] = {}
    for run in plan.runs:
        s = run.settings
        shift: dict[tuple[str, str], float] = {}
        if s.loss == "clear" and s.kl:
            # CLEAR with KL: +0.1 nDCG@10 on de→en, 5 ranks better (lower) Max@R in the mixed pool.
            shift = {("L→en", "ndcg_at_10"): 0.1, ("mixed pool, L queries", "max_rank_mean"): -5.0}
        if s.loss == "infonce":
            # InfoNCE: en→en ±0.02 by seed (mean 0), to check mean ± std over seeds.
            shift = {("en→en", "ndcg_at_10"): 0.02 if s.seed == 1 else -0.02}
        runs[run.id] = _model(base, run, shift)
    return plan, analyse(plan, runs, base, n_resamples=2000)


def _config(plan: Plan, analysis: Analysis, label: str) -> str:
    return next(c.id for c in analysis.configs if c.label == label)


def test_real_gain_is_found_and_no_difference_is_not_called_real(loss_grid: tuple[Plan, Analysis]) -> None:
    plan, analysis = loss_grid
    infonce, clear_on, clear_off = (
        _config(plan, analysis, x) for x in ("infonce", "clear · kl=on", "clear · kl=off")
    )
    l_en = Target(DATASET, "de", "L→en", "ndcg_at_10")
    gain = _find(analysis, "loss", clear_on, infonce, l_en)
    assert gain.diff == pytest.approx(0.1, abs=0.005)
    assert gain.ci_low > 0.09 and gain.ci_high < 0.11
    assert gain.real and gain.outcome == "better" and gain.seeds_agreeing == 2 and gain.seeds == (1, 2)
    assert "real: better" in analysis.sentence(gain) and "clear · kl=on vs. infonce, de→en nDCG@10" in (
        analysis.sentence(gain)
    )
    # Lower Max@R is better: a negative difference is a real improvement.
    ranks = _find(
        analysis, "loss", clear_on, infonce, Target(DATASET, "de", "mixed pool, L queries", "max_rank_mean")
    )
    assert ranks.diff == pytest.approx(-5.0, abs=0.01) and ranks.outcome == "better"
    # Without KL, CLEAR is InfoNCE plus noise here: no real difference.
    same = _find(analysis, "loss", clear_off, infonce, l_en)
    assert abs(same.diff) < 0.01 and not same.real and same.outcome == "no real difference"
    assert "no real difference" in analysis.sentence(same)
    # KL on vs. off (the reference is off): the gain is KL's.
    kl = _find(analysis, "kl", clear_on, clear_off, l_en)
    assert kl.real and kl.diff == pytest.approx(0.1, abs=0.005)
    assert {t.reference for t in analysis.tests if t.family == "kl"} == {clear_off}
    # Against the base model, the same.
    assert _find(analysis, VS_BASE, clear_on, "base", l_en).real
    assert not _find(analysis, VS_BASE, clear_off, "base", l_en).real


def test_mean_and_std_over_seeds(loss_grid: tuple[Plan, Analysis]) -> None:
    plan, analysis = loss_grid
    infonce = analysis.config(_config(plan, analysis, "infonce"))
    english = Target(DATASET, "en", "en→en", "ndcg_at_10")
    stat = analysis.stats[(infonce.id, english)]
    assert set(stat.per_seed) == {1, 2}
    assert stat.per_seed[1] - stat.per_seed[2] == pytest.approx(0.04, abs=0.004)
    assert stat.mean == pytest.approx(analysis.base[english], abs=0.003)
    assert stat.std == pytest.approx(0.04 / math.sqrt(2), abs=0.003)
    # The seed-averaged test sees no English change; the per-seed differences disagree in sign.
    test = analysis.english(infonce)
    assert test is not None and not test.real and test.seeds_agreeing == 1
    assert sorted(test.per_seed_diffs) == pytest.approx([-0.02, 0.02], abs=0.003)


def test_holm_is_applied_per_family(loss_grid: tuple[Plan, Analysis]) -> None:
    _, analysis = loss_grid
    assert analysis.families() == [VS_BASE, "loss", "kl"]
    for family in analysis.families():
        tests = [t for t in analysis.tests if t.family == family]
        assert [t.p_holm for t in tests] == pytest.approx(holm([t.p_value for t in tests]))
        assert all(t.p_holm >= t.p_value for t in tests)
    # 3 configurations x every focus target against the base; 2 x them for loss; 1 x them for kl.
    n = len(FOCUS)
    assert [len([t for t in analysis.tests if t.family == f]) for f in analysis.families()] == [
        3 * n,
        2 * n,
        n,
    ]


def _test(**changes: float) -> ConfigTest:
    values = {"diff": 0.02, "ci_low": 0.01, "ci_high": 0.03, "p_value": 0.001, "p_holm": 0.01}
    values.update(changes)
    return ConfigTest(
        family="loss",
        variant="a",
        reference="b",
        target=Target(DATASET, "de", "L→en", "ndcg_at_10"),
        seeds=(1,),
        value=0.5,
        reference_value=0.48,
        n=100,
        per_seed_diffs=(0.02,),
        **values,
    )


def test_real_needs_corrected_p_and_an_interval_excluding_zero() -> None:
    assert _test().real
    assert not _test(p_holm=0.2).real  # the uncorrected p alone is not enough
    assert not _test(ci_low=-0.001).real
    assert _test(diff=-0.02, ci_low=-0.03, ci_high=-0.01).outcome == "worse"


def test_multilingual_model_is_compared_with_each_single_language_model() -> None:
    plan = load_plan(vary=["langs=de,ar,de+ar", "loss=infonce", "seed=1"])
    base = _base_values(("de", "ar"))
    runs = {}
    for run in plan.runs:
        # The de+ar model is 0.05 better on ar→en than the ar model, and the same as de on de→en.
        shift = {("L→en", "ndcg_at_10"): 0.05} if run.langs == ("de", "ar") else {}
        values = _model(base, run, {})
        if shift:
            ar = Target(DATASET, "ar", "L→en", "ndcg_at_10")
            values[ar] = {q: v + 0.05 for q, v in values[ar].items()}
        runs[run.id] = values
    analysis = analyse(plan, runs, base, n_resamples=1000)
    multi = _config(plan, analysis, "de+ar")
    tests = [t for t in analysis.tests if t.family == "langs"]
    assert {analysis.label(t.reference) for t in tests} == {"de", "ar"}
    assert all(t.variant == multi for t in tests)
    # Each pair is compared on the single language's targets (and en→en) only.
    assert {t.target.lang for t in tests if analysis.label(t.reference) == "de"} == {"en", "de"}
    ar_en = next(t for t in tests if t.target == Target(DATASET, "ar", "L→en", "ndcg_at_10"))
    assert ar_en.real and ar_en.diff == pytest.approx(0.05, abs=0.01)
    # Stats of the multilingual model cover both languages.
    assert {t.lang for t in analysis.targets(analysis.config(multi))} == {"en", "de", "ar"}


def test_missing_reference_or_runs_leave_comparisons_out() -> None:
    plan = load_plan(vary=["langs=de", "loss=infonce,clear", "seed=1,2"])
    base = _base_values(("de",))
    clear_runs = [r for r in plan.runs if r.settings.loss == "clear"]
    analysis = analyse(plan, {r.id: _model(base, r, {}) for r in clear_runs}, base, n_resamples=500)
    assert analysis.families() == [VS_BASE]
    # One seed of InfoNCE: the loss comparison uses the seed both have.
    some = [*clear_runs, next(r for r in plan.runs if r.settings.loss == "infonce" and r.settings.seed == 2)]
    analysis = analyse(plan, {r.id: _model(base, r, {}) for r in some}, base, n_resamples=500)
    assert {t.seeds for t in analysis.tests if t.family == "loss"} == {(2,)}


def test_reference_values() -> None:
    assert reference_value("loss", ["clear", "infonce"]) == "infonce"
    assert reference_value("kl", [True, False]) is False
    assert reference_value("alpha", [0.2, 0.4, 0.6]) == 0.4  # clearir run's default
    assert reference_value("lr", [1e-5, 2e-5]) == 1e-5  # no default among them: the first


def test_plot_lines_share_points_where_a_setting_does_not_matter(loss_grid: tuple[Plan, Analysis]) -> None:
    plan, analysis = loss_grid
    lines = plot_lines(plan, "loss", analysis.configs)
    # InfoNCE has no KL term: it starts both the kl=on and the kl=off line of the loss figure.
    assert {label: [c.label for c in points] for label, points in lines} == {
        "kl=on": ["infonce", "clear · kl=on"],
        "kl=off": ["infonce", "clear · kl=off"],
    }
    pngs = render_plots(plan, analysis)
    assert set(pngs) == {"vs_loss.png", "vs_kl.png"}
    assert all(png.startswith(b"\x89PNG") for png in pngs.values())


def test_shift_twins_and_holm_by_language() -> None:
    """SHIFT evaluations: every configuration gets a ``+ SHIFT`` twin and the three families that say whether
    to fine-tune, SHIFT, or both; ``holm_by_language`` corrects each language's tests on their own."""
    plan = load_plan(vary=["langs=de,ar", "loss=infonce", "seed=1,2"])
    base = _base_values(("de", "ar"))
    mixed = ("mixed pool, L queries", "complete_at_10")
    runs = {r.id: _model(base, r, {("L→en", "ndcg_at_10"): 0.1}) for r in plan.runs}
    # SHIFT adds +0.2 mixed-pool Complete@10, to the base model and to fine-tuned ones alike.
    shifted = {r.id: _model(base, r, {("L→en", "ndcg_at_10"): 0.1, mixed: 0.2}) for r in plan.runs}
    base_shifted = {
        t: {q: v + (0.2 if (t.kind, t.metric) == mixed else 0) for q, v in c.items()} for t, c in base.items()
    }
    analysis = analyse(plan, runs, base, 10000, shifted, base_shifted)
    de = _config(plan, analysis, "de")
    assert [c.label for c in analysis.configs] == ["de", "de + SHIFT", "ar", "ar + SHIFT"]
    target = Target(DATASET, "de", *mixed)
    assert _find(analysis, "SHIFT added", de + "+shift", de, target).real
    assert _find(analysis, "SHIFT added", "base+shift", "base", target).real
    assert analysis.label("base+shift") == "base model + SHIFT"
    # Fine-tuning alone is below SHIFT on the mixed pool, and adds nothing real to it there; on de→en it wins.
    assert _find(analysis, "fine-tuning vs SHIFT", de, "base+shift", target).outcome == "worse"
    assert not _find(analysis, "fine-tuning + SHIFT vs SHIFT", de + "+shift", "base+shift", target).real
    l_en = Target(DATASET, "de", "L→en", "ndcg_at_10")
    assert _find(analysis, "fine-tuning + SHIFT vs SHIFT", de + "+shift", "base+shift", l_en).real
    assert analysis.base_shift[target] == pytest.approx(analysis.base[target] + 0.2)

    per_language = replace(plan, shared=replace(plan.shared, holm_by_language=True))
    by_language = analyse(per_language, runs, base, 10000, shifted, base_shifted)
    vs_base = [t for t in by_language.tests if t.family == VS_BASE]
    de_tests = [t for t in vs_base if by_language.config(t.variant).langs == ("de",)]
    assert [t.p_holm for t in de_tests] == pytest.approx(holm([t.p_value for t in de_tests]))
    assert len(de_tests) < len(vs_base)


def test_holm_by_language_corrects_a_multilingual_model_per_evaluated_language() -> None:
    """A multilingual model's tests form one table per language it is evaluated on, as a per-language
    model's do: its de tests are corrected among themselves, not with its ar ones."""
    plan = load_plan(vary=["langs=de+ar", "seed=1,2"], set_=["loss=infonce", "holm_by_language=true"])
    base = _base_values(("de", "ar"))
    runs = {r.id: _model(base, r, {("L→en", "ndcg_at_10"): 0.1}) for r in plan.runs}
    analysis = analyse(plan, runs, base, 1000)
    vs_base = [t for t in analysis.tests if t.family == VS_BASE]
    de_tests = [t for t in vs_base if t.target.lang == "de"]
    assert de_tests and len(de_tests) < len(vs_base)
    assert [t.p_holm for t in de_tests] == pytest.approx(holm([t.p_value for t in de_tests]))


def test_multilingual_model_is_compared_at_the_same_budget_per_language(tmp_path: Path) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(
        '[fixed]\nloss = "infonce"\nseed = 1\n\n[[grid]]\nlangs = ["de", "ar"]\nsteps = [4, 8]\n\n'
        '[[grid]]\nlangs = ["de+ar"]\nsteps = [8]\n',
        encoding="utf-8",
    )
    plan = load_plan(grid)
    base = _base_values(("de", "ar"))
    analysis = analyse(plan, {r.id: _model(base, r, {}) for r in plan.runs}, base, n_resamples=200)
    tests = [t for t in analysis.tests if t.family == "langs"]
    # 8 steps over two languages: compared with the 4-step single-language models, not the 8-step ones.
    assert {analysis.label(t.reference) for t in tests} == {"de · steps=4", "ar · steps=4"}


def test_zero_shot_languages_are_targets_of_the_models_evaluated_on_them() -> None:
    plan = load_plan(
        vary=["langs=de,de+ar", "loss=infonce", "seed=1"], set_=["eval_langs=es", "eval_scope=own"]
    )
    base = _base_values(("de", "ar", "es"))
    runs = {r.id: _model(base, r, {}) for r in plan.runs}
    multi_run = next(r for r in plan.runs if len(r.langs) > 1)
    es = Target(DATASET, "es", "L→en", "ndcg_at_10")
    runs[multi_run.id][es] = {q: v + 0.05 for q, v in base[es].items()}  # _model keeps trained languages only
    analysis = analyse(plan, runs, base, n_resamples=2000)
    single, multi = (analysis.config(_config(plan, analysis, label)) for label in ("de", "de+ar"))
    assert single.zero_shot == () and multi.zero_shot == ("es",) and multi.evaluated == ("de", "ar", "es")
    assert es in analysis.targets(multi) and es not in analysis.targets(single)
    test = _find(analysis, VS_BASE, multi.id, "base", es)
    assert test.diff == pytest.approx(0.05) and test.real
