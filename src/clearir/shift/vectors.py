"""SHIFT language vectors: the transform, the vectors file (safetensors) and its checks.

A file holds, per language L, ``vector.<L>`` (float32, the embedding dimension) and ``texts.<L>`` (uint64: a
64-bit hash of every text, both sides, that estimated it, for the leakage check), and as metadata the model
fingerprint, pivot, prompt and per-language provenance (JSON).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from clearir.errors import ClearirError
from clearir.files import write_bytes

FORMAT = "clearir-shift/1"
SUFFIX = ".shift.safetensors"


def text_hash(text: str) -> int:
    """A 64-bit hash of ``text`` with whitespace collapsed (the leakage check compares these)."""
    digest = hashlib.sha256(" ".join(text.split()).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def text_hashes(texts: Iterable[str]) -> np.ndarray:
    """The sorted unique :func:`text_hash` values of ``texts`` (uint64)."""
    return np.unique(np.fromiter((text_hash(t) for t in texts), dtype=np.uint64))


def apply(
    embeddings: np.ndarray,
    languages: Sequence[str],
    vectors: ShiftVectors | Mapping[str, np.ndarray],
    renormalize: bool = False,
    pivot: str = "en",
) -> np.ndarray:
    """SHIFT: subtract its language's vector from each row of ``embeddings``; pivot rows stay as they are.

    Args:
        embeddings: ``[n, dim]`` embeddings (e.g. of the documents of an index), not changed in place.
        languages: the language of each row.
        vectors: a :class:`ShiftVectors` (its pivot is used) or a mapping language -> ``[dim]`` vector.
        renormalize: scale each shifted row back to unit length (measured worse on mixed pools, so off).
        pivot: the language the vectors are relative to (ignored for a :class:`ShiftVectors`).

    Returns:
        A new float32 ``[n, dim]`` array. A row whose language is neither the pivot nor has a vector raises a
        ClearirError: leaving it unshifted would silently mix corrected and uncorrected languages.
    """
    if isinstance(vectors, ShiftVectors):
        pivot, vectors = vectors.pivot, vectors.vectors
    out = np.array(embeddings, dtype=np.float32, copy=True)
    if out.ndim != 2 or out.shape[0] != len(languages):
        raise ClearirError(
            f"SHIFT: expected [n, dim] embeddings with one language per row, got shape {out.shape} "
            f"and {len(languages)} languages"
        )
    langs = np.asarray(languages, dtype=object)
    for lang in dict.fromkeys(languages):
        if lang == pivot:
            continue
        if lang not in vectors:
            raise ClearirError(
                f"SHIFT: no vector for language {lang!r}; the vectors cover {', '.join(sorted(vectors))} "
                f"(pivot {pivot})"
            )
        vector = np.asarray(vectors[lang], dtype=np.float32)
        if vector.shape != (out.shape[1],):
            raise ClearirError(
                f"SHIFT: the {lang} vector has shape {vector.shape}; expected ({out.shape[1]},) as the "
                "embeddings"
            )
        out[langs == lang] -= vector
    if renormalize:
        shifted = langs != pivot
        norms = np.linalg.norm(out[shifted], axis=1, keepdims=True)
        out[shifted] /= np.maximum(norms, 1e-12)
    return out


@dataclass
class ShiftVectors:
    """Language vectors relative to ``pivot`` for one model (``fingerprint``), estimated from texts encoded
    with ``prompt``; ``provenance[L]`` says where L's texts came from, ``texts[L]`` holds their hashes."""

    vectors: dict[str, np.ndarray]
    pivot: str
    prompt: str
    fingerprint: str
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def langs(self) -> list[str]:
        return sorted(self.vectors)

    def save(self, path: str | Path) -> Path:
        """Write the vectors file atomically."""
        from safetensors.numpy import save

        tensors = {f"vector.{lang}": np.asarray(v, dtype=np.float32) for lang, v in self.vectors.items()}
        tensors.update({f"texts.{lang}": np.asarray(h, dtype=np.uint64) for lang, h in self.texts.items()})
        metadata = {
            "format": FORMAT,
            "fingerprint": self.fingerprint,
            "pivot": self.pivot,
            "prompt": self.prompt,
            "provenance": json.dumps(self.provenance, ensure_ascii=False, sort_keys=True),
        }
        return write_bytes(Path(path).expanduser(), save(tensors, metadata=metadata))

    @classmethod
    def load(cls, path: str | Path) -> ShiftVectors:
        """Read a vectors file written by :meth:`save` (``clearir shift fit``)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load

        path = Path(path).expanduser()
        if not path.is_file():
            raise ClearirError(f"{path}: SHIFT vectors file not found; write one with `clearir shift fit`")
        try:
            data = path.read_bytes()
            tensors = load(data)
            header = json.loads(data[8 : 8 + int.from_bytes(data[:8], "little")])
            metadata = header.get("__metadata__") or {}
            if metadata.get("format") != FORMAT:
                raise ValueError(f"format {metadata.get('format')!r}, expected {FORMAT!r}")
            vectors = {name[7:]: t for name, t in tensors.items() if name.startswith("vector.")}
            texts = {name[6:]: t for name, t in tensors.items() if name.startswith("texts.")}
            provenance = json.loads(metadata["provenance"])
            if not vectors or set(texts) != set(vectors):
                raise ValueError("expected a vector and the text hashes of at least one language")
            return cls(
                vectors, metadata["pivot"], metadata["prompt"], metadata["fingerprint"], provenance, texts
            )
        except (OSError, SafetensorError, ValueError, KeyError, TypeError) as exc:
            raise ClearirError(
                f"{path}: not a SHIFT vectors file ({exc}); expected one written by `clearir shift fit`"
            ) from exc

    def check_model(self, fingerprint: str, source: str) -> None:
        """Raise unless the vectors were estimated with the model whose fingerprint is ``fingerprint``."""
        if fingerprint != self.fingerprint:
            raise ClearirError(
                f"SHIFT vectors {source} were estimated with another model (fingerprint "
                f"{self.fingerprint[:12]}, this model's is {fingerprint[:12]}); fit them for this model with "
                "`clearir shift fit`"
            )

    def check_disjoint(self, texts: Mapping[str, Iterable[str]], source: str) -> None:
        """Raise if a text that estimated a vector is one of ``texts`` (name -> texts, e.g. per task)."""
        fitted = {lang: set(h.tolist()) for lang, h in self.texts.items()}
        for name, group in texts.items():
            for text in group:
                h = text_hash(text)
                for lang, hashes in fitted.items():
                    if h in hashes:
                        shown = " ".join(text.split())[:60]
                        raise ClearirError(
                            f"SHIFT leakage: a text that estimated the {lang} vector ({source}, "
                            f"{self.provenance.get(lang, {}).get('source', '?')}) is in the evaluation set "
                            f"({name}: {shown!r}); expected parallel texts disjoint from the evaluated ones"
                        )
