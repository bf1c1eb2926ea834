"""InfoNCE baseline: a query against [p+; p-] of the whole batch, in the cross-lingual or English form."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from sentence_transformers import SentenceTransformer
from torch import Tensor

from clearir.errors import ClearirError
from clearir.losses.base import DEFAULT_SCALE, RowEmbeddings, RowLoss
from clearir.losses.columns import Columns
from clearir.losses.functional import cosine_scores, info_nce

QueryLanguage = Literal["lang", "en"]
QUERY_ROLE = {"lang": "lang_query", "en": "en_query"}

INFONCE_CITATION = """
@misc{oord2019representationlearningcontrastivepredictive,
      title={Representation Learning with Contrastive Predictive Coding},
      author={Aaron van den Oord and Yazhe Li and Oriol Vinyals},
      year={2019},
      eprint={1807.03748},
      archivePrefix={arXiv},
      primaryClass={cs.LG},
      url={https://arxiv.org/abs/1807.03748},
}
"""


class QueryLoss(RowLoss):
    """Base of the losses of one query column, q_L (``query="lang"``) or q_en (``query="en"``), against the
    passages [p+; p-]: it checks ``query``, embeds that query column, the positive and the negatives, and
    reports ``query`` in the config. A subclass computes its components from :meth:`queries` and the
    passages."""

    def __init__(
        self,
        model: SentenceTransformer,
        query: QueryLanguage = "lang",
        scale: float = DEFAULT_SCALE,
        mini_batch_size: int | None = None,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        if query not in QUERY_ROLE:
            raise ClearirError(
                f"{type(self).__name__}: query must be one of {list(QUERY_ROLE)}, got {query!r}"
            )
        self.query = query
        super().__init__(model, scale, mini_batch_size, gather_across_devices, columns)

    def roles(self) -> tuple[str, ...]:
        return (QUERY_ROLE[self.query], "positive", "negatives")

    def check_columns(self, columns: Columns) -> None:
        columns.require(f"{type(self).__name__}(query={self.query!r})", (QUERY_ROLE[self.query], "positive"))

    def queries(self, embeddings: RowEmbeddings) -> Tensor:
        """The embeddings of the query column (q_L or q_en)."""
        tensor = embeddings.lang_query if self.query == "lang" else embeddings.en_query
        if tensor is None:
            raise ClearirError(f"the {QUERY_ROLE[self.query]} embeddings are missing")
        return tensor

    def get_config_dict(self) -> dict[str, Any]:
        return {"query": self.query, **super().get_config_dict()}


class InfoNCELoss(QueryLoss):
    """InfoNCE over in-batch and hard negatives: loss = InfoNCE(q → [p+; p-]).

    The baseline of the CLEAR paper: ``query="lang"`` is its cross-lingual form (target-language query
    q_L against English passages), ``query="en"`` the English form (q_en). Equivalent to
    sentence-transformers' MultipleNegativesRankingLoss, with the columns found by name.

    Args:
        model: the SentenceTransformer to train.
        query: ``"lang"`` (q_L, cross-lingual) or ``"en"`` (q_en).
        scale, mini_batch_size, gather_across_devices, columns: as in :class:`~clearir.losses.CLEARLoss`.

    Inputs:
        +----------------------------------------------------------------+--------+
        | Columns (by name, any order; others are ignored, not embedded) | Labels |
        +================================================================+========+
        | lang_question (or en_question), paragraphs, neg_1..n, n >= 0   | none   |
        +----------------------------------------------------------------+--------+
        | cross_anchor (or anchor), positive, negative_1..n, n >= 0      | none   |
        +----------------------------------------------------------------+--------+

    Returns (from ``forward``):
        ``{"infonce": loss}``.

    Example:
        ::

            loss = InfoNCELoss(model, query="lang", columns=train_dataset.column_names)
    """

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        queries = self.queries(embeddings)
        candidates, offset = self.gather([embeddings.positive, *embeddings.negatives])
        labels = self.local_labels(queries.shape[0], offset, queries.device)
        return {"infonce": info_nce(cosine_scores(queries, torch.cat(candidates), self.scale), labels)}

    @property
    def citation(self) -> str:
        return self._with_gradcache(INFONCE_CITATION)
