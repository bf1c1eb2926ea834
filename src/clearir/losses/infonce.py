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


def check_query(owner: str, query: str, allowed: Sequence[str]) -> None:
    if query not in allowed:
        raise ClearirError(f"{owner}: query must be one of {list(allowed)}, got {query!r}")


def query_of(embeddings: RowEmbeddings, query: str) -> Tensor:
    """The query embeddings of ``query`` ("lang": q_L, "en": q_en)."""
    tensor = embeddings.lang_query if query == "lang" else embeddings.en_query
    if tensor is None:
        raise ClearirError(f"the {QUERY_ROLE[query]} embeddings are missing")
    return tensor


class InfoNCELoss(RowLoss):
    def __init__(
        self,
        model: SentenceTransformer,
        query: QueryLanguage = "lang",
        scale: float = DEFAULT_SCALE,
        mini_batch_size: int | None = None,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
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
        check_query("InfoNCELoss", query, ("lang", "en"))
        self.query = query
        super().__init__(model, scale, mini_batch_size, gather_across_devices, columns)

    def roles(self) -> tuple[str, ...]:
        return (QUERY_ROLE[self.query], "positive", "negatives")

    def check_columns(self, columns: Columns) -> None:
        columns.require(f"InfoNCELoss(query={self.query!r})", (QUERY_ROLE[self.query], "positive"))

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        queries = query_of(embeddings, self.query)
        candidates, offset = self.gather([embeddings.positive, *embeddings.negatives])
        labels = self.local_labels(queries.shape[0], offset, queries.device)
        return {"infonce": info_nce(cosine_scores(queries, torch.cat(candidates), self.scale), labels)}

    def get_config_dict(self) -> dict[str, Any]:
        return {"query": self.query, **super().get_config_dict()}

    @property
    def citation(self) -> str:
        return self._with_gradcache(INFONCE_CITATION)
