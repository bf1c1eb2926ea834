"""Issue 16's measured answer: does a non-English bridge help non-English pairs?

Runs (or reuses) the grid ``bench/ablation/grid_bridge.toml`` — CLEAR trained on ar with English as the bridge
and with German as the bridge, InfoNCE on ar→de pairs (German bridge) as the baseline, 2 seeds each, the same
198 rows — and compares them on XQuAD ar→de, de→ar, ar→en, en→en and the ar ∪ de pool, seeds averaged query by
query, paired randomization tests with Holm over the table. Writes ``bench/out/bridge.json`` and prints the
table as markdown.

    python -m bench.bridge               # run what is missing, then answer
    python -m bench.bridge --report-only # answer from the finished runs
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from clearir.evaluation.results import read_metric_values
from clearir.experiment.grid import load_plan
from clearir.experiment.store import BASE_NAME, load_finished
from clearir.files import write_json
from clearir.metrics.registry import metric
from clearir.metrics.significance import compare, holm

HERE = Path(__file__).resolve().parent
GRID = HERE / "ablation" / "grid_bridge.toml"
OUT = HERE / "out" / "bridge.json"
# (label, task, metric)
TARGETS = (
    ("ar→de", "xquad-matrix-ar-de", "ndcg_at_10"),
    ("de→ar", "xquad-matrix-de-ar", "ndcg_at_10"),
    ("ar→en", "xquad-matrix-ar-en", "ndcg_at_10"),
    ("en→en", "xquad-matrix-en-en", "ndcg_at_10"),
    ("ar ∪ de pool, ar queries", "xquad-pairs-ar-ar+de", "complete_at_10"),
    ("ar ∪ de pool, de queries", "xquad-pairs-de-ar+de", "complete_at_10"),
    ("ar ∪ de pool, ar queries", "xquad-pairs-ar-ar+de", "max_rank_mean"),
)
CONFIGS = {"CLEAR, en bridge": ("clear", "en"), "CLEAR, de bridge": ("clear", "de")}
CONFIGS["InfoNCE, de bridge"] = ("infonce", "de")
# The questions: (a, b): a - b.
PAIRS = (
    ("CLEAR, de bridge", "CLEAR, en bridge"),
    ("CLEAR, de bridge", "InfoNCE, de bridge"),
    ("CLEAR, en bridge", "base"),
    ("CLEAR, de bridge", "base"),
    ("InfoNCE, de bridge", "base"),
)


def _values(folder: Path, task: str, key: str) -> dict[str, float]:
    return read_metric_values(folder, task, [metric(key)])[key]


def answer(out: Path | None = None) -> dict:
    plan = load_plan(GRID, out=str(out) if out else None)
    finished = load_finished(plan)
    folders: dict[str, list[Path]] = {"base": [plan.out / finished.base[BASE_NAME]["folder"]]}
    for run in plan.runs:
        if run.id not in finished.runs:
            raise SystemExit(f"run {plan.label(run.settings)} is not finished; run without --report-only")
        name = next(
            n
            for n, (loss, pivot) in CONFIGS.items()
            if (run.settings.loss, run.settings.pivot) == (loss, pivot)
        )
        folders.setdefault(name, []).append(plan.out / finished.runs[run.id]["folder"])
    rows, tests = [], []
    for label, task, key in TARGETS:
        per_config = {}
        for name, dirs in folders.items():  # seeds averaged query by query
            seeds = [_values(folder, task, key) for folder in dirs]
            per_config[name] = {q: sum(s[q] for s in seeds) / len(seeds) for q in seeds[0]}
        means = {name: sum(v.values()) / len(v) for name, v in per_config.items()}
        for a, b in PAIRS:
            test = compare(per_config[a], per_config[b], key)
            tests.append({"target": label, "metric": key, "a": a, "b": b, **test.record()})
        rows.append({"target": label, "metric": key, "means": means})
    for test, p_holm in zip(tests, holm([t["p_value"] for t in tests]), strict=True):
        test["p_holm"] = p_holm
    result = {
        "grid": str(GRID.relative_to(HERE.parent)),
        "seeds": sorted({r.settings.seed for r in plan.runs}),
    }
    result |= {"rows": rows, "tests": tests}
    return result


def markdown(result: dict) -> str:
    names = ["base", *CONFIGS]
    lines = ["| XQuAD, trained on ar | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for row in result["rows"]:
        m = metric(row["metric"])
        lines.append(
            f"| {row['target']} ({m.label}) | " + " | ".join(m.format(row["means"][n]) for n in names) + " |"
        )
    lines += ["", "| difference | target | Δ | 95% CI | p | Holm p |", "|---|---|---:|---|---:|---:|"]
    for t in result["tests"]:
        m = metric(t["metric"])
        ci = f"{m.format(t['ci_low'], True)} to {m.format(t['ci_high'], True)}"
        star = "*" if t["p_holm"] < 0.05 and (t["ci_low"] > 0 or t["ci_high"] < 0) else ""
        lines.append(
            f"| {t['a']} − {t['b']} | {t['target']} ({m.label}) | {m.format(t['diff'], True)}{star} | {ci} | "
            f"{t['p_value']:.3f} | {t['p_holm']:.3f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--report-only", action="store_true", help="Answer from the finished runs.")
    parser.add_argument("--out", default=None, help="Experiment directory (default: the grid's).")
    args = parser.parse_args()
    if not args.report_only:
        from clearir.experiment.runner import run_experiment

        run_experiment(load_plan(GRID, out=args.out))
    result = answer(Path(args.out) if args.out else None)
    write_json(OUT, result)
    print(markdown(result))
    print(json.dumps({"written": str(OUT)}))


if __name__ == "__main__":
    main()
