"""The BM25 tokenizer and scorer: tokens per script, parity with a plain-loop Okapi, real-data sanity."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest

from clearir.data.registry import load_corpus
from clearir.errors import ClearirError
from clearir.rows.bm25 import BM25
from clearir.rows.tokenize import tokenize


def reference_bm25(documents: list[str], query: str, k1: float = 1.2, b: float = 0.75) -> list[float]:
    """Okapi BM25 written out term by term: Lucene idf, unique query terms."""
    docs = [tokenize(d) for d in documents]
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    scores = []
    for doc in docs:
        tf = Counter(doc)
        score = 0.0
        for term in set(tokenize(query)):
            df = sum(1 for other in docs if term in other)
            if df == 0:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(doc) / avgdl))
        scores.append(score)
    return scores


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("The Cat's 3.5 HATS, don't!", ["the", "cat", "s", "3", "5", "hats", "don", "t"]),
        ("Straße Über", ["strasse", "über"]),  # case-folded
        ("हिन्दी भाषा", ["हिन्दी", "भाषा"]),  # vowel signs and virama stay inside the word
        ("北京大学", ["北京", "京大", "大学"]),
        ("中", ["中"]),
        ("ภาษาไทย", ["ภา", "าษ", "ษา", "าไ", "ไท", "ทย"]),
        ("東京タワーは高い", ["東京", "京タ", "タワ", "ワー", "ーは", "は高", "高い"]),
        ("GPT-4模型 ok", ["gpt", "4", "模型", "ok"]),
        ("Привет, мир", ["привет", "мир"]),
        ("  ,.;  ", []),
    ],
)
def test_tokenize(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_scores_match_plain_loop_reference() -> None:
    documents = [
        "The cat sat on the mat. The cat was happy.",
        "A dog barked at the cat; the dog ran.",
        "Dogs and cats: a study of pets and their owners, with many more words than the others have.",
        "北京大学是中国的大学",
        "हिन्दी भाषा का इतिहास",
        "the the the the",
    ]
    queries = ["cat", "the dog dog", "cats owners unknownword", "北京的大学", "भाषा", "zebra", "the"]
    index = BM25(documents)
    got = index.scores(queries)
    assert got.shape == (len(queries), len(documents))
    for i, query in enumerate(queries):
        np.testing.assert_allclose(got[i], reference_bm25(documents, query), rtol=1e-12, atol=1e-12)
    assert got[5].sum() == 0  # a query of unknown terms scores nothing


@pytest.mark.parametrize(("k1", "b"), [(0.9, 0.4), (2.0, 1.0), (1.2, 0.0)])
def test_parameters_match_reference_on_real_paragraphs(data_dir, k1: float, b: float) -> None:
    english = load_corpus("mlqa", "en", data_dir)
    documents = [p.text for p in english.paragraphs[:25]]
    queries = [q.text for q in english.questions[:8]]
    got = BM25(documents, k1=k1, b=b).scores(queries)
    for i, query in enumerate(queries):
        np.testing.assert_allclose(got[i], reference_bm25(documents, query, k1, b), rtol=1e-12, atol=1e-12)


def test_real_questions_find_their_paragraph(data_dir) -> None:
    english = load_corpus("mlqa", "en", data_dir)
    index = BM25([p.text for p in english.paragraphs])
    position = {p.id: i for i, p in enumerate(english.paragraphs)}
    scores = index.scores([q.text for q in english.questions])
    top1 = np.mean([scores[i].argmax() == position[q.paragraph_id] for i, q in enumerate(english.questions)])
    assert top1 > 0.6, top1  # 0.74 measured; chance is 1/978


@pytest.mark.parametrize(("documents", "k1", "b"), [([], 1.2, 0.75), (["x"], -1.0, 0.75), (["x"], 1.2, 1.5)])
def test_bad_parameters(documents: list[str], k1: float, b: float) -> None:
    with pytest.raises(ClearirError, match="BM25"):
        BM25(documents, k1=k1, b=b)
