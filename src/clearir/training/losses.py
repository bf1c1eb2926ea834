"""Loss names -> clearir loss objects with their options, and the data columns each loss reads."""

from __future__ import annotations

from collections.abc import Sequence

from sentence_transformers import SentenceTransformer

from clearir.errors import ClearirError
from clearir.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, RowLoss, SymmetricInfoNCELoss
from clearir.losses.base import ROLE_ORDER
from clearir.losses.columns import ANCHOR_NAMING, CLEARIR_NAMING, QUERY_ROLES, Naming, parse_columns
from clearir.training.config import TrainConfig


def build_loss(config: TrainConfig, model: SentenceTransformer) -> RowLoss:
    """The loss ``config.loss`` names, with the configured options (columns are set later)."""
    common = {
        "scale": config.scale,
        "mini_batch_size": config.mini_batch_size,
        "gather_across_devices": config.gather_across_devices,
    }
    if config.loss == "clear":
        return CLEARLoss(
            model,
            alpha=config.alpha,
            beta=config.beta,
            kl_div=config.kl,
            symmetric_kl=config.symmetric_kl,
            bidirectional_reverse=config.bidirectional_reverse,
            **common,
        )
    if config.loss in ("infonce", "infonce-en"):
        return InfoNCELoss(model, query="en" if config.loss == "infonce-en" else "lang", **common)
    if config.loss == "symmetric":
        return SymmetricInfoNCELoss(model, query="lang", **common)
    return JSDAlignmentLoss(model, jsd_weight=config.jsd_weight, query=config.jsd_query, **common)


def _naming(available: Sequence[str]) -> Naming:
    anchor = (ANCHOR_NAMING.en_query, ANCHOR_NAMING.positive, ANCHOR_NAMING.lang_query)
    return ANCHOR_NAMING if any(name in available for name in anchor) else CLEARIR_NAMING


def loss_columns(loss: RowLoss, available: Sequence[str], num_negatives: int, *, source: str) -> list[str]:
    """The columns ``loss`` reads, with ``num_negatives`` hard negatives, in either accepted column naming."""
    naming = _naming(available)
    have = 0
    while f"{naming.negative}{have + 1}" in available:
        have += 1
    if num_negatives > have:
        raise ClearirError(
            f"--num-negatives {num_negatives}: the data in {source} has only {have} hard negatives per row"
            + (f" ({naming.negative}1..{naming.negative}{have})" if have else "")
        )
    ks = range(1, num_negatives + 1)
    names = {
        "en_query": [naming.en_query],
        "positive": [naming.positive],
        "negatives": [f"{naming.negative}{k}" for k in ks],
        "lang_query": [naming.lang_query],
        "neg_queries": [f"{naming.neg_query}{k}" for k in ks],
    }
    return [name for role in ROLE_ORDER if role in loss.roles() for name in names[role]]


def question_columns(columns: Sequence[str]) -> set[str]:
    """The columns among ``columns`` that hold questions (the others hold passages)."""
    parsed = parse_columns(columns)
    return {parsed.names[i] for role in QUERY_ROLES for i in parsed.positions(role)}
