"""Which clearir tasks are MTEB tasks, and under which task name, subset, split and language codes.

Declared as data from mteb's own task definitions (mteb 2.26.24, ``mteb/tasks/retrieval/multilingual``), so
clearir writes results mteb recognises without importing mteb:

* ``XQuADRetrieval``: monolingual only, subset = the ISO 639-1 code (``de``), split ``validation``.
* ``MLQARetrieval``: subset ``<corpus>-<queries>`` in ISO 639-3 (``eng-deu``: English paragraphs, German
  questions, i.e. clearir's de→en), split ``validation``; the corpus is the paragraphs of the question set.
  All 49 pairs, so every cell of clearir's MLQA-R ``matrix`` is one (``ara-deu``: de→ar).
* ``BelebeleRetrieval``: subset ``<corpus>-<queries>`` in FLORES-200 codes (``eng_Latn-deu_Latn``), split
  ``test``; queries are keyed by their text (a repeated question is one query). Only pairs with English and
  same-language pairs: a ``matrix`` cell of two other languages is not one of its subsets.

A ``matrix`` cell is the same task as the monolingual or cross-lingual direction of its languages, so it is
the same subset (written once when both ran).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clearir.data.belebele import belebele_code

# The mteb release whose task definitions these follow; written as ``mteb_version``.
MTEB_VERSION = "2.26.24"

_XQUAD = {
    "ar": "arb-Arab", "de": "deu-Latn", "el": "ell-Grek", "en": "eng-Latn", "es": "spa-Latn",
    "hi": "hin-Deva", "ro": "ron-Latn", "ru": "rus-Cyrl", "th": "tha-Thai", "tr": "tur-Latn",
    "vi": "vie-Latn", "zh": "zho-Hans",
}  # fmt: skip
_MLQA = {
    "ar": "ara-Arab", "de": "deu-Latn", "en": "eng-Latn", "es": "spa-Latn", "hi": "hin-Deva",
    "vi": "vie-Latn", "zh": "zho-Hans",
}  # fmt: skip


@dataclass(frozen=True)
class MtebSubset:
    """One subset of an MTEB task: ``languages`` as mteb lists them (corpus first for MLQA and Belebele);
    ``queries_by_text``: mteb merges questions with the same text into one query."""

    task: str
    subset: str
    split: str
    languages: list[str] = field(hash=False)
    queries_by_text: bool = False


def mteb_subset(dataset: str, scenario: str, query_lang: str, doc_langs: Sequence[str]) -> MtebSubset | None:
    """The MTEB subset a clearir task (``dataset``, ``scenario``, query language, pool languages) is, or None
    for the tasks MTEB lacks (cross-lingual XQuAD, mixed pools, MLQA's wide pool, bitext)."""
    if len(doc_langs) != 1:
        return None
    corpus = doc_langs[0]
    if scenario == "matrix":
        # A cell is the classic direction of its languages; any MLQA-R pair is one of mteb's.
        if corpus == query_lang:
            scenario = "monolingual"
        elif "en" in (corpus, query_lang) or dataset == "mlqa":
            scenario = "crosslingual"
        else:
            return None
    if dataset == "xquad" and scenario == "monolingual" and query_lang in _XQUAD:
        return MtebSubset("XQuADRetrieval", query_lang, "validation", [_XQUAD[query_lang]])
    mlqa_pair = corpus in _MLQA and query_lang in _MLQA
    if dataset == "mlqa" and scenario in ("monolingual", "crosslingual") and mlqa_pair:
        langs = [_MLQA[corpus], _MLQA[query_lang]]
        return MtebSubset("MLQARetrieval", "-".join(code[:3] for code in langs), "validation", langs)
    if dataset == "belebele" and scenario in ("monolingual", "crosslingual"):
        codes = [belebele_code(corpus), belebele_code(query_lang)]
        return MtebSubset(
            "BelebeleRetrieval",
            "-".join(codes),
            "test",
            [code.replace("_", "-") for code in codes],
            queries_by_text=True,
        )
    return None


def mteb_model_name(model_name: str) -> str:
    """The ``organization/model`` name mteb requires, from clearir's results folder name: a hub name saved as
    ``intfloat__multilingual-e5-small`` gets its ``/`` back, any other name without ``/`` is
    ``clearir/<name>``."""
    if "/" in model_name:
        return model_name
    return model_name.replace("__", "/", 1) if "__" in model_name else f"clearir/{model_name}"


def mteb_model_folder(model_name: str) -> str:
    """The folder mteb reads a model's results from (its ``model_name_as_path``)."""
    return mteb_model_name(model_name).replace("/", "__").replace(" ", "_")


def model_meta(
    model_name: str,
    revision: str,
    *,
    n_parameters: int | None,
    embed_dim: int | None,
    max_tokens: int | None,
    similarity: str | None,
) -> dict[str, Any]:
    """``model_meta.json`` as mteb's ``ModelMeta.to_dict()`` writes it; unknown facts are None."""
    return {
        "loader": None,
        "loader_kwargs": {},
        "name": mteb_model_name(model_name),
        "revision": revision,
        "release_date": None,
        "languages": None,
        "n_parameters": n_parameters,
        "n_active_parameters_override": None,
        "n_embedding_parameters": None,
        "memory_usage_mb": None,
        "max_tokens": max_tokens,
        "embed_dim": embed_dim,
        "license": None,
        "open_weights": True,
        "public_training_code": None,
        "public_training_data": None,
        "framework": ["Sentence Transformers", "PyTorch"],
        "reference": None,
        "similarity_fn_name": similarity if similarity in ("cosine", "dot") else None,
        "use_instructions": None,
        "training_datasets": None,
        "adapted_from": None,
        "superseded_by": None,
        "modalities": ["text"],
        "model_type": ["dense"],
        "citation": None,
        "contacts": None,
        "experiment_kwargs": None,
        "output_dtypes": None,
        "extra_requirements_groups": None,
        "is_cross_encoder": False,
    }
