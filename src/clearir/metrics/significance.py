"""Statistics for comparing systems: paired tests over per-query values, Holm correction, mean ± std.

Per-query values are ``dict[query id, value]``; two systems are compared on the same query set (anything else
is an error). Differences are always ``a - b``. Resampling is seeded, so results are reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from clearir.errors import ClearirError

# Resamples of the paired tests unless a caller says otherwise (10,000 keep the p-value's own error below
# 0.005): cheap, the bootstrap CI of 300 queries takes ~27 ms, the whole comparison ~48 ms on one CPU core.
DEFAULT_RESAMPLES = 10000

# Resamples drawn per block; bounds the temporary [block, n_queries] arrays.
_BLOCK = 1000


def _paired_diffs(a: Mapping[str, float], b: Mapping[str, float]) -> np.ndarray:
    """Per-query differences ``a - b`` in sorted query id order; both must cover the same queries."""
    if a.keys() != b.keys():
        only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise ClearirError(
            "paired comparison needs the same queries on both sides; "
            f"only in a: {only_a[:5]} ({len(only_a)}), only in b: {only_b[:5]} ({len(only_b)})"
        )
    if not a:
        raise ClearirError("paired comparison needs at least one query; got none")
    qids = sorted(a)
    diffs = np.asarray([a[q] for q in qids], dtype=np.float64) - np.asarray(
        [b[q] for q in qids], dtype=np.float64
    )
    if not np.isfinite(diffs).all():
        raise ClearirError("per-query values must be finite numbers; found NaN or infinity")
    return diffs


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise ClearirError(f"n_resamples must be >= 1, got {n_resamples}")


def paired_randomization_test(
    a: Mapping[str, float], b: Mapping[str, float], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Two-sided paired randomization (sign-flip permutation) test of mean(a - b) = 0.

    Returns ``(mean_diff, p_value)``, where
    ``p = (1 + #{|resampled mean| >= |observed mean|}) / (n_resamples + 1)``.
    """
    _check_resamples(n_resamples)
    diffs = _paired_diffs(a, b)
    observed = float(diffs.mean())
    # Relative slack so resamples equal to the observed statistic up to rounding count as "as extreme".
    threshold = abs(observed) * (1 - 1e-12)
    rng = np.random.default_rng(seed)
    extreme = 0
    for start in range(0, n_resamples, _BLOCK):
        size = min(_BLOCK, n_resamples - start)
        signs = 1.0 - 2.0 * rng.integers(0, 2, size=(size, len(diffs)))
        extreme += int((np.abs(signs @ diffs) / len(diffs) >= threshold).sum())
    return observed, (extreme + 1) / (n_resamples + 1)


def paired_bootstrap_ci(
    a: Mapping[str, float],
    b: Mapping[str, float],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval ``(low, high)`` of mean(a - b), resampling queries."""
    _check_resamples(n_resamples)
    if not 0 < confidence < 1:
        raise ClearirError(f"confidence must be in (0, 1), got {confidence}")
    diffs = _paired_diffs(a, b)
    rng = np.random.default_rng(seed)
    means = np.empty(n_resamples)
    for start in range(0, n_resamples, _BLOCK):
        size = min(_BLOCK, n_resamples - start)
        means[start : start + size] = diffs[rng.integers(0, len(diffs), size=(size, len(diffs)))].mean(axis=1)
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


# p-value below which a difference is called significant.
ALPHA = 0.05


@dataclass(frozen=True)
class PairedTest:
    """The significance record: a paired difference ``diff`` = mean(a - b) over ``n`` queries, its bootstrap
    interval ``ci_low``/``ci_high`` and the randomization test's two-sided ``p_value``. Records that say what
    was tested extend it (``clearir.report.results.Significance``,
    ``clearir.experiment.analysis.ConfigTest``); the field names are those of ``results.json`` and
    ``ablation.json``."""

    diff: float
    ci_low: float
    ci_high: float
    p_value: float
    n: int

    @property
    def p(self) -> float:
        """The p-value a verdict uses."""
        return self.p_value

    def record(self) -> dict[str, float | int]:
        """The record's own fields (``diff``, ``ci_low``, ``ci_high``, ``p_value``, ``n``) by name."""
        return {name: getattr(self, name) for name in ("diff", "ci_low", "ci_high", "p_value", "n")}

    @property
    def significant(self) -> bool:
        """p < ``ALPHA``."""
        return self.p < ALPHA

    @property
    def excludes_zero(self) -> bool:
        return self.ci_low > 0 or self.ci_high < 0

    @property
    def real(self) -> bool:
        """Significant and the interval excludes 0."""
        return self.significant and self.excludes_zero


@dataclass(frozen=True, kw_only=True)
class HolmTest(PairedTest):
    """A test of a family of tests: ``p_holm`` is its Holm-adjusted p-value, which verdicts use when set."""

    p_holm: float | None = None

    @property
    def p(self) -> float:
        return self.p_value if self.p_holm is None else self.p_holm


@dataclass(frozen=True, kw_only=True)
class Comparison(PairedTest):
    """System a vs. system b on one metric: the test and both means (``diff = mean_a - mean_b``)."""

    metric: str
    mean_a: float
    mean_b: float


def compare(
    a: Mapping[str, float],
    b: Mapping[str, float],
    metric: str = "",
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> Comparison:
    """Paired comparison of per-query values ``a`` and ``b``: randomization test and bootstrap CI."""
    diff, p_value = paired_randomization_test(a, b, n_resamples, seed)
    low, high = paired_bootstrap_ci(a, b, n_resamples, seed, confidence)
    return Comparison(
        metric=metric,
        mean_a=float(np.mean(list(a.values()))),
        mean_b=float(np.mean(list(b.values()))),
        diff=diff,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        n=len(a),
    )


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of e.g. one score over seeds; std is 0.0 for one value."""
    if len(values) == 0:
        raise ClearirError("mean_std needs at least one value; got none")
    array = np.asarray(values, dtype=np.float64)
    std = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return float(array.mean()), std


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order (reject where adjusted p <= alpha)."""
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1 or ((p < 0) | (p > 1) | np.isnan(p)).any():
        raise ClearirError(f"holm needs a list of p-values in [0, 1], got {list(p_values)}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    adjusted_sorted = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * p[order]))
    adjusted = np.empty(m)
    adjusted[order] = adjusted_sorted
    return adjusted.tolist()
