"""A small Okapi BM25 over sparse matrices (numpy/scipy), with the language-aware tokenizer by default.

score(q, d) = Σ_{t ∈ set(q)} idf(t) · tf(t, d) · (k1 + 1) / (tf(t, d) + k1 · (1 − b + b · |d| / avgdl)),
idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5)) (Lucene's non-negative idf). A query term counts once
however often it repeats; query terms absent from the corpus contribute nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import scipy.sparse as sp

from clearir.errors import ClearirError
from clearir.rows.tokenize import tokenize

Tokenizer = Callable[[str], list[str]]


class BM25:
    """An index over ``documents``; :meth:`scores` gives the (queries × documents) BM25 score matrix.

    Example:
        >>> index = BM25(["the cat sat", "a dog barked", "the cat and the dog"])
        >>> index.scores(["cat"]).argmax()
        0
    """

    def __init__(
        self, documents: Sequence[str], k1: float = 1.2, b: float = 0.75, tokenizer: Tokenizer = tokenize
    ) -> None:
        if not documents:
            raise ClearirError("BM25 needs at least one document, got an empty corpus")
        if k1 < 0 or not 0 <= b <= 1:
            raise ClearirError(f"BM25 expects k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b, self.tokenizer = k1, b, tokenizer
        self.vocabulary: dict[str, int] = {}
        rows, cols = [], []
        for doc, text in enumerate(documents):
            for token in tokenizer(text):
                rows.append(doc)
                cols.append(self.vocabulary.setdefault(token, len(self.vocabulary)))
        ones = np.ones(len(rows), dtype=np.float64)
        shape = (len(documents), max(len(self.vocabulary), 1))
        tf = sp.csr_matrix((ones, (rows, cols)), shape=shape)  # duplicates are summed: term frequencies
        tf.sum_duplicates()
        n_docs = len(documents)
        lengths = np.asarray(tf.sum(axis=1)).ravel()
        avgdl = lengths.mean() if lengths.mean() > 0 else 1.0
        df = np.bincount(tf.indices, minlength=shape[1])
        self.idf = np.log1p((n_docs - df + 0.5) / (df + 0.5))
        norm = k1 * (1 - b + b * lengths / avgdl)
        tf_data = tf.data
        per_row_norm = np.repeat(norm, np.diff(tf.indptr))
        weights = tf.copy()
        weights.data = self.idf[tf.indices] * tf_data * (k1 + 1) / (tf_data + per_row_norm)
        self._weights_t = weights.T.tocsr()  # (terms × documents)

    def scores(self, queries: Sequence[str]) -> np.ndarray:
        """BM25 scores, shape ``(len(queries), len(documents))``, float64."""
        rows, cols = [], []
        for i, query in enumerate(queries):
            terms = {self.vocabulary[t] for t in self.tokenizer(query) if t in self.vocabulary}
            rows.extend([i] * len(terms))
            cols.extend(sorted(terms))
        indicator = sp.csr_matrix(
            (np.ones(len(rows)), (rows, cols)), shape=(len(queries), self._weights_t.shape[0])
        )
        return np.asarray((indicator @ self._weights_t).todense())
