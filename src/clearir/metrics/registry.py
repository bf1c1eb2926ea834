"""Every metric clearir reports, in one place: its key, labels, the per-query measure it aggregates and how,
which way is better, how many decimals it is shown with, and where it is shown.

A metric is the aggregate over queries of one per-query *measure* the evaluation writes
(``per_query/<task>.json.gz``): ``ndcg_at_10`` is the mean of the per-query ``ndcg_at_10``,
``max_rank_median`` the median of the per-query ``max_rank``, ``inclination_share`` the share of queries
whose ``inclination`` count is at least 1. A measure no entry names is summarised as its mean under its
own name (``ndcg_at_3``, ``map_at_100``, ``complete_at_5``).

Adding a metric to the reports is one entry here: with ``shown_in`` naming ``RUN`` it is a row of the run
report's tables (with significance tests when its aggregate is a mean of per-query values), with ``ABLATION``
it is a focus target of every ablation configuration. A standard ranking measure
(``<ndcg|recall|mrr>_at_<k>``) an entry names is computed per query by the evaluation, whatever ``k``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from clearir.errors import ClearirError
from clearir.metrics.ranking import DEFAULT_MEASURES, parse_measure

# How a metric aggregates its measure's per-query values.
MEAN = "mean"
MEDIAN = "median"
SHARE = "share"  # share of queries with a value of at least 1 (a count such as inclination)
# The pools a metric is reported for: any pool, or only pools with several gold documents per query (mixed).
ANY = "any"
MIXED = "mixed"
# Where a metric is shown.
RUN = "run"  # the run report's tables (summary.md, report.html, results.json), with significance tests
TERMINAL = "terminal"  # the compact table `clearir run` prints
ABLATION = "ablation"  # an ablation's focus targets: tested and shown per configuration
EVAL = "eval"  # the table `clearir eval` prints
REPORTS = frozenset({RUN, ABLATION})


@dataclass(frozen=True)
class Metric:
    """One reported number: ``key`` names it in results (``scores``, ``metrics``), ``label`` in reports,
    ``short`` in terminal tables; it is ``aggregate`` (``MEAN``, ``MEDIAN``, ``SHARE``) of the per-query
    ``measure``; ``digits`` decimals; ``pools`` ``ANY`` or ``MIXED``; ``shown_in`` where it is shown."""

    key: str
    label: str
    short: str
    measure: str
    aggregate: str
    higher_is_better: bool
    digits: int
    pools: str = ANY
    shown_in: frozenset[str] = frozenset()

    @property
    def mixed_only(self) -> bool:
        return self.pools == MIXED

    @property
    def testable(self) -> bool:
        """Whether the metric is the mean of per-query values (then a paired test tests exactly it)."""
        return self.aggregate in (MEAN, SHARE)

    @property
    def neutral(self) -> float:
        """Changes smaller than half the last shown decimal show as no change."""
        return 0.5 * 10.0**-self.digits

    def format(self, value: float, sign: bool = False) -> str:
        return f"{value:{'+' if sign else ''}.{self.digits}f}"

    def per_query(self, values: Mapping[str, float]) -> dict[str, float]:
        """The per-query values whose mean is this metric (``testable`` metrics only)."""
        if self.aggregate == SHARE:
            return {q: float(v >= 1) for q, v in values.items()}
        if self.aggregate == MEAN:
            return {q: float(v) for q, v in values.items()}
        raise ClearirError(f"{self.key} is a {self.aggregate} over queries; it has no per-query values")

    def summarize(self, values: np.ndarray) -> float:
        if self.aggregate == MEDIAN:
            return float(np.median(values))
        if self.aggregate == SHARE:
            return float((values >= 1).mean())
        return float(values.mean())


_ALL = frozenset({RUN, TERMINAL, ABLATION, EVAL})

METRICS: tuple[Metric, ...] = (
    Metric("ndcg_at_10", "nDCG@10", "nDCG@10", "ndcg_at_10", MEAN, True, 3, ANY, _ALL),
    Metric("ndcg_at_1", "nDCG@1", "nDCG@1", "ndcg_at_1", MEAN, True, 3, ANY, REPORTS),
    Metric("recall_at_10", "Recall@10", "R@10", "recall_at_10", MEAN, True, 3, ANY, frozenset({RUN})),
    Metric("recall_at_100", "Recall@100", "R@100", "recall_at_100", MEAN, True, 3, ANY, frozenset({EVAL})),
    Metric("max_rank_mean", "Max@R", "Max@R", "max_rank", MEAN, False, 2, MIXED, _ALL),
    Metric("max_rank_median", "Max@R (median)", "Max@R med.", "max_rank", MEDIAN, False, 1, MIXED),
    Metric("complete_at_10", "Complete@10", "C@10", "complete_at_10", MEAN, True, 3, MIXED, _ALL),
    Metric(
        "inclination_share",
        "English inclination",
        "incl.",
        "inclination",
        SHARE,
        False,
        3,
        MIXED,
        frozenset({RUN, TERMINAL, EVAL}),
    ),
    Metric(
        "inclination_mean", "English inclination (count)", "incl. n", "inclination", MEAN, False, 2, MIXED
    ),
)
METRIC_BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}

# "English kept": en→en ``ENGLISH_METRIC`` of a fine-tuned model within ``ENGLISH_KEPT`` of the base model's.
# One nDCG point: below the noise of a single run on ~1,000 queries (paired bootstrap intervals of en→en
# nDCG@10 differences are about ±0.01 wide there), so a smaller change is not called a loss on one seed; the
# ablation's significance test says beside it whether a difference is real.
ENGLISH_METRIC = "ndcg_at_10"
ENGLISH_KEPT = 0.01


def metric(key: str) -> Metric:
    """The registry entry of ``key``."""
    try:
        return METRIC_BY_KEY[key]
    except KeyError:
        raise ClearirError(f"unknown metric {key!r}; expected one of {', '.join(METRIC_BY_KEY)}") from None


def shown_in(place: str) -> tuple[Metric, ...]:
    """The metrics shown in ``place`` (``RUN``, ``TERMINAL``, ``ABLATION``, ``EVAL``), in registry order."""
    return tuple(m for m in METRICS if place in m.shown_in)


def metric_labels(place: str) -> str:
    """The labels of the metrics shown in ``place``, comma-separated (for help texts)."""
    return ", ".join(m.label for m in shown_in(place))


def ranking_measures() -> tuple[str, ...]:
    """The ranking measures the evaluation computes per query: the defaults and any an entry names."""
    named = []
    for m in METRICS:
        try:
            parse_measure(m.measure)
        except ClearirError:
            continue
        named.append(m.measure)
    return tuple(dict.fromkeys([*DEFAULT_MEASURES, *named]))


def summarize(per_query: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """A task's scores from its per-query values (``measure -> query id -> value``): every entry of a
    measure present, in registry order, and the mean of each measure no entry names, under its name."""
    scores: dict[str, float] = {}
    for measure, values in per_query.items():
        array = np.fromiter(values.values(), dtype=np.float64, count=len(values))
        entries = [m for m in METRICS if m.measure == measure]
        for entry in entries:
            scores[entry.key] = entry.summarize(array)
        if not entries:
            scores[measure] = float(array.mean())
    return scores


def tested_values(
    per_query: Mapping[str, Mapping[str, float]], metrics: Iterable[Metric]
) -> dict[str, dict[str, float]]:
    """``metric key -> query id -> value`` for each testable metric of ``metrics`` whose measure
    ``per_query`` holds: the values whose mean is the reported metric."""
    return {
        m.key: m.per_query(per_query[m.measure]) for m in metrics if m.testable and m.measure in per_query
    }
