"""Hard-negative mining: score English passages for each query (BM25 or a dense model), take a rank window.

Ranks are 0-based positions in the query's ranking of the *pool*: every passage except the positive and any
passage whose text equals the positive's. The window ``[lo, hi)`` keeps ranks ``lo .. hi - 1`` (the default
``(50, 100)`` is the 51st to the 100th best, like the reference recipe). When the pool has fewer than ``hi``
passages the window slides down to end at the pool's last rank and keeps its width:
``[max(0, P - (hi - lo)), P)`` for a pool of ``P``. Ties keep corpus order (stable sort), so mining is
deterministic.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

from clearir.errors import ClearirError
from clearir.rows.bm25 import BM25

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Miner = Literal["bm25", "dense"]
MINERS: tuple[Miner, ...] = ("bm25", "dense")
PASSAGE_PROMPTS = ("passage", "document", "corpus")


@dataclass(frozen=True)
class Negative:
    """A mined negative: the passage's index in the scored corpus and its rank in the pool."""

    index: int
    rank: int


def score_bm25(queries: Sequence[str], passages: Sequence[str]) -> np.ndarray:
    """BM25 (k1 = 1.2, b = 0.75, language-aware tokens) scores, shape ``(len(queries), len(passages))``."""
    return BM25(passages).scores(queries)


def score_dense(
    queries: Sequence[str], passages: Sequence[str], model: SentenceTransformer, batch_size: int = 64
) -> np.ndarray:
    """Cosine scores from ``model``, shape ``(len(queries), len(passages))``.

    Queries get the model's ``query`` prompt, passages its first non-empty ``passage``, ``document`` or
    ``corpus`` prompt: sentence-transformers registers an empty ``document`` prompt by default, which must not
    hide e5's ``passage: ``. ``encode_query`` / ``encode_document`` route the two sides of Router models.
    """
    q = model.encode_query(
        list(queries),
        prompt=_prompt(model, ("query",)),
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    p = model.encode_document(
        list(passages),
        prompt=_prompt(model, PASSAGE_PROMPTS),
        batch_size=batch_size,
        normalize_embeddings=True,
        show_progress_bar=False,
    )
    return np.asarray(q, dtype=np.float64) @ np.asarray(p, dtype=np.float64).T


def _prompt(model: SentenceTransformer, names: Sequence[str]) -> str | None:
    return next((model.prompts[name] for name in names if model.prompts.get(name)), None)


DEFAULT_WINDOW = (50, 100)
# Hard negatives (and negative queries) per row: the recipe's, so the default of both the rows built and the
# training (``TrainConfig.num_negatives``, ``clearir data build-train --num-negatives``).
DEFAULT_NUM_NEGATIVES = 3
WINDOW_SYNTAX = "LO:HI, two integers with 0 <= LO < HI, such as 50:100"


def parse_window(value: str | Sequence[int], option: str = "--window") -> tuple[int, int]:
    """A rank window written ``LO:HI`` (or, in a grid file, the list ``[LO, HI]``) as ``(LO, HI)``.

    The one syntax for every command and grid; the old ``LO,HI`` and ``LO-HI`` forms are refused with a hint.
    """
    parts = value.split(":") if isinstance(value, str) else value
    try:
        if isinstance(parts, str) or len(parts) != 2 or any(isinstance(p, bool | float) for p in parts):
            raise ValueError
        lo, hi = (int(part) for part in parts)
    except (TypeError, ValueError):
        raise ClearirError(f"{option} {value!r}: expected {WINDOW_SYNTAX}") from None
    if not 0 <= lo < hi:
        raise ClearirError(f"{option} {format_window((lo, hi))}: expected {WINDOW_SYNTAX}")
    return lo, hi


def format_window(window: tuple[int, int]) -> str:
    """``(50, 100)`` as ``"50:100"``, the syntax :func:`parse_window` reads."""
    return f"{window[0]}:{window[1]}"


def clip_window(window: tuple[int, int], pool_size: int) -> tuple[int, int]:
    """The window used for a pool of ``pool_size`` ranked passages (see the module docstring)."""
    lo, hi = window
    if hi <= pool_size:
        return lo, hi
    return max(0, pool_size - (hi - lo)), pool_size


def mine_negatives(
    scores: np.ndarray,
    excluded: Collection[int],
    eligible: np.ndarray,
    window: tuple[int, int],
    n: int,
    rng: np.random.Generator,
) -> list[Negative] | None:
    """``n`` negatives drawn uniformly from the eligible passages ranked inside the window, in rank order.

    ``scores`` holds one query's scores over all passages; ``excluded`` (the positive and its text duplicates)
    leave the pool before ranking; ``eligible`` (a boolean mask) marks the passages that may be picked.
    Returns None when the window holds fewer than ``n`` eligible passages.
    """
    order = np.argsort(-scores, kind="stable")
    pool = order[~np.isin(order, np.fromiter(excluded, dtype=np.int64))]
    lo, hi = clip_window(window, len(pool))
    candidates = [Negative(int(pool[r]), r) for r in range(lo, hi) if eligible[pool[r]]]
    if len(candidates) < n:
        return None
    picked = np.sort(rng.choice(len(candidates), size=n, replace=False))
    return [candidates[i] for i in picked]
