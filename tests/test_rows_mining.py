"""Hard-negative mining: window clipping, picking from the window, and dense scores (tiny and real model)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from clearir.data.registry import load_corpus
from clearir.rows.mining import clip_window, mine_negatives, score_dense
from tests.tiny_model import make_tiny_model


@pytest.mark.parametrize(
    ("window", "pool", "used"),
    [
        ((50, 100), 977, (50, 100)),
        ((50, 100), 100, (50, 100)),
        ((50, 100), 60, (10, 60)),
        ((50, 100), 30, (0, 30)),
    ],
)
def test_clip_window(window: tuple[int, int], pool: int, used: tuple[int, int]) -> None:
    assert clip_window(window, pool) == used


def test_mine_ranks_without_excluded_and_picks_eligible_in_window() -> None:
    scores = np.arange(20, 0, -1, dtype=float)  # passage i is ranked i-th before exclusion
    eligible = np.ones(20, dtype=bool)
    eligible[[6, 8]] = False
    # the pool without 0 and 3 is 1 2 4 5 6 7 8 9 10 11 ..., so ranks 4..9 are passages 6..11
    negatives = mine_negatives(scores, {0, 3}, eligible, (4, 10), 4, np.random.default_rng(0))
    assert negatives is not None
    assert [(n.index, n.rank) for n in negatives] == [(7, 5), (9, 7), (10, 8), (11, 9)]
    assert mine_negatives(scores, {0, 3}, eligible, (4, 10), 5, np.random.default_rng(0)) is None


def test_mine_too_few_and_sampling() -> None:
    scores = np.linspace(1, 0, 50)
    eligible = np.ones(50, dtype=bool)
    assert mine_negatives(scores, {0}, eligible, (10, 13), 4, np.random.default_rng(0)) is None
    picks = {
        tuple(
            n.index for n in mine_negatives(scores, {0}, eligible, (10, 40), 3, np.random.default_rng(seed))
        )
        for seed in range(10)
    }
    assert len(picks) > 1  # sampling depends on the generator
    for pick in picks:
        assert list(pick) == sorted(pick) and all(11 <= i <= 40 for i in pick)
    again = mine_negatives(scores, {0}, eligible, (10, 40), 3, np.random.default_rng(3))
    first = mine_negatives(scores, {0}, eligible, (10, 40), 3, np.random.default_rng(3))
    assert again == first


def test_score_dense_is_cosine_with_prompts() -> None:
    model = make_tiny_model()
    queries = ["where is the river", "how many schools"]
    passages = ["the river is in the city", "two schools were new", "a war century"]
    scores = score_dense(queries, passages, model)
    q = model.encode([f"query: {t}" for t in queries], normalize_embeddings=True)
    p = model.encode([f"passage: {t}" for t in passages], normalize_embeddings=True)
    np.testing.assert_allclose(scores, q @ p.T, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_score_dense_real_model_ranks_positives(base_model_path, data_dir) -> None:
    from sentence_transformers import SentenceTransformer

    english = load_corpus("mlqa", "en", data_dir)
    questions = english.questions[::60][:15]
    paragraphs = list({english.paragraph_of(q).id: english.paragraph_of(q) for q in questions}.values())
    position = {p.id: i for i, p in enumerate(paragraphs)}
    started = time.perf_counter()
    scores = score_dense(
        [q.text for q in questions], [p.text for p in paragraphs], SentenceTransformer(str(base_model_path))
    )
    assert time.perf_counter() - started < 60
    top1 = np.mean([scores[i].argmax() == position[q.paragraph_id] for i, q in enumerate(questions)])
    assert top1 >= 0.8, top1
    negatives = mine_negatives(
        scores[0],
        {position[questions[0].paragraph_id]},
        np.ones(len(paragraphs), bool),
        (3, 10),
        3,
        np.random.default_rng(0),
    )
    assert negatives is not None and all(3 <= n.rank < 10 for n in negatives)
