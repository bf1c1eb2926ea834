"""Training-row columns, identified by name.

A CLEAR training row holds an English query q_en, its English positive passage p+, n hard-negative passages
p-_1..n, the target-language query q_L and n negative target-language queries q-_1..n (the q_L of the
passages p-_k). Two namings of these columns are accepted, never a mix of both:

- q_en: ``en_question`` / ``anchor``
- p+: ``paragraphs`` / ``positive``
- p-_k: ``neg_k`` / ``negative_k``
- q_L: ``lang_question`` / ``cross_anchor``
- q-_k: ``neg_query_k`` (both namings)

Negatives are numbered 1..n without gaps (n >= 0). The columns may come in any order: the losses find them
by name. ``label`` and ``score`` columns are ignored, as the sentence-transformers data collator takes them
out of the model inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from clearir.errors import ClearirError

# Consumed by the sentence-transformers data collator as labels, so they never reach a loss as a column.
LABEL_COLUMNS = frozenset({"label", "score"})

QUERY_ROLES = ("en_query", "lang_query", "neg_queries")
PASSAGE_ROLES = ("positive", "negatives")


@dataclass(frozen=True)
class Naming:
    """One accepted naming of the columns."""

    en_query: str
    positive: str
    negative: str  # prefix, followed by 1..n
    lang_query: str
    neg_query: str = "neg_query_"

    def describe(self) -> str:
        return (
            f"{self.en_query}, {self.positive}, {self.negative}1..{self.negative}n, {self.lang_query}, "
            f"{self.neg_query}1..{self.neg_query}n"
        )

    def name(self, role: str) -> str:
        """The column name (or ``prefix<k>`` pattern) of ``role`` in this naming."""
        return {
            "en_query": self.en_query,
            "positive": self.positive,
            "negatives": f"{self.negative}<k>",
            "lang_query": self.lang_query,
            "neg_queries": f"{self.neg_query}<k>",
        }[role]


CLEARIR_NAMING = Naming("en_question", "paragraphs", "neg_", "lang_question")
ANCHOR_NAMING = Naming("anchor", "positive", "negative_", "cross_anchor")
NAMINGS = (CLEARIR_NAMING, ANCHOR_NAMING)

EXPECTED = " or ".join(f"({naming.describe()})" for naming in NAMINGS) + " with n >= 0, in any order"


@dataclass(frozen=True)
class Columns:
    """Where each role sits among the input columns (positions into the loss's ``sentence_features``)."""

    names: tuple[str, ...]
    naming: Naming
    positive: int | None
    negatives: tuple[int, ...]
    en_query: int | None
    lang_query: int | None
    neg_queries: tuple[int, ...]

    def has(self, role: str) -> bool:
        value = getattr(self, role)
        return bool(value) if isinstance(value, tuple) else value is not None

    def require(self, owner: str, roles: Iterable[str], same_n: bool = False) -> None:
        """Raise a :class:`ClearirError` naming what ``owner`` misses among ``roles``.

        ``same_n``: the numbers of negative passages and negative queries must be equal.
        """
        missing = [role for role in roles if role not in ("negatives", "neg_queries") and not self.has(role)]
        if missing:
            wanted = ", ".join(self.naming.name(role) for role in missing)
            raise ClearirError(
                f"{owner} needs the column(s) {wanted}; got {list(self.names)}. Expected {EXPECTED}"
            )
        if same_n and len(self.negatives) != len(self.neg_queries):
            raise ClearirError(
                f"{owner} needs as many negative queries as negative passages (q-_k is the query of p-_k); "
                f"got {len(self.negatives)} {self.naming.negative}k and {len(self.neg_queries)} "
                f"{self.naming.neg_query}k columns in {list(self.names)}"
            )

    def positions(self, role: str) -> tuple[int, ...]:
        """The positions of ``role``'s columns (empty when absent)."""
        value = getattr(self, role)
        if isinstance(value, tuple):
            return value
        return () if value is None else (value,)


_NUMBERED = re.compile(r"^(neg_query_|negative_|neg_)([1-9][0-9]*)$")


def parse_columns(names: Sequence[str]) -> Columns:
    """Identify the role of every column by its name; raise a :class:`ClearirError` on anything else."""
    names = tuple(names)
    got = f"got {list(names)}"
    if len(set(names)) != len(names):
        raise ClearirError(f"column names repeat: {got}")
    inputs = [name for name in names if name not in LABEL_COLUMNS]
    fixed: dict[str, int] = {}
    numbered: dict[str, dict[int, int]] = {"neg_": {}, "negative_": {}, "neg_query_": {}}
    for position, name in enumerate(inputs):
        if match := _NUMBERED.match(name):
            numbered[match.group(1)][int(match.group(2))] = position
        elif any(name in (n.en_query, n.positive, n.lang_query) for n in NAMINGS):
            fixed[name] = position
        else:
            raise ClearirError(f"unknown column {name!r}: {got}. Expected {EXPECTED}")
    used = [
        naming
        for naming in NAMINGS
        if numbered[naming.negative]
        or any(name in fixed for name in (naming.en_query, naming.positive, naming.lang_query))
    ]
    if len(used) > 1:
        raise ClearirError(f"columns mix the two namings: {got}. Expected {EXPECTED}")
    naming = used[0] if used else CLEARIR_NAMING
    for prefix, found in numbered.items():
        if found and sorted(found) != list(range(1, len(found) + 1)):
            raise ClearirError(
                f"columns {prefix}k must be numbered 1..n without gaps; found k = {sorted(found)}: {got}"
            )
    return Columns(
        names=tuple(inputs),
        naming=naming,
        positive=fixed.get(naming.positive),
        negatives=tuple(position for _, position in sorted(numbered[naming.negative].items())),
        en_query=fixed.get(naming.en_query),
        lang_query=fixed.get(naming.lang_query),
        neg_queries=tuple(position for _, position in sorted(numbered[naming.neg_query].items())),
    )


def query_prompt(model: Any) -> str:
    """The model's ``"query"`` prompt ("" when it has none)."""
    return (getattr(model, "prompts", None) or {}).get("query") or ""


def passage_prompt(model: Any) -> str:
    """The model's passage prompt: the first non-empty of ``"document"``, ``"passage"``, ``"corpus"``.

    Not ``SentenceTransformer.encode_document``'s choice: sentence-transformers 6.2 gives every model a blank
    ``"document"`` prompt, which ``encode_document`` prefers to an e5 model's ``"passage"`` prompt. Encode
    passages with ``prompt=passage_prompt(model)`` to match training.
    """
    prompts = getattr(model, "prompts", None) or {}
    return next((prompts[key] for key in ("document", "passage", "corpus") if prompts.get(key)), "")


def column_prompts(model: Any, names: Sequence[str]) -> dict[str, str]:
    """The per-column prompts for ``SentenceTransformerTrainingArguments(prompts=...)``.

    Query columns get :func:`query_prompt`, passage columns :func:`passage_prompt` (e5: ``"query: "`` /
    ``"passage: "``), so training sees the texts as retrieval does; columns without a prompt are left out.
    The data collator prepends the prompts before tokenising: a loss only ever sees token ids.
    """
    columns = parse_columns(names)
    result: dict[str, str] = {}
    for roles, prompt in ((QUERY_ROLES, query_prompt(model)), (PASSAGE_ROLES, passage_prompt(model))):
        if prompt:
            for role in roles:
                result.update({columns.names[position]: prompt for position in columns.positions(role)})
    return result
