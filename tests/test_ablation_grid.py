"""``clearir ablate``'s grid: TOML and flags, expansion to ordered runs with stable ids, irrelevant settings
merged, shards covering every run once, and bad grid files as errors that name the key."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from clearir.cli.main import main
from clearir.errors import ClearirError
from clearir.experiment.grid import load_plan, parse_shard
from clearir.experiment.settings import DEFAULT_RUN, RunSettings
from clearir.rows.settings import RowsSettings
from clearir.training.config import TrainConfig

REPO = Path(__file__).resolve().parents[1]

GRID = """
description = "test grid"

[shared]
eval_max_queries = 50
eval_langs = ["es"]

[fixed]
steps = 3
window = "20:60"

[grid]
langs = ["de", "ar", "de+ar"]
loss = ["infonce", "clear"]
kl = [true, false]
seed = [1, 2]
"""


def _write(tmp_path: Path, text: str, name: str = "g.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_toml_grid_expands_in_order_and_merges_irrelevant_settings(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GRID), out=str(tmp_path / "out"))
    # InfoNCE ignores kl: 3 losses-with-kl settings (not 4) x 3 languages x 2 seeds.
    assert len(plan.runs) == 18
    assert plan.description == "test grid"
    assert plan.out == tmp_path / "out"
    assert plan.shared.eval_max_queries == 50 and plan.shared.eval_langs == ("es",)
    assert plan.eval_langs == ("de", "ar", "es")
    assert plan.varying == ("langs", "loss", "kl", "seed")
    labels = [plan.label(run.settings) for run in plan.runs[:6]]
    assert labels == [
        "de · infonce · seed=1",
        "de · infonce · seed=2",
        "de · clear · kl=on · seed=1",
        "de · clear · kl=on · seed=2",
        "de · clear · kl=off · seed=1",
        "de · clear · kl=off · seed=2",
    ]
    first = plan.runs[0].settings
    assert (first.steps, first.window, first.langs) == (3, (20, 60), "de")
    assert plan.runs[-1].langs == ("de", "ar")
    # Everything else is the settings model's default: clearir train's and the rows'.
    train, rows = TrainConfig(data="rows", out="out"), RowsSettings()
    assert (first.lr, first.batch_size, first.max_rows, first.num_negatives) == (
        train.lr,
        train.batch_size,
        rows.max_rows,
        train.num_negatives,
    )
    # Ids are unique, stable across parses, and shared by the seeds of a configuration only.
    ids = [run.id for run in plan.runs]
    assert len(set(ids)) == len(ids)
    assert ids == [run.id for run in load_plan(_write(tmp_path, GRID, "again.toml")).runs]
    assert len({run.config_id for run in plan.runs}) == 9
    assert plan.runs[0].config_id == plan.runs[1].config_id != plan.runs[2].config_id


def test_ids_depend_on_relevant_settings_only() -> None:
    clear = RunSettings(langs="de", loss="clear")
    assert load_plan(vary=["langs=de", "loss=clear"]).runs[0].settings == clear
    infonce_a = load_plan(set_=["langs=de", "loss=infonce", "alpha=0.1", "kl=false"]).runs[0]
    infonce_b = load_plan(set_=["langs=de", "loss=infonce"]).runs[0]
    assert infonce_a.id == infonce_b.id and infonce_a.settings.alpha == DEFAULT_RUN.alpha
    # Without KL, beta is irrelevant; with it, it is not.
    off = [load_plan(set_=["langs=de", "kl=false", f"beta={b}"]).runs[0].id for b in (0.1, 0.3)]
    on = [load_plan(set_=["langs=de", f"beta={b}"]).runs[0].id for b in (0.1, 0.3)]
    assert off[0] == off[1] and on[0] != on[1]
    assert load_plan(set_=["langs=de", "lr=1e-4"]).runs[0].id != load_plan(set_=["langs=de"]).runs[0].id


def test_clear_variants_count_only_where_they_matter() -> None:
    paper = ["langs=de", "symmetric_kl=false", "bidirectional_reverse=false"]
    base = load_plan(set_=paper).runs[0]
    sym = load_plan(set_=[*paper, "symmetric_kl=true"]).runs[0]
    both = load_plan(set_=[*paper, "bidirectional_reverse=true"]).runs[0]
    assert len({base.id, sym.id, both.id}) == 3
    assert sym.settings.relevant()["symmetric_kl"] is True
    # Off, a variant is not part of the id: runs recorded before the variants existed keep theirs.
    assert not {"symmetric_kl", "bidirectional_reverse"} & set(base.settings.relevant())
    # Without KL there is no KL to symmetrise; InfoNCE has neither.
    no_kl = [load_plan(set_=["langs=de", "kl=false", f"symmetric_kl={v}"]).runs[0] for v in ("true", "false")]
    assert no_kl[0].id == no_kl[1].id and no_kl[0].settings.symmetric_kl is False
    infonce = [
        load_plan(set_=["langs=de", "loss=infonce", f"bidirectional_reverse={v}"]).runs[0]
        for v in ("true", "false")
    ]
    assert infonce[0].id == infonce[1].id


def test_paper_form_ids_are_stable() -> None:
    """The id of a run is a hash of its settings' values, not of the defaults: changing a default of
    ``clearir run`` must not orphan finished runs."""
    settings = dict(langs="ar", loss="clear", alpha=0.4, beta=0.2, kl=True, scale=20.0, lr=5e-5, seed=42)
    settings |= dict(symmetric_kl=False, bidirectional_reverse=False)
    settings |= dict(steps=8, batch_size=16, freeze_layers=0, num_negatives=3, max_rows=500)
    settings |= dict(mini_batch_size=8, max_seq_length=128, max_query_length=32, warmup_ratio=0.0)
    settings |= dict(attention_kernel="sdpa")  # the kernel those runs had (the default became "fast")
    plan = load_plan(
        set_=[f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in settings.items()]
    )
    # (The one experiment engine added weight_decay and max_grad_norm to a run's settings: a new id.)
    assert plan.runs[0].id == "aefa0751e0fec0ad"


def test_a_setting_added_later_keeps_the_ids_of_runs_made_before_it() -> None:
    """``attention_dropout`` on (what every run had before the setting) is no part of a run's id; off is."""
    before = load_plan(set_=["langs=de", "attention_kernel=sdpa"]).runs[0]
    on = load_plan(set_=["langs=de", "attention_kernel=sdpa", "attention_dropout=true"]).runs[0]
    off = load_plan(set_=["langs=de", "attention_kernel=sdpa", "attention_dropout=false"]).runs[0]
    assert on.id == before.id and "attention_dropout" not in on.settings.relevant()
    assert off.id != on.id and off.settings.relevant()["attention_dropout"] is False
    # So is PyTorch's attention kernel (sdpa); the fast kernel, a new default, makes new runs.
    sdpa = load_plan(set_=["langs=de", "attention_kernel=sdpa"]).runs[0]
    fast = load_plan(set_=["langs=de"]).runs[0]
    assert sdpa.id == before.id and "attention_kernel" not in sdpa.settings.relevant()
    assert fast.settings.relevant()["attention_kernel"] == "fast"


def test_flags_override_and_extend_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, GRID)
    plan = load_plan(
        path, vary=["seed=7", "lr=1e-5,5e-5"], set_=["kl=false", "eval_max_queries=20", "window=5:30"]
    )
    assert plan.shared.eval_max_queries == 20
    assert {run.settings.seed for run in plan.runs} == {7}
    assert {run.settings.lr for run in plan.runs} == {1e-5, 5e-5}
    assert {run.settings.window for run in plan.runs} == {(5, 30)}
    # --set kl=false replaces the kl axis: infonce and clear without KL, per language and lr.
    assert len(plan.runs) == 3 * 2 * 2
    assert "kl" not in plan.varying and "lr" in plan.varying


def test_array_of_grid_tables_is_joined_without_duplicates(tmp_path: Path) -> None:
    text = """
[fixed]
langs = "de"
[[grid]]
loss = ["infonce", "clear"]
[[grid]]
loss = ["clear"]
alpha = [0.2, 0.4]
"""
    plan = load_plan(_write(tmp_path, text))
    # The second table's alpha = 0.4 run is the first table's clear run.
    assert [plan.label(r.settings) for r in plan.runs] == [
        "infonce",
        "clear · alpha=0.4",
        "clear · alpha=0.2",
    ]


def test_grid_table_axis_takes_the_place_of_a_fixed_value(tmp_path: Path) -> None:
    text = """
[fixed]
langs = "de"
scale = 20.0
[[grid]]
loss = ["clear"]
[[grid]]
scale = [100.0]
"""
    plan = load_plan(_write(tmp_path, text))
    assert [run.settings.scale for run in plan.runs] == [20.0, 100.0]


def test_shards_cover_every_run_exactly_once(tmp_path: Path) -> None:
    plan = load_plan(_write(tmp_path, GRID))
    for count in range(1, 6):
        shards = [plan.shard(index, count) for index in range(count)]
        ids = [run.id for shard in shards for run in shard]
        assert sorted(ids) == sorted(run.id for run in plan.runs)
        assert max(map(len, shards)) - min(map(len, shards)) <= 1
    assert parse_shard("1/3") == (1, 3)


@pytest.mark.parametrize("text", ["3/3", "-1/2", "1", "a/b", "0/0"])
def test_bad_shard_is_a_clear_error(text: str) -> None:
    with pytest.raises(ClearirError, match="--shard"):
        parse_shard(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fixed]\nsteps = [", "g.toml: not valid TOML"),
        ("[fixd]\nsteps = 3", "g.toml: unknown top-level key 'fixd'"),
        ("[fixed]\nstep = 3", "g.toml: [fixed]: unknown key 'step'; expected one of langs"),
        ("[fixed]\nlr = 'fast'", "g.toml: [fixed] lr: expected a number, got 'fast'"),
        ("[fixed]\nsteps = 2.5", "g.toml: [fixed] steps: expected an integer"),
        ("[fixed]\nkl = 1", "g.toml: [fixed] kl: expected true or false, got 1"),
        ("[fixed]\nwindow = [9]", "g.toml: [fixed] window [9]: expected LO:HI"),
        ("[fixed]\nwindow = '60:20'", "window 60:20: expected LO:HI"),
        ("[grid]\nseed = 42", "g.toml: [grid] seed: expected a list of values"),
        ("[grid]\nseed = []", "g.toml: [grid] seed: expected at least one value"),
        ("[grid]\nseed = [1, 1]", "g.toml: [grid] seed: values must not repeat"),
        ("[grid]\neval_max_queries = [10]", "unknown key 'eval_max_queries' (shared by every run"),
        ("[shared]\nsteps = 3", "g.toml: [shared]: unknown key 'steps'"),
        ("[shared]\nscenarios = ['bitext']", "g.toml: [shared]: scenarios 'bitext': expected some of"),
        ("[fixed]\nsteps = 3\n[grid]\nsteps = [1, 2]", "'steps' is both in [fixed] and in [grid]"),
        (
            "[grid]\nlangs = ['de', 'en']",
            "run with langs=en: langs 'en': expected target languages such as de",
        ),
        ("[grid]\nlangs = ['de+de']", "langs 'de+de': a language is repeated"),
        ("[grid]\nloss = ['clear', 'bogus']", "run with loss=bogus: --loss 'bogus': expected one of clear"),
        ("[fixed]\nalpha = 0.9", "run with the fixed settings: --alpha 0.9 --beta 0.2: expected"),
        ("[fixed]\nminer = 'tfidf'", "miner 'tfidf': expected one of bm25, dense"),
        ("[fixed]\nwindow = '0:2'", "window 0:2 holds fewer ranks than num_negatives 3"),
    ],
)
def test_bad_grid_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ClearirError) as info:
        load_plan(_write(tmp_path, text))
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vary": ["seed"]}, "--vary 'seed': expected KEY=VALUE"),
        (
            {"vary": ["eval_max_queries=1,2"]},
            "--vary eval_max_queries: not a run setting (shared by every run",
        ),
        ({"set_": ["bogus=1"]}, "--set bogus: unknown setting"),
        ({"vary": ["kl=yes,no"]}, "--vary kl: expected true or false, got 'yes'"),
        ({"grid_file": "missing.toml"}, "--grid missing.toml: no such file"),
    ],
)
def test_bad_flags_are_clear_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ClearirError) as info:
        load_plan(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


@pytest.mark.parametrize("grid", sorted((REPO / "bench" / "ablation").glob("*.toml")), ids=lambda p: p.name)
def test_every_grid_of_the_bench_is_valid(grid: Path) -> None:
    plan = load_plan(grid)
    assert plan.runs and plan.description


def test_small_grid_of_the_bench_is_valid() -> None:
    plan = load_plan(REPO / "bench" / "ablation" / "grid_small.toml")
    assert len(plan.runs) == 12
    assert plan.train_langs == ("de", "ar")
    assert plan.varying == ("langs", "loss", "kl", "seed")


def test_recipe_grids_of_the_bench_are_valid_and_share_their_runs() -> None:
    search = load_plan(REPO / "bench" / "ablation" / "grid_recipe.toml")
    confirm = load_plan(REPO / "bench" / "ablation" / "grid_confirm.toml")
    small = load_plan(REPO / "bench" / "ablation" / "grid_small.toml")
    # One directory, the same evaluation languages: finished runs are reused across the three grids.
    assert search.out == confirm.out
    assert search.eval_langs == confirm.eval_langs == small.eval_langs == ("de", "ar")
    assert len(confirm.runs) == 30
    assert {run.settings.scale for run in confirm.runs} == {100.0}
    shared = {run.id for run in search.runs} & {run.id for run in confirm.runs}
    assert len(shared) == 4  # ar, seed 42, scale 100: InfoNCE, CLEAR and its two variants
    assert {run.id for run in small.runs} >= {run.id for run in search.runs[:2]}


def test_dry_run_lists_runs_with_their_shard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, GRID)
    argv = [
        "clearir",
        "ablate",
        "--grid",
        str(path),
        "--out",
        str(tmp_path / "o"),
        "--dry-run",
        "--shard",
        "1/4",
    ]
    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as info:
        main()
    out = capsys.readouterr().out
    assert info.value.code == 0
    assert "18 runs" in out and "de · clear · kl=off · seed=2" in out and "1/4" in out


def test_cli_bad_grid_is_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, "[fixed]\nstep = 3")
    monkeypatch.setattr(sys, "argv", ["clearir", "ablate", "--grid", str(path)])
    with pytest.raises(SystemExit) as info:
        main()
    err = capsys.readouterr().err
    assert info.value.code == 2
    assert "error:" in err and "unknown key 'step'" in err and "Traceback" not in err


def test_zero_shot_languages_without_parallel_data_are_evaluated_without_shift() -> None:
    """XQuAD's ru has no MLQA-R paragraphs to fit SHIFT vectors from: a zero-shot ru is evaluated plain."""
    plan = load_plan(vary=["langs=de,de+ar"], set_=["eval_langs=ru", "eval_scope=own"])
    single, multi = plan.runs
    assert plan.model_langs(None) == ("de", "ar", "ru") and plan.model_langs(None, shift=True) == ("de", "ar")
    assert plan.model_langs(single) == ("de",) and plan.model_langs(multi) == ("de", "ar", "ru")
    assert plan.model_langs(multi, shift=True) == ("de", "ar")


def test_shift_pairs_are_a_setting_of_the_evaluation_key() -> None:
    """``shift_max_pairs`` reaches the SHIFT evaluations and their keys (a grid pinning the old count keeps
    its finished evaluations); 0 means every pair, a negative count is refused."""
    from clearir.evaluation.settings import DEFAULT_MAX_PAIRS
    from clearir.experiment.settings import shift_settings
    from clearir.experiment.store import eval_key

    default, pinned = load_plan(), load_plan(set_=["shift_max_pairs=400"])
    assert shift_settings(default.shared).max_pairs == DEFAULT_MAX_PAIRS != 400
    assert shift_settings(pinned.shared).max_pairs == 400
    assert shift_settings(load_plan(set_=["shift_max_pairs=0"]).shared).max_pairs is None
    assert eval_key(default, None, "m", shift=True) != eval_key(pinned, None, "m", shift=True)
    assert eval_key(default, None, "m", shift=False) == eval_key(pinned, None, "m", shift=False)
    with pytest.raises(ClearirError, match="shift_max_pairs"):
        load_plan(set_=["shift_max_pairs=-3"])
