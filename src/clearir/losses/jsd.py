"""InfoNCE plus Jensen–Shannon alignment of the distributions parallel queries induce over the passages."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import torch
from sentence_transformers import SentenceTransformer
from torch import Tensor

from clearir.errors import ClearirError
from clearir.losses.base import DEFAULT_SCALE, RowEmbeddings, RowLoss
from clearir.losses.columns import Columns
from clearir.losses.functional import cosine_scores, info_nce, jsd_rows

JSD_CITATION = """
@misc{hong2026improvingsemanticproximity,
      title={Improving Semantic Proximity in Information Retrieval through Cross-Lingual Alignment},
      author={Seongtae Hong and Youngjoon Jang and Jungseob Lee and Hyeonseok Moon and Heuiseok Lim},
      year={2026},
      eprint={2604.05684},
      archivePrefix={arXiv},
      primaryClass={cs.IR},
      url={https://arxiv.org/abs/2604.05684},
}
"""

DEFAULT_JSD_WEIGHT = 1.0  # λ, the weight of the JSD term


class JSDAlignmentLoss(RowLoss):
    def __init__(
        self,
        model: SentenceTransformer,
        jsd_weight: float = DEFAULT_JSD_WEIGHT,
        query: Literal["lang", "en", "both"] = "lang",
        scale: float = DEFAULT_SCALE,
        mini_batch_size: int | None = None,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        """InfoNCE + λ·JSD (Hong et al., 2026): retrieval plus cross-lingual alignment of parallel queries.

        P = softmax of q_en's scaled cosine scores over the batch's passages [p+; p-], Q = the same for the
        parallel query q_L; JSD(P, Q) = ½·KL(P ‖ M) + ½·KL(Q ‖ M), M = ½·(P + Q), averaged over rows, with
        gradients through both. The InfoNCE term is InfoNCE(q → [p+; p-]) for the chosen query.

        Args:
            model: the SentenceTransformer to train.
            jsd_weight: λ, the weight of the JSD term.
            query: the InfoNCE direction: ``"lang"`` (q_L), ``"en"`` (q_en) or ``"both"`` (their mean).
            scale, mini_batch_size, gather_across_devices, columns: as in :class:`~clearir.losses.CLEARLoss`.

        Inputs:
            +---------------------------------------------------------------------+--------+
            | Columns (by name, any order; others are ignored, not embedded)      | Labels |
            +=====================================================================+========+
            | en_question, lang_question, paragraphs, neg_1..n, n >= 0            | none   |
            +---------------------------------------------------------------------+--------+
            | anchor, cross_anchor, positive, negative_1..n, n >= 0               | none   |
            +---------------------------------------------------------------------+--------+

        Returns (from ``forward``):
            ``{"infonce", "jsd"}``: the InfoNCE term and λ·JSD, which sum to the loss.

        Example:
            ::

                loss = JSDAlignmentLoss(model, jsd_weight=1.0, columns=train_dataset.column_names)
        """
        if query not in ("lang", "en", "both"):
            raise ClearirError(
                f"JSDAlignmentLoss: query must be one of ['lang', 'en', 'both'], got {query!r}"
            )
        if not jsd_weight >= 0:
            raise ClearirError(f"JSDAlignmentLoss: jsd_weight must be >= 0, got {jsd_weight}")
        self.jsd_weight = jsd_weight
        self.query = query
        super().__init__(model, scale, mini_batch_size, gather_across_devices, columns)

    def roles(self) -> tuple[str, ...]:
        return ("en_query", "positive", "negatives", "lang_query")

    def check_columns(self, columns: Columns) -> None:
        columns.require("JSDAlignmentLoss", ("en_query", "lang_query", "positive"))

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        e = embeddings
        if e.en_query is None or e.lang_query is None:
            raise ClearirError("JSDAlignmentLoss needs both en_query and lang_query embeddings")
        candidates, offset = self.gather([e.positive, *e.negatives])
        passages = torch.cat(candidates)
        labels = self.local_labels(e.positive.shape[0], offset, e.positive.device)
        en_scores = cosine_scores(e.en_query, passages, self.scale)
        lang_scores = cosine_scores(e.lang_query, passages, self.scale)
        infonce = {
            "lang": lambda: info_nce(lang_scores, labels),
            "en": lambda: info_nce(en_scores, labels),
            "both": lambda: 0.5 * (info_nce(lang_scores, labels) + info_nce(en_scores, labels)),
        }[self.query]()
        return {"infonce": infonce, "jsd": self.jsd_weight * jsd_rows(en_scores, lang_scores)}

    def get_config_dict(self) -> dict[str, Any]:
        return {"jsd_weight": self.jsd_weight, "query": self.query, **super().get_config_dict()}

    @property
    def citation(self) -> str:
        return self._with_gradcache(JSD_CITATION)
