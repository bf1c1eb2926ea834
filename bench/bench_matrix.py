"""Benchmark of the language matrix, in one run, written to ``bench/out/matrix.json``: what the full
query-language x document-language matrix (``matrix``: 12 x 12 = 144 directions on XQuAD) and the bilingual
pool of every pair (``pairs``: 66 pools, 132 tasks) cost on top of today's English-centric scenarios
(monolingual, crosslingual, bilingual), for the same model and languages:

(a) texts encoded: today's scenarios vs. today's + matrix + pairs ("full"); each language's questions and
    paragraphs are encoded once per model, so the matrix should add none; also the encodings a per-task
    loop would need (each task's queries and pool afresh);
(b) wall time of both evaluations (encoding, search and metrics), no embedding cache, alternating
    today, full, full, today (ABBA) so load from other processes hits both alike; the scoring time
    (search and metrics) separately, which is what grows with the number of tasks.

    python -m bench.bench_matrix                        # XQuAD, all 12 languages, 50 questions, 128 tokens
    python -m bench.bench_matrix --max-queries 0 --max-seq-length 0 --rounds 1   # every question, full length

The pools are always complete (240 paragraphs per language); the query budget applies per task.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
from pathlib import Path
from typing import Any

import torch

from clearir.evaluation.engine import encoding_inputs, evaluate_model
from clearir.evaluation.scenarios import build_tasks
from clearir.evaluation.settings import MATRIX_SCENARIOS
from clearir.files import write_json
from clearir.model.load import load_model

OUT = Path(__file__).resolve().parent / "out"
TODAY = ("monolingual", "crosslingual", "bilingual")
FULL = (*TODAY, *MATRIX_SCENARIOS)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="model path or name (default: the built default model)")
    parser.add_argument("--langs", default="all", help="comma-separated XQuAD languages besides en, or 'all'")
    parser.add_argument("--max-queries", type=int, default=50, help="questions per task (0: all 1,190)")
    parser.add_argument(
        "--max-seq-length", type=int, default=128, help="token limit per text (0: the model's)"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=1, help="ABBA rounds (each: today, full, full, today)")
    parser.add_argument("--out", type=Path, default=OUT / "matrix.json")
    args = parser.parse_args()

    langs = None if args.langs == "all" else args.langs.split(",")
    tasks = {
        name: build_tasks(["xquad"], langs, scenarios, None, args.max_queries or None)
        for name, scenarios in (("today", TODAY), ("full", FULL))
    }
    model = load_model(args.model)
    if args.max_seq_length:
        model.max_seq_length = args.max_seq_length
    model.encode(["warm-up"] * 4)

    runs: dict[str, list[Any]] = {"today": [], "full": []}
    for _ in range(args.rounds):
        for name in ("today", "full", "full", "today"):
            run = evaluate_model(
                model, tasks[name], model_name="bench", batch_size=args.batch_size, progress=False
            )
            runs[name].append(run)
            print(
                f"{name}: {len(run.results)} tasks, {run.encoding.encoded} texts, {run.seconds:.1f} s",
                flush=True,
            )

    def summary(name: str) -> dict[str, Any]:
        done = runs[name]
        inputs = encoding_inputs(tasks[name], model)
        wall = [r.seconds for r in done]
        encoding = [r.encoding.seconds for r in done]
        scoring = [sum(t.evaluation_time for t in r.results) for r in done]
        return {
            "scenarios": list(TODAY if name == "today" else FULL),
            "tasks": len(tasks[name]),
            "texts_encoded": done[0].encoding.encoded,
            "distinct_texts": len(set(inputs)),
            "per_task_encodings": len(inputs),
            "wall_seconds": wall,
            "wall_seconds_median": statistics.median(wall),
            "encoding_seconds_median": statistics.median(encoding),
            "scoring_seconds_median": statistics.median(scoring),
        }

    today, full = summary("today"), summary("full")
    ndcg = {r.name: r.scores["ndcg_at_10"] for r in runs["full"][0].results}
    pairs = [
        ("xquad-matrix-de-en", "xquad-crosslingual-de-en"),
        ("xquad-matrix-en-en", "xquad-monolingual-en-en"),
    ]
    result = {
        "machine_idle": False,
        "note": "measured side by side in one process on a shared 2-core machine with other agents running: "
        "the machine was NOT idle; compare the ratios, not the absolute seconds",
        "config": {
            "dataset": "xquad",
            "langs": sorted({t.spec.query_lang for t in tasks["full"]}),
            "max_queries": args.max_queries or None,
            "max_seq_length": model.max_seq_length,
            "batch_size": args.batch_size,
            "rounds": args.rounds,
            "model": args.model or "default",
            "torch_threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "platform": platform.platform(),
        },
        "today": today,
        "full": full,
        "ratios": {
            "tasks": full["tasks"] / today["tasks"],
            "texts_encoded": full["texts_encoded"] / today["texts_encoded"],
            "wall_seconds": full["wall_seconds_median"] / today["wall_seconds_median"],
            "per_task_encodings_full_vs_encoded": full["per_task_encodings"] / full["texts_encoded"],
        },
        "matrix_cell_equals_classic": {a: abs(ndcg[a] - ndcg[b]) < 1e-12 for a, b in pairs},
    }
    write_json(args.out, result)
    print(
        f"today: {today['tasks']} tasks, {today['texts_encoded']} texts, "
        f"{today['wall_seconds_median']:.1f} s; "
        f"full: {full['tasks']} tasks, {full['texts_encoded']} texts, {full['wall_seconds_median']:.1f} s "
        f"(x{result['ratios']['wall_seconds']:.2f} wall, x{result['ratios']['texts_encoded']:.2f} texts)"
    )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
