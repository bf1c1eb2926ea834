"""Issue 18's answer tables, one per claim, from the study's committed evidence (``evidence/study``).

The grid ``bench/ablation/grid_study.toml`` is run (in shards, over sessions) with ``clearir ablate``; this
reads its finished runs through the engine's analysis (paired tests over queries with seeds averaged query
by query, Holm-corrected per training language within each family of comparisons) and writes one markdown
table per claim to ``evidence/study/claims.md``; ``--readme`` also puts them into README.md between the
``study:begin``/``study:end`` markers. A claim whose runs are not finished yet says so.

    python -m bench.study            # the tables, from the finished runs (offline, seconds)
    python -m bench.study --readme   # and into the README
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path

from clearir.experiment.analysis import (
    BASE,
    BASE_SHIFT,
    BOTH_VS_SHIFT,
    TUNING_VS_SHIFT,
    VS_BASE,
    Analysis,
    Config,
    ConfigTest,
)
from clearir.experiment.grid import Plan, load_plan
from clearir.experiment.report import build_analysis
from clearir.experiment.store import Target
from clearir.files import write_text
from clearir.metrics.registry import ENGLISH_KEPT, metric

HERE = Path(__file__).resolve().parent
GRID = HERE / "ablation" / "grid_study.toml"
README = HERE.parent / "README.md"
BEGIN, END = "<!-- study:begin -->", "<!-- study:end -->"
DATASET = "xquad"
# The study's methods, by the settings that make them.
NO_ATTENTION_DROPOUT = "recipe, no attention dropout"
FAST_KERNEL = "recipe, fast attention kernel"
# The recipe's faster variants (issue 13), by the setting that makes each: every other method trains with
# the model's attention dropout in PyTorch's attention kernel.
VARIANTS: dict[str, Callable[..., bool]] = {
    NO_ATTENTION_DROPOUT: lambda s: not s.attention_dropout,
    FAST_KERNEL: lambda s: s.attention_kernel == "fast",
}
METHODS: dict[str, Callable[..., bool]] = {
    "InfoNCE": lambda s: s.loss == "infonce" and s.scale == 100,
    "recipe": lambda s: s.loss == "clear" and s.bidirectional_reverse and s.scale == 100,
    NO_ATTENTION_DROPOUT: lambda s: METHODS["recipe"](s) and VARIANTS[NO_ATTENTION_DROPOUT](s),
    FAST_KERNEL: lambda s: METHODS["recipe"](s) and VARIANTS[FAST_KERNEL](s),
    "CLEAR (paper form), scale 100": lambda s: (
        s.loss == "clear" and not s.bidirectional_reverse and s.scale == 100
    ),
    "CLEAR (paper form), scale 20": lambda s: (
        s.loss == "clear" and not s.bidirectional_reverse and s.scale == 20
    ),
    "InfoNCE, scale 20": lambda s: s.loss == "infonce" and s.scale == 20,
    "JSD + InfoNCE": lambda s: s.loss == "jsd",
}
# CLEAR > InfoNCE?: each CLEAR form against the InfoNCE at its scale (the ``loss`` family of tests), and the
# recipe's reverse term against the paper's (the ``bidirectional_reverse`` family).
VERSUS = (
    ("recipe", "InfoNCE", "loss"),
    ("CLEAR (paper form), scale 100", "InfoNCE", "loss"),
    ("CLEAR (paper form), scale 20", "InfoNCE, scale 20", "loss"),
    ("recipe", "CLEAR (paper form), scale 100", "bidirectional_reverse"),
)
# The paper's scale or the recipe's?: each loss at scale 20 against itself at 100 (the ``scale`` family).
SCALES = (
    ("InfoNCE, scale 20", "InfoNCE", "scale"),
    ("CLEAR (paper form), scale 20", "CLEAR (paper form), scale 100", "scale"),
)
# The faster variants as good as the recipe?: the ``attention_dropout`` and ``attention_kernel`` families.
FASTER = (
    (NO_ATTENTION_DROPOUT, "recipe", "attention_dropout"),
    (FAST_KERNEL, "recipe", "attention_kernel"),
)
CROSS = (
    ("L→en", "ndcg_at_10"),
    ("en→L", "ndcg_at_10"),
    ("mixed pool, L queries", "complete_at_10"),
    ("mixed pool, en queries", "complete_at_10"),
)
POOL = (
    ("mixed pool, L queries", "complete_at_10"),
    ("mixed pool, L queries", "max_rank_mean"),
    ("mixed pool, L queries", "ndcg_at_1"),
    ("mixed pool, en queries", "complete_at_10"),
    ("L→en", "ndcg_at_10"),
)


def method(config: Config) -> str | None:
    """The study's name of ``config``'s method (None for anything else), ``+ SHIFT`` for a twin."""
    s = config.settings
    variants = [n for n, is_variant in VARIANTS.items() if is_variant(s)]
    names = variants or [n for n in METHODS if n not in VARIANTS]
    name = next((n for n in names if METHODS[n](s)), None)
    return None if name is None else name + (" + SHIFT" if config.shift else "")


def _index(analysis: Analysis) -> dict[tuple[str, str], Config]:
    """Each per-language configuration by (language, method); multilingual ones by ("multi", method)."""
    out = {}
    for config in analysis.configs:
        if (name := method(config)) is not None:
            out[("multi" if len(config.langs) > 1 else config.langs[0], name)] = config
    return out


def _target(lang: str, kind: str, key: str) -> Target:
    return Target(DATASET, "en" if kind == "en→en" else lang, kind, key)


def _find(analysis: Analysis, family: str, variant: str, reference: str, target: Target) -> ConfigTest | None:
    return next(
        (
            t
            for t in analysis.tests
            if (t.family, t.variant, t.reference, t.target) == (family, variant, reference, target)
        ),
        None,
    )


def _cell(test: ConfigTest | None) -> str:
    """``+0.012 [+0.004, +0.020] p 0.003*``: Δ, 95% CI, Holm-corrected p; * when real."""
    if test is None:
        return "—"
    spec = metric(test.target.metric)
    star = "*" if test.real else ""
    return (
        f"{spec.format(test.diff, True)}{star} [{spec.format(test.ci_low, True)}, "
        f"{spec.format(test.ci_high, True)}] p {test.p:.3f}"
    )


def _column(kind: str, key: str) -> str:
    return f"{kind.replace('mixed pool, ', 'pool, ')} {metric(key).label}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A Markdown table, or "Not run yet." without rows."""
    if not rows:
        return ["Not run yet."]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _langs(plan: Plan) -> list[str]:
    return [lang for lang in plan.train_langs if "+" not in lang]


def _versus_row(
    analysis: Analysis, a: Config, b: Config, lang: str, family: str, targets: Sequence[tuple[str, str]]
) -> list[str] | None:
    """``a`` − ``b`` (tests of ``family``) on ``lang``'s ``targets``; None if not compared there."""
    tests = [_find(analysis, family, a.id, b.id, _target(lang, *t)) for t in targets]
    label = f"{method(a)} − {method(b)}"
    return [lang, label, *map(_cell, tests)] if any(tests) else None


def _versus_table(rows: Sequence[list[str] | None], targets: Sequence[tuple[str, str]] = CROSS) -> list[str]:
    return _table(["lang", "comparison", *(_column(*t) for t in targets)], [r for r in rows if r])


def _versus_rows(
    plan: Plan,
    analysis: Analysis,
    pairs: Sequence[tuple[str, str, str]],
    targets: Sequence[tuple[str, str]] = CROSS,
) -> list[str]:
    """A table of each (variant, reference, family) of ``pairs`` compared in each training language."""
    index, rows = _index(analysis), []
    for lang in _langs(plan):
        for variant, reference, family in pairs:
            a, b = index.get((lang, variant)), index.get((lang, reference))
            if a and b:
                rows.append(_versus_row(analysis, a, b, lang, family, targets))
    return _versus_table(rows, targets) if any(rows) else ["Not run yet."]


def clear_vs_infonce(plan: Plan, analysis: Analysis) -> list[str]:
    return _versus_rows(plan, analysis, VERSUS)


def scale(plan: Plan, analysis: Analysis) -> list[str]:
    return _versus_rows(plan, analysis, SCALES)


def faster(plan: Plan, analysis: Analysis) -> list[str]:
    return _versus_rows(plan, analysis, FASTER, (*CROSS, ("en→en", "ndcg_at_10")))


def weakest(plan: Plan, analysis: Analysis) -> list[str]:
    """Gains against the base model per language, weakest language (base L→en nDCG@10) first, each CLEAR
    form's edge over InfoNCE there, and the rank correlation of weakness and gain."""
    index, rows, gains = _index(analysis), [], []
    l_en = ("L→en", "ndcg_at_10")
    order = sorted(_langs(plan), key=lambda lang: analysis.base.get(_target(lang, *l_en), 0))
    versus = [v for v in VERSUS if any((lang, v[0]) in index and (lang, v[1]) in index for lang in order)]
    for lang in order:
        recipe, infonce = index.get((lang, "recipe")), index.get((lang, "InfoNCE"))
        if not recipe or not infonce:
            continue
        target = _target(lang, *l_en)
        mine = _find(analysis, VS_BASE, recipe.id, BASE, target)
        other = _find(analysis, VS_BASE, infonce.id, BASE, target)
        edges = [
            _find(analysis, family, index[(lang, a)].id, index[(lang, b)].id, target)
            if (lang, a) in index and (lang, b) in index
            else None
            for a, b, family in versus
        ]
        pool = _find(
            analysis, VS_BASE, recipe.id, BASE, _target(lang, "mixed pool, L queries", "complete_at_10")
        )
        base = metric("ndcg_at_10").format(analysis.base[target])
        rows.append([lang, base, _cell(mine), _cell(other), *map(_cell, edges), _cell(pool)])
        if mine and other:
            gains.append((analysis.base[target], mine.diff, mine.diff - other.diff))
    header = [
        "lang (weakest first)",
        "base L→en nDCG@10",
        "recipe − base",
        "InfoNCE − base",
        *(f"{a} − {b}" for a, b, _ in versus),
    ]
    lines = _table([*header, "recipe − base, pool C@10"], rows)
    if len(gains) >= 3:
        base, gain, edge = zip(*gains, strict=True)
        lines += [
            "",
            f"Spearman ρ over {len(gains)} languages, base L→en nDCG@10 vs. the recipe's gain on it: "
            f"{_spearman(base, gain):+.2f}; vs. its edge over InfoNCE: {_spearman(base, edge):+.2f} "
            "(negative: larger for weaker languages).",
        ]
    return lines


def _spearman(x: Sequence[float], y: Sequence[float]) -> float:
    rank = lambda v: [sorted(v).index(e) for e in v]  # noqa: E731 (no ties among these means)
    return statistics.correlation(rank(x), rank(y))


def english(plan: Plan, analysis: Analysis) -> list[str]:
    index, rows = _index(analysis), []
    names = [n for n in METHODS if any((lang, n) in index for lang in _langs(plan))]
    for lang in _langs(plan):
        cells = []
        for name in names:
            config = index.get((lang, name))
            test = config and analysis.english(config)
            kept = (
                ""
                if not test
                else " kept"
                if test.english_kept
                else " **lost**"
                if test.diff < 0
                else " gained"
            )
            cells.append(_cell(test) + kept if test else "—")
        rows.append([lang, *cells])
    lines = _table(["lang", *names], rows) if names else ["Not run yet."]
    return [*lines, "", f"en→en nDCG@10 against the base model; kept: within ±{ENGLISH_KEPT}."]


def shift_or_both(plan: Plan, analysis: Analysis) -> list[str]:
    index, rows = _index(analysis), []
    for lang in _langs(plan):
        for kind, key in POOL:
            target, spec = _target(lang, kind, key), metric(key)
            if target not in analysis.base:
                continue
            row = [lang, _column(kind, key), spec.format(analysis.base[target])]
            row.append(spec.format(analysis.base_shift[target]) if target in analysis.base_shift else "—")
            for name in ("InfoNCE", "recipe"):
                plain, twin = index.get((lang, name)), index.get((lang, name + " + SHIFT"))
                row.append(_cell(plain and _find(analysis, TUNING_VS_SHIFT, plain.id, BASE_SHIFT, target)))
                row.append(_cell(twin and _find(analysis, BOTH_VS_SHIFT, twin.id, BASE_SHIFT, target)))
            rows.append(row)
    header = [
        "lang",
        "measure",
        "base",
        "base + SHIFT",
        "InfoNCE − SHIFT",
        "InfoNCE + SHIFT − SHIFT",
        "recipe − SHIFT",
        "recipe + SHIFT − SHIFT",
    ]
    return _table(header, rows)


def multilingual(plan: Plan, analysis: Analysis) -> list[str]:
    """Each multilingual model against the per-language model of the same loss (same budget per language),
    then against the base model on the zero-shot languages."""
    index, rows, zero, versus = _index(analysis), [], [], []
    for variant, reference, family in (*VERSUS, ("JSD + InfoNCE", "InfoNCE", "loss")):
        a, b = index.get(("multi", variant)), index.get(("multi", reference))
        if a and b:
            versus += [_versus_row(analysis, a, b, lang, family, CROSS) for lang in a.evaluated]
    for name in METHODS:
        multi = index.get(("multi", name))
        if multi is None:
            continue
        for lang in multi.langs:
            single = index.get((lang, name))
            if single:
                tests = [_find(analysis, "langs", multi.id, single.id, _target(lang, *t)) for t in CROSS[:3]]
                rows.append([lang, name, *map(_cell, tests)])
        for lang in multi.zero_shot:
            tests = [_find(analysis, VS_BASE, multi.id, BASE, _target(lang, *t)) for t in CROSS[:3]]
            zero.append([lang, name, *map(_cell, tests)])
    if not rows and not zero and not any(versus):
        return ["Not run yet: the grid's multilingual models (one per loss, all six languages mixed)."]
    columns = [_column(*t) for t in CROSS[:3]]
    return [
        "Multilingual models against each other (CLEAR or JSD > InfoNCE in multilingual training?):",
        "",
        *_versus_table(versus),
        "",
        "Multilingual − per-language model (same loss, same budget per language):",
        "",
        *_table(["lang", "loss", *columns], rows),
        "",
        "Multilingual model − base model, zero-shot languages (no SHIFT: no parallel data for them):",
        "",
        *_table(["lang", "loss", *columns], zero),
    ]


def paper_b(plan: Plan, analysis: Analysis) -> list[str]:
    index, rows = _index(analysis), []
    for lang in _langs(plan):
        jsd, infonce = index.get((lang, "JSD + InfoNCE")), index.get((lang, "InfoNCE"))
        if not jsd:
            continue
        for kind, key in POOL[:3]:
            target = _target(lang, kind, key)
            vs_base = _find(analysis, VS_BASE, jsd.id, BASE, target)
            relative = (
                f"{vs_base.diff / analysis.base[target]:+.0%}" if vs_base and analysis.base[target] else "—"
            )
            vs_infonce = infonce and _find(analysis, "loss", jsd.id, infonce.id, target)
            rows.append([lang, _column(kind, key), _cell(vs_base), relative, _cell(vs_infonce)])
    if not rows:
        return ["Not run yet: JSD + InfoNCE (after its λ/direction sweep on one language)."]
    return _table(["lang", "measure", "JSD − base", "relative", "JSD − InfoNCE"], rows)


CLAIMS: tuple[tuple[str, Callable[[Plan, Analysis], list[str]]], ...] = (
    ("CLEAR > InfoNCE?", clear_vs_infonce),
    ("The paper's scale 20 or the recipe's 100?", scale),
    ("Largest gains for the weakest languages?", weakest),
    ("English kept?", english),
    ("A faster step (no attention dropout, or the fast attention kernel), as good as the recipe?", faster),
    ("Fine-tune, SHIFT, or both?", shift_or_both),
    ("Works in multilingual training?", multilingual),
    ("Paper B: Max@R −95%, Complete@10 and nDCG@1 +10–20%?", paper_b),
)


def claims_markdown(plan: Plan, analysis: Analysis, status: str) -> str:
    lines = [
        f"Evidence: `{plan.shared.out}` ({status}). Cells: Δ [95% bootstrap CI] and the "
        "Holm-corrected p of a paired randomization test over all XQuAD questions (seeds averaged query by "
        "query), corrected per training language within each family; * = real (corrected p < 0.05 and the "
        "CI excludes 0).",
    ]
    for title, table in CLAIMS:
        lines += ["", f"**{title}**", "", *table(plan, analysis)]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", action="store_true", help="also put the tables into README.md")
    args = parser.parse_args()
    plan = load_plan(GRID)
    finished, analysis = build_analysis(plan)
    status = f"{len(finished.runs)} of {len(plan.runs)} runs finished"
    text = claims_markdown(plan, analysis, status)
    write_text(plan.out / "claims.md", text)
    if args.readme:
        readme = README.read_text(encoding="utf-8")
        if BEGIN not in readme or END not in readme:
            raise SystemExit(f"{README}: no {BEGIN} ... {END} markers")
        head, rest = readme.split(BEGIN, 1)
        write_text(README, head + BEGIN + "\n" + text + END + rest.split(END, 1)[1])
    print(text)


if __name__ == "__main__":
    main()
