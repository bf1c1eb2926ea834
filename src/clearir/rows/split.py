"""The XQuAD article-level split: a fixed, deterministic set of held-out articles that training never sees.

XQuAD is an evaluation set; training rows built from it use only the *train* articles, and an evaluation after
such training must use only the *held-out* ones. An article is identified by its title (XQuAD titles are the
English SQuAD titles in every language file). The held-out articles are the half (rounded up) of the titles
with the smallest SHA-256 digests, so the split depends on nothing but the titles: not on file order,
language, seed or options. For the 48 XQuAD articles: 24 held out, 24 for training. (MLQA-R needs no split:
its Wikipedia articles are disjoint from XQuAD's SQuAD articles.)
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable

XQUAD_HELDOUT_FRACTION = 0.5


def heldout_articles(titles: Iterable[str], fraction: float = XQUAD_HELDOUT_FRACTION) -> frozenset[str]:
    """The held-out titles: ``ceil(fraction · n)`` of the n distinct ``titles``, in SHA-256 order."""
    unique = sorted(set(titles), key=lambda title: hashlib.sha256(title.encode("utf-8")).hexdigest())
    return frozenset(unique[: math.ceil(fraction * len(unique))])
