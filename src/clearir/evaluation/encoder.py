"""Encode each unique (text, prompt) once, in length-sorted batches, with an optional on-disk cache.

The cache lives in ``<cache_dir>/<model fingerprint>/`` (fp32) or ``<cache_dir>/<model fingerprint>-bf16/``
(bf16) as ``.npz`` shards (``keys``: SHA-256 of prompt and text, ``vectors``: float32 normalized
embeddings), each written atomically; a run adds one shard per ``flush_every`` new embeddings, so an
interrupted run keeps what it encoded; a damaged shard is removed with a warning and its texts are
encoded again. The fingerprint hashes the model's weights, prompts, maximum sequence
length and module layout: a fine-tuned model never reuses its base model's vectors, and bf16 and fp32
embeddings never mix.

In bf16 (:mod:`clearir.precision`) the model runs under ``torch.autocast`` (bf16 matrix products, float32
weights, layer norms and softmaxes) and the embeddings are normalized in float32. Weights cast to bf16 were
faster but moved XQuAD nDCG@10 by up to 0.007 (``bench/bench_precision.py``).
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sentence_transformers import SentenceTransformer

from clearir.errors import ClearirError, one_line, warn
from clearir.files import write_bytes
from clearir.precision import DEFAULT_PRECISION, Resolved, autocast, resolve_precision

Key = tuple[str, str]  # (prompt, text); prompt "" means none


def model_fingerprint(model: SentenceTransformer, source: Path | None = None) -> str:
    """SHA-256 (hex) of the module layout, prompts and max sequence length, and of either the files of the
    directory ``source`` the model was loaded from, or the model's parameters and buffers.

    Hashing the files makes two loads of one directory agree even when loading initialises unused weights at
    random (e.g. a BERT pooler missing from the checkpoint); an in-memory model is hashed by its tensors.
    """
    digest = hashlib.sha256()
    layout = {
        "modules": [type(module).__name__ for module in model],
        "prompts": dict(sorted(model.prompts.items())),
        "max_seq_length": model.max_seq_length,
        "tokenizer": [type(model.tokenizer).__name__, len(model.tokenizer)],
    }
    digest.update(json.dumps(layout, sort_keys=True).encode())
    if source is not None:
        for path in sorted(p for p in Path(source).rglob("*") if p.is_file()):
            digest.update(str(path.relative_to(source)).encode() + b"\x00")
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 24):
                    digest.update(chunk)
        return digest.hexdigest()
    for name, tensor in model.state_dict().items():
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name}:{flat.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(flat.view(torch.uint8).numpy().data)
    return digest.hexdigest()


def text_key(prompt: str, text: str) -> bytes:
    """The cache key of one input: hex SHA-256 of the prompt and the text."""
    return hashlib.sha256(prompt.encode("utf-8") + b"\x00" + text.encode("utf-8")).hexdigest().encode("ascii")


def resolve_prompt(model: SentenceTransformer, name: str) -> str:
    """The model's prompt called ``name`` (e.g. e5's ``"query: "``), or ``""`` if it defines none."""
    return model.prompts.get(name) or ""


def cache_folder(fingerprint: str, precision: Resolved) -> str:
    """The cache folder of a model fingerprint at a (resolved) precision: fp32 and bf16 never share one."""
    return fingerprint[:32] if precision == "fp32" else f"{fingerprint[:32]}-{precision}"


class EmbeddingCache:
    """Embeddings of one model fingerprint and precision on disk: read all shards once, append new shards
    atomically."""

    def __init__(self, root: str | Path, fingerprint: str, precision: Resolved = "fp32") -> None:
        self.dir = Path(root).expanduser() / cache_folder(fingerprint, precision)
        self._index: dict[bytes, tuple[int, int]] | None = None
        self._shards: list[np.ndarray] = []

    def _load(self) -> dict[bytes, tuple[int, int]]:
        if self._index is None:
            self._index = {}
            for path in sorted(self.dir.glob("*.npz")):
                try:
                    with np.load(path) as shard:
                        keys, vectors = shard["keys"], shard["vectors"]
                    if len(keys) != len(vectors) or vectors.ndim != 2:
                        raise ValueError(f"{len(keys)} keys for {vectors.shape} vectors")
                except Exception as exc:  # any damage: a cache is only a copy of what encoding gives
                    warn(
                        f"{path}: damaged embedding cache shard ({one_line(str(exc))[:120]}); removed, "
                        "its texts are encoded again"
                    )
                    path.unlink(missing_ok=True)
                    continue
                self._shards.append(vectors)
                for row, key in enumerate(keys.tolist()):
                    self._index[key] = (len(self._shards) - 1, row)
        return self._index

    def get(self, keys: Sequence[bytes]) -> dict[bytes, np.ndarray]:
        """The cached vectors among ``keys``."""
        index = self._load()
        return {key: self._shards[index[key][0]][index[key][1]] for key in keys if key in index}

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Add one shard, written atomically."""
        if not len(keys):
            return
        index = self._load()
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.asarray(keys, dtype="S64"), vectors=vectors.astype(np.float32))
        write_bytes(
            self.dir / f"{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:12]}.npz", buffer.getvalue()
        )
        self._shards.append(vectors)
        for row, key in enumerate(keys):
            index[key] = (len(self._shards) - 1, row)


@dataclass(frozen=True)
class EncodeStats:
    """Counts of one :meth:`TextEncoder.encode` call: inputs asked for, unique ones, served by the cache,
    run through the model, and the call's wall time (deduplication, hashing, cache, sorting, encoding)."""

    requested: int
    unique: int
    cached: int
    encoded: int
    seconds: float


class Embeddings:
    """Normalized embeddings of unique (prompt, text) inputs; look rows up by text."""

    def __init__(self, keys: Sequence[Key], vectors: np.ndarray) -> None:
        self._row = {key: i for i, key in enumerate(keys)}
        self.vectors = vectors

    def __len__(self) -> int:
        return len(self._row)

    def lookup(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        """The ``[len(texts), dim]`` embeddings of ``texts`` encoded with ``prompt``."""
        try:
            rows = [self._row[(prompt, text)] for text in texts]
        except KeyError as exc:
            raise ClearirError(f"text was not encoded with prompt {prompt!r}: {str(exc)[:80]}") from None
        return self.vectors[rows]


class TextEncoder:
    """Encodes (prompt, text) inputs with a SentenceTransformer, each unique one once.

    Args:
        model: the model; its prompts are looked up by :func:`resolve_prompt`.
        source: the directory the model was loaded from, if any (see :func:`model_fingerprint`).
        fingerprint: the model's fingerprint, if already computed (saves hashing it again).
        batch_size: texts per forward pass; batches are sorted by token length (longest first).
        cache_dir: root of the on-disk cache, or None for no cache.
        progress: show a rich progress bar.
        flush_every: write a cache shard after this many new embeddings.
        precision: ``auto``, ``fp32`` or ``bf16`` (see :mod:`clearir.precision`); ``self.precision`` is
            what it resolved to on the model's device.
    """

    def __init__(
        self,
        model: SentenceTransformer,
        batch_size: int = 32,
        cache_dir: str | Path | None = None,
        progress: bool = True,
        flush_every: int = 2048,
        source: Path | None = None,
        fingerprint: str | None = None,
        precision: str = DEFAULT_PRECISION,
    ) -> None:
        if batch_size < 1:
            raise ClearirError(f"--batch-size must be >= 1, got {batch_size}")
        self.model = model
        self.batch_size = batch_size
        self.progress = progress
        self.flush_every = flush_every
        self.precision = resolve_precision(precision, model.device)
        self.cache = (
            EmbeddingCache(cache_dir, fingerprint or model_fingerprint(model, source), self.precision)
            if cache_dir is not None
            else None
        )

    def _order(self, items: Sequence[Key]) -> list[int]:
        """Indices grouped by prompt, then by token length (longest first), so batches pad little."""
        tokenizer, limit = self.model.tokenizer, self.model.max_seq_length
        texts = [prompt + text for prompt, text in items]
        lengths = [len(ids) for ids in tokenizer(texts, truncation=True, max_length=limit)["input_ids"]]
        return sorted(range(len(items)), key=lambda i: (items[i][0], -lengths[i], i))

    def batches(self, items: Sequence[Key]) -> Iterable[list[int]]:
        """The batch plan: lists of indices into ``items``, one prompt per batch, longest texts first."""
        order = self._order(items)
        start = 0
        while start < len(order):
            prompt = items[order[start]][0]
            end = start + 1
            while end < len(order) and end - start < self.batch_size and items[order[end]][0] == prompt:
                end += 1
            yield order[start:end]
            start = end

    def encode(self, items: Iterable[Key]) -> tuple[Embeddings, EncodeStats]:
        """Embeddings of the unique ``items`` (``(prompt, text)`` pairs) and counts of the work done."""
        started = time.perf_counter()
        items = list(items)
        unique = list(dict.fromkeys(items))
        keys = [text_key(prompt, text) for prompt, text in unique]
        cached = self.cache.get(keys) if self.cache is not None else {}
        todo = [i for i, key in enumerate(keys) if key not in cached]
        dim = self.model.get_embedding_dimension()
        vectors = np.empty((len(unique), dim), dtype=np.float32)
        for i, key in enumerate(keys):
            if key in cached:
                vectors[i] = cached[key]
        self._encode_into(vectors, [unique[i] for i in todo], todo, keys)
        seconds = time.perf_counter() - started
        stats = EncodeStats(len(items), len(unique), len(unique) - len(todo), len(todo), seconds)
        return Embeddings(unique, vectors), stats

    def _encode_into(
        self, vectors: np.ndarray, items: Sequence[Key], rows: Sequence[int], keys: Sequence[bytes]
    ) -> None:
        """Encode ``items`` into ``vectors[rows]``, flushing new vectors to the cache as it goes."""
        if not items:
            return
        pending: list[int] = []
        started, done = time.perf_counter(), 0
        columns = (
            TextColumn("encoding"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} texts/s"),
            TimeRemainingColumn(),
        )
        with (
            autocast(self.precision, self.model.device),
            Progress(*columns, disable=not self.progress, transient=True) as bar,
        ):
            job = bar.add_task("encode", total=len(items), rate="-")
            for batch in self.batches(items):
                out = self._encode_batch([items[i][1] for i in batch], items[batch[0]][0])
                targets = [rows[i] for i in batch]
                vectors[targets] = out
                pending += targets
                if self.cache is not None and len(pending) >= self.flush_every:
                    self.cache.put([keys[r] for r in pending], vectors[pending])
                    pending = []
                done += len(batch)
                rate = done / (time.perf_counter() - started)
                bar.update(job, advance=len(batch), rate=f"{rate:.1f}")
        if self.cache is not None:
            self.cache.put([keys[r] for r in pending], vectors[pending])

    def _encode_batch(self, texts: list[str], prompt: str) -> np.ndarray:
        """Normalized float32 embeddings of one batch (the model's output, in bf16 too, normalized in
        float32)."""
        out = self.model.encode(
            texts, prompt=prompt, batch_size=len(texts), convert_to_tensor=True, show_progress_bar=False
        )
        return torch.nn.functional.normalize(out.float(), dim=-1).cpu().numpy()
