"""Benchmark of the evaluation engine, in one run, written to ``bench/out/eval.json``:

(a) texts encoded by clearir (each unique text once) vs. an evaluation that encodes each task's queries and
    pool afresh (one encoding per scenario and language pair, as a per-task evaluation loop does);
(b) the wall time of both evaluations (encoding, search and metrics; same model, tasks and batch size);
(c) clearir's encoding throughput as a share of the bare model's forward throughput on the same texts, in the
    same batches: tokenisation + forward pass only, no deduplication, hashing, sorting or progress bar.
    The two alternate over chunks of the texts (ABBA), so load from other processes hits both alike.

Targets: (a) >= 4x fewer encodings, (b) >= 3x less wall time, (c) >= 90% of the bare throughput.

    python -m bench.bench_eval                                     # default: de,hi; 100 questions; 128 tokens
    python -m bench.bench_eval --langs all --max-queries 0 --max-seq-length 512   # full XQuAD

The default is small enough for a few minutes on 2 cores: XQuAD German and Hindi (+ English), 100 questions
per task, texts cut at 128 tokens; the pools are always complete (240 paragraphs per language).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer

from clearir.evaluation.encoder import Key, TextEncoder, resolve_prompt
from clearir.evaluation.engine import encoding_inputs, evaluate_model, score_task
from clearir.evaluation.scenarios import RetrievalTask, build_tasks
from clearir.files import write_json
from clearir.model.load import load_model

OUT = Path(__file__).resolve().parent / "out"
TARGETS = {"encoding_ratio": 4.0, "wall_ratio": 3.0, "throughput_share": 0.9}


def per_task_evaluation(
    model: SentenceTransformer, tasks: Sequence[RetrievalTask], batch_size: int
) -> tuple[int, float, dict[str, float]]:
    """Encode each task's queries and pool afresh, then score it: (encodings, seconds, nDCG@10 by task)."""
    started = time.perf_counter()
    encoded, ndcg = 0, {}
    for task in tasks:
        embed = {
            name: model.encode(
                texts,
                prompt=resolve_prompt(model, prompt),
                batch_size=batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            for name, texts, prompt in (
                ("queries", task.query_texts, task.query_prompt),
                ("docs", task.doc_texts, task.doc_prompt),
            )
        }
        encoded += len(task.query_texts) + len(task.doc_texts)
        ndcg[task.spec.name] = score_task(task, embed["queries"], embed["docs"]).scores["ndcg_at_10"]
    return encoded, time.perf_counter() - started, ndcg


@torch.inference_mode()
def bare_forward(model: SentenceTransformer, items: Sequence[Key], batches: Sequence[list[int]]) -> None:
    """The model alone: tokenise and run each batch (same batches as clearir's encoder)."""
    for batch in batches:
        features = model.preprocess([items[i][1] for i in batch], prompt=items[batch[0]][0])
        model(features)["sentence_embedding"]


def throughput(model: SentenceTransformer, items: list[Key], batch_size: int, chunks: int) -> dict[str, Any]:
    """clearir's encoder vs. the bare forward pass on ``items``, alternating A B B A over the chunks."""
    encoder = TextEncoder(model, batch_size, cache_dir=None, progress=False)
    wall = {"clearir": 0.0, "bare": 0.0}
    cpu = {"clearir": 0.0, "bare": 0.0}
    size = -(-len(items) // chunks)
    for n, start in enumerate(range(0, len(items), size)):
        chunk = items[start : start + size]
        order = ("clearir", "bare") if n % 2 == 0 else ("bare", "clearir")
        for who in order:
            wall_0, cpu_0 = time.perf_counter(), time.process_time()
            if who == "clearir":
                encoder.encode(chunk)
            else:
                bare_forward(model, chunk, list(encoder.batches(chunk)))
            wall[who] += time.perf_counter() - wall_0
            cpu[who] += time.process_time() - cpu_0
    return {
        "texts": len(items),
        "chunks": chunks,
        "clearir_texts_per_s": len(items) / wall["clearir"],
        "bare_texts_per_s": len(items) / wall["bare"],
        "share": wall["bare"] / wall["clearir"],
        "share_cpu_time": cpu["bare"] / cpu["clearir"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="model path or name (default: the built default model)")
    parser.add_argument(
        "--langs", default="de,hi", help="comma-separated XQuAD languages besides en, or 'all'"
    )
    parser.add_argument("--max-queries", type=int, default=100, help="questions per task (0: all 1,190)")
    parser.add_argument(
        "--max-seq-length", type=int, default=128, help="token limit per text (0: the model's)"
    )
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--chunks", type=int, default=4, help="alternations for the throughput comparison")
    parser.add_argument("--out", type=Path, default=OUT / "eval.json")
    args = parser.parse_args()

    langs = None if args.langs == "all" else args.langs.split(",")
    tasks = build_tasks(["xquad"], langs, None, None, args.max_queries or None)
    model = load_model(args.model)
    if args.max_seq_length:
        model.max_seq_length = args.max_seq_length
    model.encode(["warm-up"] * 4)

    run = evaluate_model(model, tasks, model_name="bench", batch_size=args.batch_size, progress=False)
    clearir_ndcg = {r.name: r.scores["ndcg_at_10"] for r in run.results}
    naive_encoded, naive_seconds, naive_ndcg = per_task_evaluation(model, tasks, args.batch_size)
    unique = list(dict.fromkeys(encoding_inputs(tasks, model)))
    speed = throughput(model, unique, args.batch_size, args.chunks)

    result = {
        "config": {
            "dataset": "xquad",
            "langs": sorted({t.spec.query_lang for t in tasks}),
            "tasks": len(tasks),
            "max_queries": args.max_queries or None,
            "max_seq_length": model.max_seq_length,
            "batch_size": args.batch_size,
            "model": args.model or "default",
            "torch_threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "load_average_1min": os.getloadavg()[0],
            "platform": platform.platform(),
        },
        "encodings": {
            "clearir": run.encoding.encoded,
            "per_task": naive_encoded,
            "ratio": naive_encoded / run.encoding.encoded,
        },
        "wall_seconds": {
            "clearir": run.seconds,
            "clearir_encoding": run.encoding.seconds,
            "per_task": naive_seconds,
            "ratio": naive_seconds / run.seconds,
        },
        "throughput": speed,
        "max_ndcg_at_10_difference": max(abs(clearir_ndcg[name] - naive_ndcg[name]) for name in clearir_ndcg),
    }
    measured = {
        "encoding_ratio": result["encodings"]["ratio"],
        "wall_ratio": result["wall_seconds"]["ratio"],
        "throughput_share": speed["share"],
    }
    result["targets"] = {
        name: {"target": target, "measured": measured[name], "met": measured[name] >= target}
        for name, target in TARGETS.items()
    }
    write_json(args.out, result)
    for name, row in result["targets"].items():
        print(
            f"{name}: {row['measured']:.3f} (target >= {row['target']}) {'met' if row['met'] else 'NOT met'}"
        )
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
