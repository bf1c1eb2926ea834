"""Precision benchmark (fp32 vs bf16), side by side in one process, written to ``bench/out/precision.json``:

1. encoding throughput on the same XQuAD texts, in the same length-sorted batches, the variants alternating
   over chunks (A B C D, then D C B A, ...): the bare fp32 forward (tokenise + forward, as ``bench_eval``),
   clearir's encoder in fp32 and in bf16 (``torch.autocast``), and for the record the bare forward with the
   weights cast to bf16 (the alternative clearir does not use: faster, but nDCG moved), and the bare bf16
   autocast forward; then apart, the bare bf16 autocast forward eager against ``torch.compile`` (a copy of
   the model; its compile time recorded);
   tokenizer time; target: clearir bf16 >= 1.8x the bare fp32 forward; and where the time goes: the
   forward's operator time (torch.profiler) by kind (linear layers, attention, casts, the rest), fp32 vs
   autocast, which bounds what autocast can gain;
2. nDCG@10 of every XQuAD task of de, hi, zh, ar and en (every direction, mixed pool and bitext task the
   engine has), clearir fp32 vs bf16; target: |delta| <= 0.002 on each;
3. one training step (forward + backward, CLEAR recipe, ``clearir train``'s defaults: batch 16, 3 hard
   negatives, passages 128 tokens, questions 32, frozen word embeddings, no GradCache, the fast attention
   kernel) in fp32 and bf16 autocast, beside GradCache (mini-batches of 8) and PyTorch's attention kernel
   (``sdpa``), alternating; peak tensor memory of each; target: bf16 >= 1.4x fp32 at the defaults;
4. real ``clearir train`` runs at the defaults (8 steps on 500 MLQA-R hi rows, 3 BM25 negatives), fp32
   and bf16: the loss curves (target: every step within 1%) and the wall time; and in bf16 with PyTorch's
   attention kernel and without the attention dropout (``--no-attention-dropout``), for their wall time.

    python -m bench.bench_precision                      # ~15 min on 2 busy cores
    python -m bench.bench_precision --max-queries 0      # nDCG on all 1,190 questions per task

The machine may be shared: ratios are measured side by side, and the load average is recorded.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer

from bench.bench_eval import bare_forward
from bench.bench_losses import PeakTensorMemory, fresh, xquad_rows
from clearir.config import data_dir, resolve_model
from clearir.evaluation.encoder import Key, TextEncoder
from clearir.evaluation.engine import encoding_inputs, evaluate_model
from clearir.evaluation.scenarios import build_tasks
from clearir.experiment.preset import RUN_GRID, run_plan
from clearir.files import write_json
from clearir.losses import CLEARLoss, column_prompts
from clearir.losses.columns import QUERY_ROLES, parse_columns
from clearir.model.load import load_model
from clearir.precision import cpu_has_bf16, resolve_precision
from clearir.report.results import package_versions
from clearir.rows.settings import write_rows
from clearir.training.backbone import freeze, use_attention_kernel
from clearir.training.config import AttentionKernel, TrainConfig
from clearir.training.trainer import train

OUT = Path(__file__).resolve().parent / "out"
LANGS = ("de", "hi", "zh", "ar")
TARGETS = {"encode_speedup": 1.8, "ndcg_abs_delta": 0.002, "train_step_speedup": 1.4, "loss_rel_delta": 0.01}
DEFAULTS = TrainConfig(data="", out="")
Features = list[dict[str, torch.Tensor]]


class Bf16Weights:
    """The alternative to autocast clearir measured and rejected (nDCG moved): a module's float32 parameters
    and buffers swapped for bf16 copies (made once) inside ``with``, the originals put back afterwards."""

    def __init__(self, module: torch.nn.Module) -> None:
        self.module = module
        self._copies: list[torch.Tensor] | None = None
        self._saved: list[tuple[torch.Tensor, torch.Tensor]] = []

    def _tensors(self) -> list[torch.Tensor]:
        tensors = [*self.module.parameters(), *self.module.buffers()]
        return [t for t in tensors if t.dtype == torch.float32]

    def __enter__(self) -> None:
        tensors = self._tensors()
        if self._copies is None:
            self._copies = [t.data.to(torch.bfloat16) for t in tensors]
        self._saved = [(t, t.data) for t in tensors]
        for tensor, bf16 in zip(tensors, self._copies, strict=True):
            tensor.data = bf16

    def __exit__(self, *exc: object) -> None:
        for tensor, data in self._saved:
            tensor.data = data
        self._saved = []


def autocast(bf16: bool) -> contextlib.AbstractContextManager:
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


# -- 1. encoding throughput ------------------------------------------------------------------------------


def encoding_speed(model: SentenceTransformer, items: list[Key], batch_size: int, chunks: int) -> dict:
    """Texts/s of each variant on ``items``, alternating the variants' order over ``chunks`` chunks."""
    fp32 = TextEncoder(model, batch_size, progress=False, precision="fp32")
    bf16 = TextEncoder(model, batch_size, progress=False, precision="bf16")

    weights = Bf16Weights(model)

    def bare_bf16_weights(chunk: list[Key]) -> None:
        with weights:
            bare_forward(model, chunk, list(fp32.batches(chunk)))

    def bare_autocast(module: SentenceTransformer) -> Callable[[list[Key]], None]:
        def run(chunk: list[Key]) -> None:
            with torch.inference_mode(), autocast(True):
                bare_forward(module, chunk, list(fp32.batches(chunk)))

        return run

    variants: dict[str, Callable[[list[Key]], Any]] = {
        "bare_fp32_forward": lambda chunk: bare_forward(model, chunk, list(fp32.batches(chunk))),
        "clearir_fp32": fp32.encode,
        "clearir_bf16": bf16.encode,
        "bare_bf16_weights_forward": bare_bf16_weights,
        "bare_bf16_autocast_forward": bare_autocast(model),
    }
    for name in ("clearir_bf16", "bare_bf16_weights_forward", "bare_bf16_autocast_forward"):
        variants[name](items[:8])  # warm-up (first bf16 kernels)
    wall = _alternating(variants, items, chunks)
    # torch.compile apart, after the others: its compiling (and recompiling for new shapes) would load the
    # machine while they are timed.
    compiled = copy.deepcopy(model)
    compiled.forward = torch.compile(compiled.forward, dynamic=True)
    started = time.perf_counter()
    bare_autocast(compiled)(items)  # compiles, for the shapes of every batch
    compile_seconds = time.perf_counter() - started
    eager_compiled = _alternating(
        {"eager": variants["bare_bf16_autocast_forward"], "compiled": bare_autocast(compiled)}, items, chunks
    )
    tokenize_started = time.perf_counter()
    for prompt in {p for p, _ in items}:
        model.tokenizer(
            [prompt + t for p, t in items if p == prompt], truncation=True, max_length=model.max_seq_length
        )
    tokenize = time.perf_counter() - tokenize_started
    rate = {name: len(items) / seconds for name, seconds in wall.items()}
    return {
        "texts": len(items),
        "chunks": chunks,
        "texts_per_s": {name: round(value, 2) for name, value in rate.items()},
        "speedup_vs_bare_fp32": {name: round(rate[name] / rate["bare_fp32_forward"], 3) for name in rate},
        "compile_and_first_pass_seconds": round(compile_seconds, 1),
        "compiled_over_eager_autocast": round(eager_compiled["eager"] / eager_compiled["compiled"], 3),
        "tokenizer_seconds_all_texts": round(tokenize, 3),
        "tokenizer_share_of_clearir_bf16": round(tokenize / wall["clearir_bf16"], 4),
    }


def _alternating(variants: dict[str, Callable[[list[Key]], Any]], items: list[Key], chunks: int) -> dict:
    """Seconds each variant spends on ``items`` in ``chunks`` chunks, the order reversed every other chunk."""
    wall = dict.fromkeys(variants, 0.0)
    size = -(-len(items) // chunks)
    for n, start in enumerate(range(0, len(items), size)):
        chunk = items[start : start + size]
        for name in list(variants) if n % 2 == 0 else list(reversed(variants)):
            started = time.perf_counter()
            variants[name](chunk)
            wall[name] += time.perf_counter() - started
    return wall


OP_KINDS = {
    "linear": ("aten::addmm", "aten::mm"),
    "attention": ("aten::_scaled_dot_product",),
    "casts": ("aten::copy_", "aten::_to_copy"),
}


def op_kind(name: str) -> str:
    return next((kind for kind, prefixes in OP_KINDS.items() if name.startswith(prefixes)), "other")


def op_time(model: SentenceTransformer, items: list[Key], batch_size: int) -> dict:
    """Self CPU seconds of the forward's operators by kind (:data:`OP_KINDS`), fp32 and bf16 autocast, on
    the same batches; the per-kind speedup shows which parts bf16 makes faster."""
    batches = list(TextEncoder(model, batch_size, progress=False).batches(items))
    features = [model.preprocess([items[i][1] for i in b], prompt=items[b[0]][0]) for b in batches]
    seconds: dict[str, dict[str, float]] = {}
    for name, bf16 in (("fp32", False), ("bf16_autocast", True)):
        with torch.inference_mode(), autocast(bf16):
            model(features[0])  # warm-up
            with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as profile:
                for feature in features:
                    model(feature)
        kinds = dict.fromkeys((*OP_KINDS, "other"), 0.0)
        for event in profile.key_averages():
            kinds[op_kind(event.key)] += event.self_cpu_time_total / 1e6
        seconds[name] = {kind: round(value, 3) for kind, value in kinds.items()}
    fp32, bf16 = seconds["fp32"], seconds["bf16_autocast"]
    return {
        "self_cpu_seconds": seconds,
        "speedup_by_kind": {k: round(fp32[k] / bf16[k], 3) for k in fp32 if fp32[k] and bf16[k]},
        "attention_share_of_bf16": round(bf16["attention"] / sum(bf16.values()), 3),
    }


# -- 2. nDCG@10 -------------------------------------------------------------------------------------------


def ndcg(model_path: str | None, max_queries: int | None, max_seq_length: int, batch_size: int) -> dict:
    tasks = build_tasks(["xquad"], list(LANGS), None, None, max_queries)
    runs = {}
    for precision in ("fp32", "bf16"):
        runs[precision] = evaluate_model(
            model_path,
            tasks,
            batch_size=batch_size,
            max_seq_length=max_seq_length,
            progress=False,
            precision=precision,
        )
    scores = {
        precision: {r.name: r.scores["ndcg_at_10"] for r in run.results} for precision, run in runs.items()
    }
    deltas = {name: scores["bf16"][name] - value for name, value in scores["fp32"].items()}
    worst = max(deltas, key=lambda name: abs(deltas[name]))
    return {
        "tasks": len(tasks),
        "max_queries": max_queries,
        "encoding_seconds": {p: round(run.encoding.seconds, 1) for p, run in runs.items()},
        "texts_encoded": runs["fp32"].encoding.encoded,
        "ndcg_at_10": {
            name: {
                "fp32": round(value, 5),
                "bf16": round(scores["bf16"][name], 5),
                "delta": round(deltas[name], 5),
            }
            for name, value in scores["fp32"].items()
        },
        "max_abs_delta": round(abs(deltas[worst]), 5),
        "max_abs_delta_task": worst,
        "mean_delta": round(statistics.mean(deltas.values()), 6),
    }


# -- 3. one training step ---------------------------------------------------------------------------------


def step_features(model: SentenceTransformer, rows: dict[str, list[str]], batch: int) -> Features:
    """The columns tokenised as ``clearir train``'s collator does: questions and passages cut apart."""
    prompts = column_prompts(model, list(rows))
    questions = {"en_question", "lang_question"} | {c for c in rows if c.startswith("neg_query")}
    features = []
    for column, texts in rows.items():
        model.max_seq_length = DEFAULTS.query_length if column in questions else DEFAULTS.max_seq_length
        features.append(model.preprocess(texts[:batch], prompt=prompts.get(column)))
    return features


def padding_share(features: Features) -> float:
    """The share of padding among the tokens the step runs on."""
    total = sum(f["attention_mask"].numel() for f in features)
    return 1 - sum(int(f["attention_mask"].sum()) for f in features) / total


def training_step(model_path: str, repeats: int, seed: int = 42) -> dict:
    model = load_model(model_path, device="cpu").train()
    freeze(model, word_embeddings=DEFAULTS.freeze_word_embeddings, layers=DEFAULTS.freeze_layers)
    rows = xquad_rows(data_dir(None), DEFAULTS.batch_size, DEFAULTS.num_negatives)
    features = step_features(model, rows, DEFAULTS.batch_size)
    columns = list(rows)
    recipe = {"scale": DEFAULTS.scale, "bidirectional_reverse": DEFAULTS.bidirectional_reverse}
    cached = CLEARLoss(model, columns=columns, mini_batch_size=8, **recipe)
    uncached = CLEARLoss(model, columns=columns, **recipe)
    assert DEFAULTS.mini_batch_size is None and DEFAULTS.attention_kernel == "fast"
    # The default step (uncached, fast attention kernel), GradCache's, and PyTorch's attention kernel.
    setups: dict[str, tuple[CLEARLoss, AttentionKernel]] = {
        "default": (uncached, "fast"),
        "gradcache_8": (cached, "fast"),
        "sdpa_kernel": (uncached, "sdpa"),
    }

    def run(loss: CLEARLoss, kernel: AttentionKernel, bf16: bool) -> dict[str, float]:
        use_attention_kernel(model, kernel)
        model.zero_grad(set_to_none=True)
        torch.manual_seed(seed)
        with autocast(bf16):
            components = loss(fresh(features))
        total = torch.stack(list(components.values())).sum()
        total.backward()
        return {name: value.item() for name, value in components.items()}

    variants = {
        f"{precision}_{name}": (*setup, precision == "bf16")
        for precision in ("fp32", "bf16")
        for name, setup in setups.items()
    }
    values, memory = {}, {}
    for name, variant in variants.items():  # warm-up; peak memory in bf16 (the tracker is slow)
        bf16 = variant[-1]
        tracker = PeakTensorMemory() if bf16 else contextlib.nullcontext()
        with tracker:
            values[name] = run(*variant)
        if bf16:
            memory[name] = round(tracker.peak / 2**20, 1)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for n in range(repeats):
        names = list(variants) if n % 2 == 0 else list(reversed(variants))
        for name in names:
            started = time.perf_counter()
            run(*variants[name])
            samples[name].append(time.perf_counter() - started)
    median = {name: statistics.median(values) for name, values in samples.items()}
    kinds = [any(i in parse_columns(columns).positions(r) for r in QUERY_ROLES) for i in range(len(columns))]
    return {
        "batch": DEFAULTS.batch_size,
        "num_negatives": DEFAULTS.num_negatives,
        "max_seq_length": DEFAULTS.max_seq_length,
        "max_query_length": DEFAULTS.query_length,
        "texts_per_step": DEFAULTS.batch_size * len(columns),
        "query_columns": sum(kinds),
        "padding_share": round(padding_share(features), 3),
        "median_seconds": {name: round(value, 3) for name, value in median.items()},
        "samples_seconds": {name: [round(v, 3) for v in values] for name, values in samples.items()},
        "peak_tensor_memory_mib": memory,
        "loss_components": {
            name: {k: round(v, 6) for k, v in comps.items()} for name, comps in values.items()
        },
        "speedup_bf16_vs_fp32": {
            name: round(median[f"fp32_{name}"] / median[f"bf16_{name}"], 3) for name in setups
        },
        "speedup_fast_vs_sdpa_kernel": {
            precision: round(median[f"{precision}_sdpa_kernel"] / median[f"{precision}_default"], 3)
            for precision in ("fp32", "bf16")
        },
    }


# -- 4. the default 8-step run ----------------------------------------------------------------------------


# The default run (the model's attention dropout, the fast attention kernel) in fp32 and bf16, and in bf16
# with PyTorch's attention kernel and without attention dropout.
DEFAULT_RUN_VARIANTS: dict[str, dict[str, Any]] = {
    "fp32": {"precision": "fp32"},
    "bf16": {"precision": "bf16"},
    "bf16_sdpa_kernel": {"precision": "bf16", "attention_kernel": "sdpa"},
    "bf16_no_attention_dropout": {"precision": "bf16", "attention_dropout": False},
}


def default_runs(model_path: str, work: Path, repeats: int) -> dict:
    """The default run per ``DEFAULT_RUN_VARIANTS``: fp32 once, the bf16 variants ``repeats`` times in
    alternating order (A B, B A, ...), so that neither gains from kernels another run prepared."""
    rows_dir = work / "rows"
    run = run_plan(RUN_GRID, {}, {"out": str(work)}).runs[0].settings  # the default run's rows
    langs = list(RUN_GRID["langs"])
    write_rows(run.rows, langs, run.num_negatives, run.seed, rows_dir, str(data_dir(None)), Path(model_path))
    bf16 = [name for name in DEFAULT_RUN_VARIANTS if name != "fp32"]
    order = ["fp32"] + [n for r in range(repeats) for n in (bf16 if r % 2 == 0 else bf16[::-1])]
    results: dict[str, dict[str, Any]] = {}
    for index, name in enumerate(order):
        config = TrainConfig(
            data=str(rows_dir), out=str(work / f"{index}"), model=model_path, **DEFAULT_RUN_VARIANTS[name]
        )
        result = train(config)
        logs = [json.loads(line) for line in result.loss_log.read_text(encoding="utf-8").splitlines()]
        curve = [record["loss"] for record in logs if "loss" in record]
        entry = results.setdefault(name, {"samples_seconds": [], "loss": curve})
        entry["samples_seconds"].append(round(result.runtime_s, 2))
    for entry in results.values():
        entry["seconds"] = statistics.median(entry["samples_seconds"])
    fp32_loss, bf16_loss = results["fp32"]["loss"], results["bf16"]["loss"]
    rel = [abs(b - a) / abs(a) for a, b in zip(fp32_loss, bf16_loss, strict=True)]
    seconds = {name: entry["seconds"] for name, entry in results.items()}
    return {
        "langs": langs,
        "rows": run.max_rows,
        "mini_batch_size": DEFAULTS.mini_batch_size,
        "order": order,
        "runs": results,
        "loss_max_rel_delta": round(max(rel), 5),
        "wall_speedup": round(seconds["fp32"] / seconds["bf16"], 3),
        "wall_speedup_vs_sdpa_kernel": round(seconds["bf16_sdpa_kernel"] / seconds["bf16"], 3),
        "wall_speedup_no_attention_dropout": round(seconds["bf16"] / seconds["bf16_no_attention_dropout"], 3),
    }


# -- main -------------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=None, help="model path (default: the built default model)")
    parser.add_argument("--max-queries", type=int, default=100, help="questions per nDCG task (0: all)")
    parser.add_argument("--max-seq-length", type=int, default=256, help="evaluation token limit")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--speed-texts", type=int, default=320, help="texts of the throughput comparison")
    parser.add_argument("--chunks", type=int, default=4)
    parser.add_argument(
        "--repeats", type=int, default=2, help="timed training steps, and bf16 default runs, per variant"
    )
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: encode,ndcg,step,run")
    parser.add_argument("--out", type=Path, default=OUT / "precision.json")
    parser.add_argument("--update", action="store_true", help="keep the other parts' results in --out")
    parser.add_argument("--idle", action="store_true", help="record that nothing else ran on the machine")
    args = parser.parse_args(argv)
    skip = set(filter(None, args.skip.split(",")))

    model = load_model(args.model)
    model_path = resolve_model(args.model)
    model.max_seq_length = args.max_seq_length
    result: dict[str, Any] = {
        "config": {
            "model": model_path,
            "langs": ["en", *LANGS],
            "max_seq_length": args.max_seq_length,
            "batch_size": args.batch_size,
            "torch_threads": torch.get_num_threads(),
            "cpus": os.cpu_count(),
            "cpu_has_bf16": cpu_has_bf16(),
            "auto_resolves_to": resolve_precision("auto"),
            "load_average_1min_start": os.getloadavg()[0],
            "platform": platform.platform(),
            "machine_idle": args.idle,
            "note": "ratios side by side in one process"
            + ("" if args.idle else "; the machine was shared (other work running): not absolutes"),
        },
        "targets": TARGETS,
        "versions": package_versions(),
    }

    def save() -> None:
        """Write ``result``; with ``--update``, into the sections already in ``--out`` (parts run apart)."""
        result["config"]["load_average_1min_end"] = os.getloadavg()[0]
        merged = (
            json.loads(args.out.read_text(encoding="utf-8")) if args.update and args.out.is_file() else {}
        )
        merged.update({k: v for k, v in result.items() if k != "config"})
        merged.setdefault("configs", {})[args.skip or "all"] = result["config"]
        write_json(args.out, merged)

    if "encode" not in skip:
        tasks = build_tasks(["xquad"], list(LANGS), ["crosslingual", "monolingual"], None, None)
        items = list(dict.fromkeys(encoding_inputs(tasks, model)))
        step = max(1, len(items) // args.speed_texts)
        sample = items[::step][: args.speed_texts]
        result["encoding"] = encoding_speed(model, sample, args.batch_size, args.chunks)
        speed = result["encoding"]["speedup_vs_bare_fp32"]["clearir_bf16"]
        result["encoding"]["meets_target"] = speed >= TARGETS["encode_speedup"]
        result["encoding"]["operator_time"] = op_time(model, sample, args.batch_size)
        save()
        print("encoding", result["encoding"], flush=True)
    if "ndcg" not in skip:
        result["ndcg"] = ndcg(model_path, args.max_queries or None, args.max_seq_length, args.batch_size)
        result["ndcg"]["meets_target"] = result["ndcg"]["max_abs_delta"] <= TARGETS["ndcg_abs_delta"]
        save()
        print("ndcg", {k: v for k, v in result["ndcg"].items() if k != "ndcg_at_10"}, flush=True)
    del model
    if "step" not in skip:
        result["training_step"] = training_step(model_path, args.repeats)
        speed = result["training_step"]["speedup_bf16_vs_fp32"]["default"]
        result["training_step"]["meets_target"] = speed >= TARGETS["train_step_speedup"]
        save()
        print(
            "step",
            result["training_step"]["median_seconds"],
            result["training_step"]["peak_tensor_memory_mib"],
        )
    if "run" not in skip:
        with tempfile.TemporaryDirectory(prefix="clearir-bench-precision-") as tmp:
            result["default_run"] = default_runs(model_path, Path(tmp), args.repeats)
        result["default_run"]["meets_target"] = (
            result["default_run"]["loss_max_rel_delta"] <= TARGETS["loss_rel_delta"]
        )
        save()
        print("run", result["default_run"], flush=True)
    save()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
