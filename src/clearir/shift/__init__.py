"""SHIFT (Jang, Hong, Moon, Lim, 2026, "Semantic Harmonization via Index-side Feature Transformation for
Multilingual Information Retrieval"): a training-free correction of the language offset at indexing.

v_L = mean(embeddings of L texts) - mean(embeddings of their pivot (English) translations), from parallel
texts encoded with the documents' prompt; each L document embedding has v_L subtracted before it is indexed.
Without renormalisation, every score of a query against L documents moves by the same amount, so
single-language rankings are unchanged and only mixed-language pools move.

``apply`` and ``ShiftVectors`` (``vectors``) need only numpy; ``fit_vectors`` and ``prepare_shift``
(``fit``) encode with a model; ``parallel`` reads the parallel texts.
"""

from clearir.shift.fit import Shift, ShiftSettings, fit_vectors, prepare_shift
from clearir.shift.parallel import ParallelTexts, file_texts, registry_texts, rows_texts
from clearir.shift.vectors import ShiftVectors, apply

__all__ = [
    "ParallelTexts",
    "Shift",
    "ShiftSettings",
    "ShiftVectors",
    "apply",
    "file_texts",
    "fit_vectors",
    "prepare_shift",
    "registry_texts",
    "rows_texts",
]
