"""What an evaluation of ``clearir run`` / ``clearir ablate`` covers: datasets, languages, scenarios, query
budget, batch and token limit, and SHIFT."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from clearir.fields import setting

EvalScope = Literal["all", "own"]
EVAL_SCOPES: tuple[str, ...] = get_args(EvalScope)

# The parallel paragraph pairs per language SHIFT's vectors are fitted from (MLQA-R has 408 to 443 per
# language, XQuAD 240). 100 rather than 400: on the base model (XQuAD, all questions, the 12 bilingual pools
# of ar, de, es, hi, vi, zh) Complete@10 stays within 0.007 of 400 pairs' (README, SHIFT), for a quarter of
# the texts to encode.
DEFAULT_MAX_PAIRS = 100

# What a question-answering dataset (XQuAD, MLQA-R, Belebele) runs when no scenario is named.
CLASSIC_SCENARIOS = ("monolingual", "crosslingual", "bilingual", "multilingual")
# On request: every query language x every document language, and the bilingual pool of any two languages.
MATRIX_SCENARIOS = ("matrix", "pairs")
QA_SCENARIOS = (*CLASSIC_SCENARIOS, *MATRIX_SCENARIOS)


@dataclass(frozen=True)
class EvalSettings:
    """The evaluation every model of an experiment gets (the base model, each fine-tuned one)."""

    eval_datasets: tuple[str, ...] = setting(("xquad",), "Evaluation datasets: xquad, mlqa.")
    eval_langs: tuple[str, ...] = setting(
        (), "Languages evaluated besides the training ones (zero-shot); '' for none."
    )
    eval_scope: EvalScope = setting(
        "all",
        "The languages of a fine-tuned model's evaluation: all (every evaluated language) or own (its "
        "training languages; a multilingual model's also eval_langs). The base model is evaluated on all.",
    )
    scenarios: tuple[str, ...] = setting(
        ("monolingual", "crosslingual", "bilingual"), f"Evaluation scenarios: {', '.join(QA_SCENARIOS)}."
    )
    eval_max_queries: int | None = setting(300, "Questions per evaluation task (0: all).")
    eval_batch_size: int = setting(32, "Texts per forward pass when evaluating.")
    eval_max_seq_length: int | None = setting(256, "Evaluation token limit (0: the model's own).")
    shift: bool = setting(
        True,
        "Also evaluate every model + SHIFT (vectors fitted per model from MLQA-R), side by side.",
        flag="--shift/--no-shift",
    )
    shift_max_pairs: int | None = setting(
        DEFAULT_MAX_PAIRS, "Parallel paragraph pairs per language SHIFT's vectors are fitted from (0: all)."
    )
