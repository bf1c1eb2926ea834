"""``bench.study``'s claim tables from an analysis with known outcomes (synthetic per-query values)."""

from __future__ import annotations

import numpy as np

from bench.study import claims_markdown
from clearir.experiment.analysis import analyse
from clearir.experiment.grid import load_plan, plan_from_doc
from clearir.experiment.store import Values, targets_of

PINNED = ["attention_kernel=sdpa"]  # as the study's grid: the fast kernel is a variant of its own


def _values(langs: tuple[str, ...], seed: int, add: dict[tuple[str, str], float]) -> Values:
    rng = np.random.default_rng(seed)
    base = np.random.default_rng(0)
    out: Values = {}
    for target in targets_of("xquad", langs):
        column = (
            base.integers(1, 60, 200) if target.metric == "max_rank_mean" else base.uniform(0.2, 0.8, 200)
        )
        noise = rng.normal(0, 0.01, 200) if seed else np.zeros(200)
        shift = add.get((target.kind, target.metric), 0.0)
        out[target] = {
            f"q{i}": float(v + e + shift) for i, (v, e) in enumerate(zip(column, noise, strict=True))
        }
    return out


def test_claim_tables_say_what_the_values_hold() -> None:
    plan = load_plan(
        vary=["langs=de", "loss=infonce,clear", "seed=1,2"], set_=[*PINNED, "holm_by_language=true"]
    )
    l_en, pool = ("L→en", "ndcg_at_10"), ("mixed pool, L queries", "complete_at_10")
    gains = {"infonce": {l_en: 0.05}, "clear": {l_en: 0.10}}
    runs = {r.id: _values(("de",), r.settings.seed, gains[r.settings.loss]) for r in plan.runs}
    shifted = {
        r.id: _values(("de",), r.settings.seed, {**gains[r.settings.loss], pool: 0.15}) for r in plan.runs
    }
    analysis = analyse(plan, runs, _values(("de",), 0, {}), 10000, shifted, _values(("de",), 0, {pool: 0.1}))
    text = claims_markdown(plan, analysis, "4 of 4 runs finished")
    lines = text.splitlines()
    # CLEAR (the recipe) beats InfoNCE by 0.05 on de→en, a real difference.
    row = next(line for line in lines if line.startswith("| de | recipe − InfoNCE"))
    assert row.split(" | ")[2].startswith("+0.050*")
    # SHIFT alone beats fine-tuning alone on the pool; both beat SHIFT alone by 0.05.
    pool_row = next(line for line in lines if line.startswith("| de | pool, L queries Complete@10"))
    cells = pool_row.split(" | ")
    assert (
        cells[4].startswith("-0.100*") and cells[5].startswith("+0.050*") and cells[7].startswith("+0.050*")
    )
    assert "Not run yet: the grid's multilingual models" in text and "Not run yet: JSD" in text


def test_multilingual_table_compares_with_each_language_and_zero_shot() -> None:
    plan = load_plan(
        vary=["langs=de,ar,de+ar", "loss=infonce", "seed=1"],
        set_=[*PINNED, "eval_langs=es", "eval_scope=own"],
    )
    langs = ("de", "ar", "es")
    runs = {r.id: _values(langs, 1, {("L→en", "ndcg_at_10"): 0.05 * len(r.langs)}) for r in plan.runs}
    analysis = analyse(plan, runs, _values(langs, 0, {}), 2000)
    text = claims_markdown(plan, analysis, "3 of 3 runs finished")
    rows = [line for line in text.splitlines() if line.startswith(("| de | InfoNCE", "| ar | InfoNCE"))]
    assert len(rows) == 2 and all(row.split(" | ")[2].startswith("+0.050*") for row in rows)
    zero = next(line for line in text.splitlines() if line.startswith("| es | InfoNCE"))
    cell = zero.split(" | ")[2]  # +0.100 plus the seed's noise (sd 0.01 per query, 200 queries)
    assert "*" in cell and abs(float(cell.split("*")[0]) - 0.1) < 0.005


def test_multilingual_models_are_compared_with_each_other() -> None:
    """CLEAR > InfoNCE in multilingual training: the two multilingual models, language by language."""
    plan = load_plan(vary=["langs=de+ar", "loss=infonce,clear", "seed=1"], set_=[*PINNED, "eval_scope=own"])
    langs, l_en = ("de", "ar"), ("L→en", "ndcg_at_10")
    gains = {"infonce": 0.02, "clear": 0.06}
    runs = {r.id: _values(langs, 1, {l_en: gains[r.settings.loss]}) for r in plan.runs}
    text = claims_markdown(plan, analyse(plan, runs, _values(langs, 0, {}), 2000), "2 of 2 runs finished")
    rows = [line for line in text.splitlines() if "| recipe − InfoNCE |" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| de", "| ar"]
    assert all(row.split(" | ")[2].startswith("+0.040*") for row in rows)


def test_weakest_table_has_each_clear_form_against_infonce() -> None:
    """The weakest-languages table gets a column per CLEAR form run (here the paper's reverse term at the
    recipe's scale) against InfoNCE, and the recipe against the paper's form."""
    doc = {
        "shared": {"holm_by_language": True},
        "fixed": {"attention_kernel": "sdpa"},
        "grid": [
            {"langs": ["de"], "loss": ["infonce", "clear"], "seed": [1]},
            {"langs": ["de"], "loss": ["clear"], "bidirectional_reverse": [False], "seed": [1]},
        ],
    }
    plan = plan_from_doc(doc, "test")
    l_en = ("L→en", "ndcg_at_10")
    gain = {(r.settings.loss, r.settings.bidirectional_reverse): 0.0 for r in plan.runs}
    gain |= {("infonce", True): 0.02, ("clear", True): 0.03, ("clear", False): 0.06}
    runs = {
        r.id: _values(("de",), 1, {l_en: gain[(r.settings.loss, r.settings.bidirectional_reverse)]})
        for r in plan.runs
    }
    text = claims_markdown(plan, analyse(plan, runs, _values(("de",), 0, {}), 2000), "3 of 3 runs finished")
    lines = text.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("| lang (weakest first)"))
    columns, row = lines[at].strip("| ").split(" | "), lines[at + 2]
    paper = "CLEAR (paper form), scale 100"
    assert columns[4:7] == ["recipe − InfoNCE", f"{paper} − InfoNCE", f"recipe − {paper}"]
    cells = row.strip("| ").split(" | ")
    assert cells[4].startswith("+0.010") and cells[5].startswith("+0.040*") and cells[6].startswith("-0.030*")
    # The CLEAR > InfoNCE table has the same comparisons, row by row.
    assert any(line.startswith(f"| de | recipe − {paper} | -0.030*") for line in lines)


def test_scale_table_compares_each_loss_with_itself_at_scale_100() -> None:
    plan = load_plan(vary=["langs=de", "loss=infonce", "scale=20,100", "seed=1"], set_=PINNED)
    l_en = ("L→en", "ndcg_at_10")
    runs = {r.id: _values(("de",), 1, {l_en: 0.05 if r.settings.scale == 100 else 0.02}) for r in plan.runs}
    text = claims_markdown(plan, analyse(plan, runs, _values(("de",), 0, {}), 2000), "2 of 2 runs finished")
    row = next(line for line in text.splitlines() if line.startswith("| de | InfoNCE, scale 20 − InfoNCE |"))
    assert row.split(" | ")[2].startswith("-0.030*")


def test_faster_table_compares_each_faster_variant_with_the_recipe() -> None:
    """The recipe without attention dropout and in the fast attention kernel, each against the recipe (in
    PyTorch's kernel, with attention dropout) in its own family of tests."""
    doc = {
        "shared": {"holm_by_language": True},
        "fixed": {"attention_kernel": "sdpa", "langs": "de", "loss": "clear", "seed": 1},
        "grid": [{"seed": [1]}, {"attention_dropout": [False]}, {"attention_kernel": ["fast"]}],
    }
    plan = plan_from_doc(doc, "test")
    pool = ("mixed pool, en queries", "complete_at_10")
    gain = {(True, "sdpa"): 0.0, (False, "sdpa"): -0.03, (True, "fast"): 0.0}
    runs = {
        r.id: _values(("de",), 1, {pool: gain[(r.settings.attention_dropout, r.settings.attention_kernel)]})
        for r in plan.runs
    }
    text = claims_markdown(plan, analyse(plan, runs, _values(("de",), 0, {}), 2000), "3 of 3 runs finished")
    rows = {line.split(" | ")[1]: line.split(" | ") for line in text.splitlines() if "− recipe |" in line}
    assert set(rows) == {"recipe, no attention dropout − recipe", "recipe, fast attention kernel − recipe"}
    assert rows["recipe, no attention dropout − recipe"][5].startswith("-0.030*")
    assert rows["recipe, fast attention kernel − recipe"][5].startswith("+0.000 ")
