"""Derived views of a run: each fine-tuned model against the base model, per language and direction, how
much English (en→en) quality each fine-tuned model kept, and fine-tuning against SHIFT and both together."""

from __future__ import annotations

from dataclasses import dataclass

from clearir.evaluation.settings import MATRIX_SCENARIOS
from clearir.metrics.registry import ENGLISH_KEPT, ENGLISH_METRIC, RUN, TERMINAL, metric, shown_in
from clearir.metrics.significance import ALPHA, HolmTest, holm
from clearir.report.results import ENGLISH, SHIFT_SUFFIX, EvalEntry, ModelEntry, RunResults

# The metrics of the full tables, and of the compact (terminal) table: the registry's.
REPORTED = tuple(m.key for m in shown_in(RUN))
HEADLINE_METRICS = tuple(m.key for m in shown_in(TERMINAL))
# The metric of the headline (cross-lingual directions) and of the mixed-pool headline.
CROSS_METRIC = "ndcg_at_10"
MIXED_METRIC = "max_rank_mean"


def scenario_lang(entry: EvalEntry) -> str:
    """The non-English language a scenario is about: ``en`` for en→en, ``all`` for English queries in a
    multilingual pool, the query language for other-language queries in a multilingual pool."""
    others = {entry.query_lang, *entry.doc_langs} - {ENGLISH}
    if not others:
        return ENGLISH
    if len(others) == 1:
        return next(iter(others))
    return entry.query_lang if entry.query_lang != ENGLISH else "all"


def _multilingual(entry: EvalEntry) -> bool:
    """A pool of every evaluated language (with a single other language it holds the same two as the
    bilingual pool, so the scenario name tells them apart)."""
    return entry.scenario == "multilingual" or len(entry.doc_langs) > 2


def direction_label(entry: EvalEntry) -> str:
    """``hi→en``, ``en→hi``, ``hi→en+hi`` (bilingual mixed pool) or ``hi→all (12)`` (multilingual pool)."""
    if _multilingual(entry):
        return f"{entry.query_lang}→all ({len(entry.doc_langs)})"
    return f"{entry.query_lang}→{'+'.join(entry.doc_langs)}"


# Kinds of scenario relative to a language L, in the order tables and plots show them.
KINDS = (
    "L→en",
    "en→L",
    "L→L",
    "mixed pool, L queries",
    "mixed pool, en queries",
    "multilingual pool",
    "other",
)
CROSS_KINDS = ("L→en", "en→L")


def scenario_kind(entry: EvalEntry, lang: str) -> str:
    """Which of ``KINDS`` an evaluation is for language ``lang`` (``other`` for a direction or pool without
    English, e.g. a ``matrix`` cell ar→de or the ``pairs`` pool ar ∪ de)."""
    docs, query = entry.doc_langs, entry.query_lang
    if _multilingual(entry):
        return "multilingual pool"
    if len(docs) == 2 and set(docs) == {ENGLISH, lang}:
        return "mixed pool, L queries" if query == lang else "mixed pool, en queries"
    if docs == (ENGLISH,) and query == lang:
        return "L→en"
    if docs == (lang,) and query in (ENGLISH, lang):
        return "en→L" if query == ENGLISH else "L→L"
    return "other"


def classic_entries(entries: list[EvalEntry]) -> list[EvalEntry]:
    """The evaluations the per-language tables show: the classic scenarios', and a ``matrix`` or ``pairs``
    one only where it is a classic direction or pool (same language, or English on one side) that no classic
    scenario measured (a cell equals its classic direction). The language matrix
    (:mod:`clearir.report.matrix`) shows them all."""
    classic = {
        (e.model, e.dataset, e.query_lang, e.doc_langs) for e in entries if e.scenario not in MATRIX_SCENARIOS
    }
    out = []
    for entry in entries:
        if entry.scenario in MATRIX_SCENARIOS:
            langs = {entry.query_lang, *entry.doc_langs}
            if (entry.model, entry.dataset, entry.query_lang, entry.doc_langs) in classic:
                continue
            if len(langs) > 1 and ENGLISH not in langs:
                continue
        out.append(entry)
    return out


@dataclass(frozen=True)
class Delta:
    """A fine-tuned model's value of a metric, its change from the base model, and its p-value if tested."""

    value: float | None
    delta: float | None
    p_value: float | None = None

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < ALPHA


@dataclass(frozen=True)
class ComparisonRow:
    """Base model vs. each loss on one (dataset, language, direction, metric).

    ``trained_on`` is the training language of the compared models: ``lang`` itself, or another language when
    ``lang`` is evaluated zero-shot.
    """

    dataset: str
    lang: str
    trained_on: str
    direction: str
    kind: str
    scenario: str
    metric: str
    base: float | None
    by_loss: dict[str, Delta]

    @property
    def zero_shot(self) -> bool:
        return self.lang != self.trained_on


def _delta(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else value - base


def comparison_rows(results: RunResults, metrics: tuple[str, ...] | None = None) -> list[ComparisonRow]:
    """Every (dataset, language, direction, metric) the base model was evaluated on, except en→en (see
    ``english_retention``), with each loss's model trained on that language, or on each training language
    for a language no model was trained on (zero-shot). ``metrics`` restricts the metric keys."""
    wanted = [metric(k) for k in metrics or REPORTED]
    by_model = {(e.model, e.key): e for e in results.evaluations}
    tests = {(s.model, s.key, s.metric): s for s in results.significance if s.reference == results.base.name}
    base_entries = [
        e
        for e in classic_entries(results.evaluations)
        if e.model == results.base.name and scenario_lang(e) != ENGLISH
    ]
    train_langs = results.train_langs
    rows: list[ComparisonRow] = []
    datasets = list(dict.fromkeys(e.dataset for e in base_entries))
    for dataset in datasets:
        entries = [e for e in base_entries if e.dataset == dataset]
        for lang in dict.fromkeys(scenario_lang(e) for e in entries):
            lang_entries = sorted(
                (e for e in entries if scenario_lang(e) == lang),
                key=lambda e: (KINDS.index(scenario_kind(e, lang)), e.scenario),
            )
            # Without any fine-tuned model, the base model's rows alone.
            for trained_on in [lang] if lang in train_langs or not train_langs else train_langs:
                for entry in lang_entries:
                    for spec in wanted:
                        if spec.key not in entry.metrics or (spec.mixed_only and not entry.is_mixed):
                            continue
                        base = entry.metrics[spec.key]
                        by_loss: dict[str, Delta] = {}
                        for loss in results.losses:
                            model = results.model(loss, trained_on)
                            other = by_model.get((model.name, entry.key)) if model else None
                            value = other.metrics.get(spec.key) if other else None
                            test = tests.get((model.name, entry.key, spec.key)) if model else None
                            by_loss[loss] = Delta(value, _delta(value, base), test.p_value if test else None)
                        rows.append(
                            ComparisonRow(
                                dataset=dataset,
                                lang=lang,
                                trained_on=trained_on,
                                direction=direction_label(entry),
                                kind=scenario_kind(entry, lang),
                                scenario=entry.scenario,
                                metric=spec.key,
                                base=base,
                                by_loss=by_loss,
                            )
                        )
    return rows


@dataclass(frozen=True)
class Retention:
    """English (en→en ``ENGLISH_METRIC``) of one fine-tuned model against the base model, on one dataset."""

    dataset: str
    model: str
    loss: str
    train_lang: str
    base: float
    value: float

    @property
    def delta(self) -> float:
        return self.value - self.base

    @property
    def relative(self) -> float:
        return self.delta / self.base if self.base else 0.0

    @property
    def quality(self) -> str:
        """``better``, ``worse`` or ``same``: a change within ``ENGLISH_KEPT`` counts as kept."""
        if self.delta < -ENGLISH_KEPT:
            return "worse"
        return "better" if self.delta > ENGLISH_KEPT else "same"

    @property
    def verdict(self) -> str:
        return {"worse": "English got worse", "better": "English got better", "same": "English kept"}[
            self.quality
        ]

    def sentence(self) -> str:
        trained = f" trained on {self.train_lang}" if self.train_lang else ""
        spec = metric(ENGLISH_METRIC)
        return (
            f"{self.loss}{trained}: English en→en {spec.label} on {self.dataset} "
            f"{spec.format(self.base)} → {spec.format(self.value)} ({spec.format(self.delta, sign=True)}, "
            f"{self.relative:+.1%}): {self.verdict}."
        )


def english_retention(results: RunResults) -> list[Retention]:
    """en→en ``ENGLISH_METRIC`` of every fine-tuned model that was evaluated on it, against the base model."""
    english = {
        (e.model, e.dataset): e.metrics.get(ENGLISH_METRIC)
        for e in classic_entries(results.evaluations)
        if e.query_lang == ENGLISH and e.doc_langs == (ENGLISH,)
    }
    out: list[Retention] = []
    for model in results.models:
        if model.is_base:
            continue
        for (name, dataset), value in english.items():
            base = english.get((results.base.name, dataset))
            if name == model.name and value is not None and base is not None:
                out.append(
                    Retention(dataset, model.name, model.loss or "", model.train_lang or "", base, value)
                )
    return out


@dataclass(frozen=True)
class Headline:
    """One loss in numbers, over its training languages (not zero-shot): the mean ``CROSS_METRIC`` change in
    the cross-lingual directions (L→en, en→L) and how many improved, and the mean ``MIXED_METRIC`` change in
    the mixed pool with L queries (None if not evaluated)."""

    loss: str
    mean_delta: float
    improved: int
    total: int
    max_rank_delta: float | None = None

    def sentence(self) -> str:
        cross, mixed = metric(CROSS_METRIC), metric(MIXED_METRIC)
        text = (
            f"{self.loss}: cross-lingual {cross.label} (L→en and en→L) {cross.format(self.mean_delta, True)} "
            f"on average vs. base, {self.improved} of {self.total} directions better"
        )
        if self.max_rank_delta is not None:
            text += (
                f"; mixed-pool {mixed.label} {mixed.format(self.max_rank_delta, True)} "
                f"({'higher' if mixed.higher_is_better else 'lower'} is better)"
            )
        return text + "."


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def headlines(rows: list[ComparisonRow]) -> list[Headline]:
    """One ``Headline`` per loss with in-language cross-lingual ``CROSS_METRIC`` rows."""
    own = [r for r in rows if not r.zero_shot]
    cross = [r for r in own if r.metric == CROSS_METRIC and r.kind in CROSS_KINDS]
    mixed = [r for r in own if r.metric == MIXED_METRIC and r.kind == "mixed pool, L queries"]
    losses = list(dict.fromkeys(loss for r in cross for loss in r.by_loss))
    out: list[Headline] = []
    for loss in losses:
        deltas = [d for r in cross if (d := r.by_loss[loss].delta) is not None]
        ranks = [d for r in mixed if (d := r.by_loss[loss].delta) is not None]
        if deltas:
            mean = sum(deltas) / len(deltas)
            out.append(Headline(loss, mean, sum(d > 0 for d in deltas), len(deltas), _mean(ranks)))
    return out


def significance_pairs(models: list[ModelEntry]) -> list[tuple[str, str]]:
    """Which ``(model, reference)`` pairs a run tests: every model against the base model; and when the base
    model has a SHIFT variant, for each fine-tuned model M with one: M vs. base+SHIFT, M+SHIFT vs.
    base+SHIFT and M+SHIFT vs. M (fine-tune, SHIFT, or both)."""
    base = next(m for m in models if m.is_base)
    names = {m.name for m in models}
    pairs = [(m.name, base.name) for m in models if not m.is_base]
    base_shift = base.name + SHIFT_SUFFIX
    if base_shift not in names:
        return pairs
    for model in models:
        both = model.name + SHIFT_SUFFIX
        if model.train_lang is not None and both in names:
            pairs += [(model.name, base_shift), (both, base_shift), (both, model.name)]
    return pairs


# The rows of a "fine-tune, SHIFT, or both" table: (kind of scenario, metric); en→en is its own kind here.
SHIFT_MEASURES: tuple[tuple[str, str], ...] = (
    ("mixed pool, L queries", "complete_at_10"),
    ("mixed pool, L queries", "max_rank_mean"),
    ("mixed pool, L queries", "ndcg_at_10"),
    ("mixed pool, en queries", "complete_at_10"),
    ("mixed pool, en queries", "max_rank_mean"),
    ("mixed pool, en queries", "ndcg_at_10"),
    ("L→en", "ndcg_at_10"),
    ("en→L", "ndcg_at_10"),
    ("L→L", "ndcg_at_10"),
    ("en→en", "ndcg_at_10"),
)
# The columns and the compared pairs, by role: the base model, base + SHIFT, the fine-tuned model (FT),
# FT + SHIFT.
SHIFT_ROLES = ("base", "base+SHIFT", "FT", "FT+SHIFT")
SHIFT_DIFFS = (("FT", "base+SHIFT"), ("FT+SHIFT", "base+SHIFT"), ("FT+SHIFT", "FT"))


@dataclass(frozen=True)
class ShiftRow:
    """One measure: ``values`` by role (``SHIFT_ROLES``), ``diffs`` in ``SHIFT_DIFFS`` order: the run's test
    of the pair with its p-value Holm-adjusted over the table's tests, None where not tested."""

    direction: str
    kind: str
    metric: str
    values: dict[str, float | None]
    diffs: tuple[HolmTest | None, ...]


@dataclass(frozen=True)
class ShiftTable:
    """Fine-tuned model ``model`` (``loss`` trained on ``lang``), its SHIFT variant, the base model and base +
    SHIFT on ``dataset``: the measures of ``SHIFT_MEASURES`` that were evaluated."""

    dataset: str
    lang: str
    loss: str
    models: dict[str, str]
    rows: tuple[ShiftRow, ...]

    def sentence(self) -> str:
        """The table's first row (Complete@10, L queries, mixed pool, when evaluated) in one line."""
        row = self.rows[0]
        spec = metric(row.metric)

        def number(value: float | None) -> str:
            return "—" if value is None else spec.format(value)

        values = ", ".join(f"{role} {number(row.values[role])}" for role in SHIFT_ROLES)
        diffs = ", ".join(
            f"{a} − {b} "
            + ("—" if d is None else spec.format(d.diff, sign=True) + ("*" if d.significant else ""))
            for (a, b), d in zip(SHIFT_DIFFS, row.diffs, strict=True)
        )
        return (
            f"Fine-tune, SHIFT, or both: FT = {self.models['FT']} ({self.loss}), {self.dataset} "
            f"{row.direction} {spec.label}: {values}; {diffs}."
        )


def _shift_kind(entry: EvalEntry, lang: str) -> str | None:
    """The ``SHIFT_MEASURES`` kind of an evaluation for language ``lang``, or None (other languages, the
    multilingual pool)."""
    if entry.query_lang == ENGLISH and entry.doc_langs == (ENGLISH,):
        return "en→en"
    if scenario_lang(entry) != lang or _multilingual(entry):
        return None
    return scenario_kind(entry, lang)


def shift_tables(results: RunResults) -> list[ShiftTable]:
    """One table per (dataset, fine-tuned model with a SHIFT variant) when base + SHIFT was evaluated: the
    four models' values and the run's tests of the pairs of ``SHIFT_DIFFS``, Holm-adjusted within the table
    (the tested differences are those of the reported means: each metric is the mean of its per-query
    values)."""
    base = results.base
    base_shift = results.shifted(base)
    if base_shift is None:
        return []
    metrics = {(e.model, e.key): e.metrics for e in results.evaluations}
    tests = {(s.model, s.reference, s.key, s.metric): s for s in results.significance}
    tables: list[ShiftTable] = []
    for model in results.models:
        both = results.shifted(model)
        if model.train_lang is None or both is None:
            continue
        lang = model.train_lang
        names = dict(zip(SHIFT_ROLES, (base.name, base_shift.name, model.name, both.name), strict=True))
        base_entries = [e for e in classic_entries(results.evaluations) if e.model == base.name]
        for dataset in dict.fromkeys(e.dataset for e in base_entries):
            found = [
                (entry, kind, key)
                for kind, key in SHIFT_MEASURES
                for entry in base_entries
                if entry.dataset == dataset and _shift_kind(entry, lang) == kind and key in entry.metrics
            ]
            found_tests = [
                tests.get((names[a], names[b], entry.key, key))
                for entry, _, key in found
                for a, b in SHIFT_DIFFS
            ]
            adjusted = iter(holm([t.p_value for t in found_tests if t is not None]))
            cells = [
                None if t is None else HolmTest(**t.record(), p_holm=next(adjusted)) for t in found_tests
            ]
            rows = []
            for i, (entry, kind, metric_key) in enumerate(found):
                values = {
                    role: metrics.get((name, entry.key), {}).get(metric_key) for role, name in names.items()
                }
                diffs = tuple(cells[len(SHIFT_DIFFS) * i : len(SHIFT_DIFFS) * (i + 1)])
                rows.append(ShiftRow(direction_label(entry), kind, metric_key, values, diffs))
            if rows:
                tables.append(ShiftTable(dataset, lang, model.loss or "", names, tuple(rows)))
    return tables
