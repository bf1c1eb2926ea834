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
# Comparisons resampled together (columns of one matrix product); bounds the [n_resamples, columns] means.
_COLUMNS = 512


def _query_ids(a: Mapping[str, float], b: Mapping[str, float]) -> list[str]:
    """The sorted query ids ``a`` and ``b`` both cover (anything else is an error)."""
    if a.keys() != b.keys():
        only_a, only_b = sorted(a.keys() - b.keys()), sorted(b.keys() - a.keys())
        raise ClearirError(
            "paired comparison needs the same queries on both sides; "
            f"only in a: {only_a[:5]} ({len(only_a)}), only in b: {only_b[:5]} ({len(only_b)})"
        )
    if not a:
        raise ClearirError("paired comparison needs at least one query; got none")
    return sorted(a)


def _paired_diffs(a: Mapping[str, float], b: Mapping[str, float], qids: Sequence[str]) -> np.ndarray:
    """Per-query differences ``a - b`` in ``qids`` order."""
    diffs = np.asarray([a[q] for q in qids], dtype=np.float64) - np.asarray(
        [b[q] for q in qids], dtype=np.float64
    )
    if not np.isfinite(diffs).all():
        raise ClearirError("per-query values must be finite numbers; found NaN or infinity")
    return diffs


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise ClearirError(f"n_resamples must be >= 1, got {n_resamples}")


def _randomization_p(diffs: np.ndarray, n_resamples: int, seed: int) -> np.ndarray:
    """Two-sided sign-flip p-values of mean = 0 for each column of ``diffs`` ([queries, comparisons]), all
    columns flipped by the same signs (those of one column alone are the same: the draws depend on the
    number of queries and the seed only)."""
    n = diffs.shape[0]
    # Relative slack so resamples equal to the observed statistic up to rounding count as "as extreme".
    threshold = np.abs(diffs.mean(axis=0)) * (1 - 1e-12)
    rng = np.random.default_rng(seed)
    extreme = np.zeros(diffs.shape[1], dtype=np.int64)
    for start in range(0, n_resamples, _BLOCK):
        size = min(_BLOCK, n_resamples - start)
        signs = 1.0 - 2.0 * rng.integers(0, 2, size=(size, n))
        extreme += (np.abs(signs @ diffs) / n >= threshold).sum(axis=0)
    return (extreme + 1) / (n_resamples + 1)


def _bootstrap_interval(
    diffs: np.ndarray, n_resamples: int, seed: int, confidence: float
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap intervals (low, high) of the mean of each column of ``diffs``, every column
    resampled with the same draws of queries."""
    if not 0 < confidence < 1:
        raise ClearirError(f"confidence must be in (0, 1), got {confidence}")
    n = diffs.shape[0]
    rng = np.random.default_rng(seed)
    means = np.empty((n_resamples, diffs.shape[1]))
    for start in range(0, n_resamples, _BLOCK):
        size = min(_BLOCK, n_resamples - start)
        drawn = rng.integers(0, n, size=(size, n)) + n * np.arange(size)[:, None]
        counts = np.bincount(drawn.ravel(), minlength=size * n).reshape(size, n)
        means[start : start + size] = counts @ diffs / n
    alpha = (1 - confidence) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha], axis=0)
    return low, high


def paired_randomization_test(
    a: Mapping[str, float], b: Mapping[str, float], n_resamples: int = DEFAULT_RESAMPLES, seed: int = 0
) -> tuple[float, float]:
    """Two-sided paired randomization (sign-flip permutation) test of mean(a - b) = 0.

    Returns ``(mean_diff, p_value)``, where
    ``p = (1 + #{|resampled mean| >= |observed mean|}) / (n_resamples + 1)``.
    """
    _check_resamples(n_resamples)
    diffs = _paired_diffs(a, b, _query_ids(a, b))
    return float(diffs.mean()), float(_randomization_p(diffs[:, None], n_resamples, seed)[0])


def paired_bootstrap_ci(
    a: Mapping[str, float],
    b: Mapping[str, float],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap confidence interval ``(low, high)`` of mean(a - b), resampling queries."""
    _check_resamples(n_resamples)
    diffs = _paired_diffs(a, b, _query_ids(a, b))
    low, high = _bootstrap_interval(diffs[:, None], n_resamples, seed, confidence)
    return float(low[0]), float(high[0])


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
    return compare_many([(a, b, metric)], n_resamples, seed, confidence)[0]


def compare_many(
    pairs: Sequence[tuple[Mapping[str, float], Mapping[str, float], str]],
    n_resamples: int = DEFAULT_RESAMPLES,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[Comparison]:
    """:func:`compare` of every ``(a, b, metric)`` in ``pairs``, in order. The comparisons on the same
    queries are resampled together, with the same draws each would get alone (one matrix product instead of
    one per comparison): a report's thousands of tests take seconds."""
    _check_resamples(n_resamples)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, (a, b, _) in enumerate(pairs):
        groups.setdefault(tuple(_query_ids(a, b)), []).append(i)
    out: list[Comparison | None] = [None] * len(pairs)
    for qids, members in groups.items():
        for start in range(0, len(members), _COLUMNS):
            chunk = members[start : start + _COLUMNS]
            diffs = np.stack([_paired_diffs(pairs[i][0], pairs[i][1], qids) for i in chunk], axis=1)
            p_values = _randomization_p(diffs, n_resamples, seed)
            low, high = _bootstrap_interval(diffs, n_resamples, seed, confidence)
            for column, i in enumerate(chunk):
                a, b, metric = pairs[i]
                out[i] = Comparison(
                    metric=metric,
                    mean_a=float(np.mean(list(a.values()))),
                    mean_b=float(np.mean(list(b.values()))),
                    diff=float(diffs[:, column].mean()),
                    ci_low=float(low[column]),
                    ci_high=float(high[column]),
                    p_value=float(p_values[column]),
                    n=len(qids),
                )
    return [c for c in out if c is not None]


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
