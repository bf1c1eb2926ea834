"""Estimating SHIFT vectors with a model, and preparing them for an evaluation (checks, ``auto`` fitting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from clearir.errors import ClearirError
from clearir.evaluation.encoder import TextEncoder, resolve_prompt
from clearir.evaluation.scenarios import RetrievalTask, eval_dataset
from clearir.evaluation.settings import DEFAULT_MAX_PAIRS
from clearir.shift.parallel import ParallelTexts, auto_dataset, registry_texts
from clearir.shift.vectors import ShiftVectors, apply, text_hashes


def fit_vectors(
    encoder: TextEncoder,
    parallel: Sequence[ParallelTexts],
    fingerprint: str,
    prompt_name: str = "passage",
    pivot: str = "en",
) -> ShiftVectors:
    """v_L = mean(embeddings of the L texts) - mean(embeddings of their pivot translations), for each language
    of ``parallel``, every text encoded with the model's ``prompt_name`` prompt (the documents' prompt).

    ``fingerprint`` identifies the model (:func:`clearir.evaluation.encoder.model_fingerprint`)."""
    if not parallel:
        raise ClearirError("SHIFT: no parallel texts to fit vectors from")
    prompt = resolve_prompt(encoder.model, prompt_name)
    embeddings, _ = encoder.encode((prompt, t) for p in parallel for t in (*p.texts, *p.pivot_texts))
    vectors, provenance, texts = {}, {}, {}
    for p in parallel:
        if not p.texts:
            raise ClearirError(f"SHIFT: no parallel texts for language {p.lang!r}")
        if p.lang == pivot:
            raise ClearirError(f"SHIFT: {p.lang!r} is the pivot language; expected other languages")
        mean = embeddings.lookup(p.texts, prompt).astype(np.float64).mean(axis=0)
        pivot_mean = embeddings.lookup(p.pivot_texts, prompt).astype(np.float64).mean(axis=0)
        vectors[p.lang] = (mean - pivot_mean).astype(np.float32)
        provenance[p.lang] = {**p.provenance, "max_seq_length": encoder.model.max_seq_length}
        texts[p.lang] = text_hashes([*p.texts, *p.pivot_texts])
    return ShiftVectors(vectors, pivot, prompt, fingerprint, provenance, texts)


@dataclass(frozen=True)
class ShiftSettings:
    """How an evaluation applies SHIFT.

    Args:
        vectors: a vectors file (``clearir shift fit``), or None ("auto": fit them from the registry's
            parallel paragraphs of the dataset not evaluated, see
            :func:`clearir.shift.parallel.auto_dataset`).
        renormalize: scale shifted embeddings back to unit length (measured worse; off).
        queries: shift the queries of non-pivot languages too, not only the documents.
        langs: the languages shifted (default: every non-pivot language of the evaluated pools).
        max_pairs: parallel pairs per language for "auto".
    """

    vectors: str | None = None
    renormalize: bool = False
    queries: bool = False
    langs: tuple[str, ...] | None = None
    max_pairs: int | None = DEFAULT_MAX_PAIRS

    def to_dict(self) -> dict[str, Any]:
        return {
            "vectors": self.vectors or "auto",
            "renormalize": self.renormalize,
            "queries": self.queries,
            "langs": list(self.langs) if self.langs is not None else None,
            "max_pairs": self.max_pairs,
        }


@dataclass(frozen=True)
class Shift:
    """SHIFT ready for one evaluation: checked vectors and the settings that apply them."""

    vectors: ShiftVectors
    settings: ShiftSettings
    langs: frozenset[str]

    def _apply(self, embeddings: np.ndarray, langs: Sequence[str]) -> np.ndarray:
        pivot = self.vectors.pivot
        # Languages left out of ``langs`` map to the pivot: no vector, left as they are.
        langs = [lang if lang in self.langs else pivot for lang in langs]
        return apply(embeddings, langs, self.vectors, self.settings.renormalize)

    def documents(self, task: RetrievalTask, docs: np.ndarray) -> np.ndarray:
        return self._apply(docs, task.doc_langs)

    def queries(self, task: RetrievalTask, queries: np.ndarray) -> np.ndarray:
        if not self.settings.queries:
            return queries
        return self._apply(queries, [task.spec.query_lang] * len(queries))

    def summary(self) -> dict[str, Any]:
        """What the results record about the SHIFT applied."""
        return {
            **self.settings.to_dict(),
            "langs": sorted(self.langs),
            "pivot": self.vectors.pivot,
            "prompt": self.vectors.prompt,
            "fingerprint": self.vectors.fingerprint,
            "provenance": {lang: self.vectors.provenance.get(lang) for lang in sorted(self.langs)},
        }


def prepare_shift(
    settings: ShiftSettings,
    encoder: TextEncoder,
    fingerprint: str,
    tasks: Sequence[RetrievalTask],
    data_dir: str | Path | None = None,
) -> Shift:
    """Load (or, for "auto", fit) the vectors and check them against the model and the tasks: the same
    model, the documents' prompt and pivot, a vector for every shifted language, and no text shared with the
    tasks."""
    datasets = list(dict.fromkeys(t.spec.dataset for t in tasks))
    pivots = {eval_dataset(name).pivot for name in datasets}
    prompts = {resolve_prompt(encoder.model, t.doc_prompt) for t in tasks}
    if len(pivots) != 1 or len(prompts) != 1:
        raise ClearirError(
            f"SHIFT: the datasets {', '.join(datasets)} differ in pivot language or document prompt; "
            "evaluate them separately"
        )
    pivot, prompt = pivots.pop(), prompts.pop()
    pooled = dict.fromkeys(lang for t in tasks for lang in (*t.doc_langs, t.spec.query_lang) if lang != pivot)
    if settings.langs is not None:
        if unknown := [lang for lang in settings.langs if lang not in pooled]:
            raise ClearirError(
                f"--shift-langs {','.join(unknown)}: not evaluated; expected some of {', '.join(pooled)}"
            )
        pooled = dict.fromkeys(settings.langs)
    if not pooled:
        raise ClearirError(f"SHIFT: the evaluation has no language besides the pivot {pivot!r} to shift")
    if settings.vectors is None:
        source = "auto"
        name = next(t.doc_prompt for t in tasks)
        parallel = registry_texts(auto_dataset(datasets), list(pooled), data_dir, settings.max_pairs, pivot)
        vectors = fit_vectors(encoder, parallel, fingerprint, name, pivot)
    else:
        source = str(settings.vectors)
        vectors = ShiftVectors.load(settings.vectors)
        vectors.check_model(fingerprint, source)
    if vectors.pivot != pivot or vectors.prompt != prompt:
        raise ClearirError(
            f"SHIFT vectors {source}: relative to {vectors.pivot!r} with prompt {vectors.prompt!r}; the "
            f"evaluation needs pivot {pivot!r} and the documents' prompt {prompt!r}"
        )
    if missing := [lang for lang in pooled if lang not in vectors.vectors]:
        raise ClearirError(
            f"SHIFT vectors {source}: no vector for {', '.join(missing)} (they cover "
            f"{', '.join(vectors.langs)}); fit them too, or leave them out with --shift-langs"
        )
    vectors.check_disjoint({t.spec.name: [*t.query_texts, *t.doc_texts] for t in tasks}, source)
    return Shift(vectors, settings, frozenset(pooled))
