"""Significance statistics: behaviour on known distributions, and agreement with scipy's implementations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from clearir.errors import ClearirError
from clearir.metrics.significance import (
    Comparison,
    compare,
    holm,
    mean_std,
    paired_bootstrap_ci,
    paired_randomization_test,
)


def _per_query(values: np.ndarray) -> dict[str, float]:
    return {f"q{i}": float(v) for i, v in enumerate(values)}


def test_randomization_p_values_are_uniform_under_the_null() -> None:
    rng = np.random.default_rng(0)
    p_values = []
    for seed in range(200):
        a, b = rng.random(50), rng.random(50)
        p_values.append(
            paired_randomization_test(_per_query(a), _per_query(b), n_resamples=500, seed=seed)[1]
        )
    p = np.asarray(p_values)
    assert 0.42 < p.mean() < 0.58
    assert 0.01 <= (p < 0.05).mean() <= 0.10
    assert 0.05 <= (p < 0.2).mean() <= 0.35


def test_randomization_detects_a_clear_shift() -> None:
    rng = np.random.default_rng(1)
    b = rng.random(100)
    a = b + 0.2 + rng.normal(0, 0.05, 100)
    diff, p = paired_randomization_test(_per_query(a), _per_query(b), n_resamples=2000)
    assert diff == pytest.approx(float(np.mean(a - b)))
    assert p == 1 / 2001  # no sign flip comes close: the smallest possible p-value
    # Identical systems: every resample is as extreme as the observed 0.
    assert paired_randomization_test(_per_query(b), _per_query(b), n_resamples=100) == (0.0, 1.0)


def test_randomization_matches_scipy_permutation_test() -> None:
    rng = np.random.default_rng(2)
    b = rng.random(40)
    a = b + rng.normal(0.05, 0.2, 40)  # a modest effect: p around 0.1
    _, p = paired_randomization_test(_per_query(a), _per_query(b), n_resamples=10000, seed=3)
    reference = stats.permutation_test(
        (a, b),
        lambda x, y, axis: np.abs(np.mean(x - y, axis=axis)),
        permutation_type="samples",
        alternative="greater",
        n_resamples=10000,
        rng=np.random.default_rng(4),
    )
    assert 0.01 < reference.pvalue < 0.5
    # Both are Monte Carlo estimates from 10,000 resamples: standard error about 0.003 each.
    assert p == pytest.approx(reference.pvalue, abs=0.015)


def test_bootstrap_ci_matches_scipy_percentile_bootstrap() -> None:
    rng = np.random.default_rng(5)
    a, b = rng.random(60), rng.random(60)
    low, high = paired_bootstrap_ci(_per_query(a), _per_query(b), n_resamples=10000, seed=6, confidence=0.9)
    reference = stats.bootstrap(
        (a - b,),
        np.mean,
        confidence_level=0.9,
        n_resamples=10000,
        method="percentile",
        rng=np.random.default_rng(7),
    ).confidence_interval
    width = reference.high - reference.low
    assert low == pytest.approx(reference.low, abs=0.05 * width)
    assert high == pytest.approx(reference.high, abs=0.05 * width)


def test_bootstrap_ci_covers_the_true_difference() -> None:
    rng = np.random.default_rng(8)
    true_diff = 0.1
    covered = []
    for seed in range(200):
        b = rng.random(80)
        a = b + true_diff + rng.normal(0, 0.3, 80)
        low, high = paired_bootstrap_ci(_per_query(a), _per_query(b), n_resamples=1000, seed=seed)
        covered.append(low <= true_diff <= high)
    # Nominal 95%; the percentile bootstrap undercovers slightly at small n.
    assert 0.88 <= np.mean(covered) <= 0.99


def test_compare_bundles_the_statistics() -> None:
    rng = np.random.default_rng(9)
    b = rng.random(30)
    a, b = _per_query(b + 0.1), _per_query(b)
    result = compare(a, b, metric="ndcg_at_10", n_resamples=1000, seed=1)
    assert isinstance(result, Comparison)
    assert result.metric == "ndcg_at_10" and result.n == 30
    assert result.mean_a - result.mean_b == pytest.approx(result.diff) == pytest.approx(0.1)
    assert result.ci_low == pytest.approx(0.1) and result.ci_high == pytest.approx(0.1)
    assert result.p_value == 1 / 1001
    assert compare(a, b, metric="ndcg_at_10", n_resamples=1000, seed=1) == result  # seeded: reproducible


def test_holm_by_hand() -> None:
    # Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 -> running max keeps 0.06.
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]) == []


def test_mean_std_over_seeds() -> None:
    assert mean_std([0.5, 0.7, 0.9]) == pytest.approx((0.7, 0.2))  # sample std (ddof=1)
    assert mean_std([0.4]) == (0.4, 0.0)


def test_bad_input_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match=r"only in a: \['q2'\]"):
        paired_randomization_test({"q1": 0.1, "q2": 0.3}, {"q1": 0.2})
    with pytest.raises(ClearirError, match="at least one query"):
        paired_bootstrap_ci({}, {})
    with pytest.raises(ClearirError, match="finite"):
        compare({"q1": float("nan")}, {"q1": 0.2})
    with pytest.raises(ClearirError, match="confidence"):
        paired_bootstrap_ci({"q1": 0.1}, {"q1": 0.2}, confidence=95)
    with pytest.raises(ClearirError, match="n_resamples"):
        paired_randomization_test({"q1": 0.1}, {"q1": 0.2}, n_resamples=0)
    with pytest.raises(ClearirError, match=r"\[0, 1\]"):
        holm([0.1, 1.5])
    with pytest.raises(ClearirError, match="at least one value"):
        mean_std([])
