"""Loss benchmark, side by side in one process, written to ``bench/out/losses.json``:

1. step time of CLEARLoss (forward + backward) against the bare forward + backward of the encoder over the
   same texts (target: at most 10% overhead); the cached variant's time is reported alongside;
2. peak memory of the cached variant (``mini_batch_size``) at batch 32 and 256 (target: within 1.3x), with
   the uncached loss at batch 32 for scale.

    python -m bench.bench_losses                   # synthetic e5-small-shaped encoder, 6 layers (~3 min)
    python -m bench.bench_losses --model default   # the real base model (``clearir model build``)

Texts are real XQuAD rows (English question and paragraph, German question; negatives are other paragraphs
and their German questions) with the model's query/passage prompts. The default encoder has the shape of
multilingual-e5-small (hidden 384, 12 heads, FFN 1536) with 6 layers and a small WordPiece vocabulary,
randomly initialised: the loss's cost is independent of the weights and the vocabulary, and a small
vocabulary keeps the constant parameter memory from hiding the activations. Word embeddings are frozen,
as in training.

Memory is the peak of the bytes of tensor storage allocated during the step and alive at once, tracked
with a TorchDispatchMode (every tensor the step allocates, forward and backward, freed when its storage
is), plus the tokenised inputs. Not peak RSS: that counts the interpreter and the model, and never goes
down within a process, so two batch sizes could not be measured in one process. Not tracemalloc: it does
not see torch's allocator.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from clearir.config import data_dir, resolve_model
from clearir.files import write_json
from clearir.losses import CLEARLoss, column_prompts
from clearir.losses.columns import QUERY_ROLES, parse_columns
from clearir.model.load import load_model as load_clearir_model
from clearir.report.results import package_versions

OUT = Path(__file__).resolve().parent / "out"
OVERHEAD_TARGET = 0.10
MEMORY_RATIO_TARGET = 1.3

Features = list[dict[str, torch.Tensor]]


class PeakTensorMemory(TorchDispatchMode):
    """Peak bytes of tensor storage allocated inside the block and alive at the same time."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[int, int] = {}
        self.current = 0
        self.peak = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_flatten(out)[0]:
            if isinstance(value, torch.Tensor):
                self._track(value.untyped_storage())
        return out

    def _track(self, storage: torch.UntypedStorage) -> None:
        key, size = storage.data_ptr(), storage.nbytes()
        if size == 0 or key in self.live:  # views and in-place results share a tracked storage
            return
        self.live[key] = size
        self.current += size
        self.peak = max(self.peak, self.current)
        weakref.finalize(storage, self._free, key)

    def _free(self, key: int) -> None:
        self.current -= self.live.pop(key)


def xquad_rows(root: Path, count: int, negatives: int) -> dict[str, list[str]]:
    """``count`` rows in the clearir column naming from XQuAD English and German."""

    def paragraphs(lang: str) -> list[dict]:
        data = json.loads((root / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        return [paragraph for article in data for paragraph in article["paragraphs"]]

    en, de = paragraphs("en"), paragraphs("de")
    questions = [(p, q) for p, paragraph in enumerate(en) for q in range(len(paragraph["qas"]))]
    if count > len(questions):
        raise SystemExit(f"XQuAD has {len(questions)} questions; asked for {count} rows")
    columns = ["en_question", "paragraphs", *(f"neg_{k}" for k in range(1, negatives + 1)), "lang_question"]
    columns += [f"neg_query_{k}" for k in range(1, negatives + 1)]
    rows: dict[str, list[str]] = {column: [] for column in columns}
    for p, q in questions[:count]:
        rows["en_question"].append(en[p]["qas"][q]["question"])
        rows["paragraphs"].append(en[p]["context"])
        rows["lang_question"].append(de[p]["qas"][q]["question"])
        for k in range(1, negatives + 1):
            other = (p + 11 * k) % len(en)
            rows[f"neg_{k}"].append(en[other]["context"])
            rows[f"neg_query_{k}"].append(de[other]["qas"][0]["question"])
    return rows


def load_model(name: str | None, layers: int, max_seq_length: int) -> tuple[SentenceTransformer, str]:
    if name is None:
        from tests.tiny_model import make_tiny_model

        model = make_tiny_model(
            dropout=0.1,
            hidden_size=384,
            num_layers=layers,
            num_heads=12,
            intermediate_size=1536,
            max_seq_length=max_seq_length,
        )
        description = f"synthetic e5-small-shaped BERT, {layers} layers, random weights"
    else:
        path = resolve_model(None if name == "default" else name)
        model = load_clearir_model(path, device="cpu", max_seq_length=max_seq_length).train()
        description = path
    model[0].model.embeddings.word_embeddings.requires_grad_(False)
    return model, description


def tokenize(model: SentenceTransformer, rows: dict[str, list[str]], batch: int) -> Features:
    prompts = column_prompts(model, list(rows))
    return [model.preprocess(texts[:batch], prompt=prompts.get(column)) for column, texts in rows.items()]


def fresh(features: Features) -> Features:
    """Copies of the feature dicts: a forward pass adds its outputs to the dict it is given."""
    return [dict(f) for f in features]


def input_bytes(features: Features) -> int:
    return sum(v.nbytes for f in features for v in f.values() if isinstance(v, torch.Tensor))


def loss_step(loss: CLEARLoss, features: Features) -> None:
    components = loss(fresh(features))
    torch.stack(list(components.values())).sum().backward()


def bare_step(loss: CLEARLoss, features: Features, kinds: list[bool]) -> None:
    """The encoder's forward and backward over the same columns, embedded the same way, without the loss."""
    embeddings = loss.embed(fresh(features), kinds)
    torch.stack([e.sum() for e in embeddings]).sum().backward()


def seconds(model: SentenceTransformer, step: Callable[[], None]) -> float:
    model.zero_grad(set_to_none=True)
    started = time.perf_counter()
    step()
    return time.perf_counter() - started


def step_times(model, rows, batch: int, repeats: int, mini_batch_size: int) -> dict[str, Any]:
    features = tokenize(model, rows, batch)
    columns = parse_columns(list(rows))
    kinds = [any(i in columns.positions(role) for role in QUERY_ROLES) for i in range(len(rows))]
    clear = CLEARLoss(model, columns=list(rows))
    cached = CLEARLoss(model, columns=list(rows), mini_batch_size=mini_batch_size)
    variants = {
        "bare": lambda: bare_step(clear, features, kinds),
        "clear": lambda: loss_step(clear, features),
        "clear_cached": lambda: loss_step(cached, features),
    }
    for step in variants.values():  # warm-up
        seconds(model, step)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(repeats):  # interleaved, so a change in machine load hits every variant alike
        for name, step in variants.items():
            samples[name].append(seconds(model, step))
    median = {name: statistics.median(values) for name, values in samples.items()}
    overhead = median["clear"] / median["bare"] - 1
    return {
        "batch": batch,
        "texts_per_step": batch * len(rows),
        "median_seconds": {name: round(value, 4) for name, value in median.items()},
        "samples_seconds": {name: [round(v, 4) for v in values] for name, values in samples.items()},
        "clear_overhead": round(overhead, 4),
        "clear_cached_overhead": round(median["clear_cached"] / median["bare"] - 1, 4),
        "target_overhead": OVERHEAD_TARGET,
        "meets_target": overhead <= OVERHEAD_TARGET,
    }


def peak_memory(model, rows, batch: int, mini_batch_size: int | None) -> dict[str, Any]:
    features = tokenize(model, rows, batch)
    loss = CLEARLoss(model, columns=list(rows), mini_batch_size=mini_batch_size)
    model.zero_grad(set_to_none=True)
    tracker = PeakTensorMemory()
    started = time.perf_counter()
    with tracker:
        loss_step(loss, features)
    inputs = input_bytes(features)
    return {
        "batch": batch,
        "mini_batch_size": mini_batch_size,
        "step_peak_mib": round(tracker.peak / 2**20, 2),
        "inputs_mib": round(inputs / 2**20, 2),
        "total_mib": round((tracker.peak + inputs) / 2**20, 2),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=None, help="'default' (the built base model) or a path; default: synthetic"
    )
    parser.add_argument("--layers", type=int, default=6, help="Layers of the synthetic encoder.")
    parser.add_argument("--max-seq-length", type=int, default=64, help="Token limit per text.")
    parser.add_argument("--negatives", type=int, default=1, help="Hard negatives per row (n).")
    parser.add_argument("--time-batch", type=int, default=16, help="Batch size of the step-time comparison.")
    parser.add_argument("--repeats", type=int, default=5, help="Timed steps per variant.")
    parser.add_argument("--mini-batch-size", type=int, default=16, help="GradCache mini-batch size.")
    parser.add_argument("--memory-batches", default="32,256", help="Batch sizes of the memory comparison.")
    parser.add_argument("--json", default=str(OUT / "losses.json"), help="Where to write the result.")
    args = parser.parse_args()
    batches = [int(b) for b in args.memory_batches.split(",")]

    model, description = load_model(args.model, args.layers, args.max_seq_length)
    rows = xquad_rows(data_dir(), max([*batches, args.time_batch]), args.negatives)
    timing = step_times(model, rows, args.time_batch, args.repeats, args.mini_batch_size)
    print(json.dumps({"step_time": timing["median_seconds"], "clear_overhead": timing["clear_overhead"]}))
    cached = {str(b): peak_memory(model, rows, b, args.mini_batch_size) for b in batches}
    uncached = peak_memory(model, rows, batches[0], None)
    ratio = cached[str(batches[-1])]["total_mib"] / cached[str(batches[0])]["total_mib"]
    result = {
        "benchmark": "losses: CLEARLoss step time and GradCache memory",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "versions": package_versions(),
        "settings": {
            "model": description,
            "max_seq_length": args.max_seq_length,
            "negatives": args.negatives,
            "columns": list(rows),
            "torch_threads": torch.get_num_threads(),
            "word_embeddings": "frozen",
        },
        "step_time": timing,
        "memory": {
            "measure": "peak live tensor storage allocated during forward+backward, plus tokenised inputs",
            "cached": cached,
            "uncached": uncached,
            "cached_ratio": round(ratio, 3),
            "target_ratio": MEMORY_RATIO_TARGET,
            "meets_target": ratio <= MEMORY_RATIO_TARGET,
        },
    }
    write_json(Path(args.json), result)
    print(json.dumps({"step_time": timing, "memory": result["memory"]}, indent=2))


if __name__ == "__main__":
    main()
