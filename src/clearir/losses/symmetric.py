"""Symmetric InfoNCE baseline: query → passages and passage → queries, averaged."""

from __future__ import annotations

import torch
from torch import Tensor

from clearir.losses.base import RowEmbeddings
from clearir.losses.functional import cosine_scores, info_nce
from clearir.losses.infonce import QueryLoss

SYMMETRIC_CITATION = """
@misc{günther2024jinaembeddings28192token,
      title={Jina Embeddings 2: 8192-Token General-Purpose Text Embeddings for Long Documents},
      author={Michael Günther and Jackmin Ong and Isabelle Mohr and Alaeddine Abdessalem and Tanguy Abel
        and Mohammad Kalim Akram and Susana Guzman and Georgios Mastrapas and Saba Sturua and Bo Wang
        and Maximilian Werk and Nan Wang and Han Xiao},
      year={2024},
      eprint={2310.19923},
      archivePrefix={arXiv},
      primaryClass={cs.CL},
      url={https://arxiv.org/abs/2310.19923},
}
"""


class SymmetricInfoNCELoss(QueryLoss):
    """Symmetric InfoNCE: loss = ½·InfoNCE(q → [p+; p-]) + ½·InfoNCE(p+ → [q]).

    The backward direction scores each positive passage against the batch's queries (the same query
    column as the forward direction, no negative queries), as in sentence-transformers'
    MultipleNegativesRankingLoss with ``directions=("query_to_doc", "doc_to_query")``,
    ``partition_mode="per_direction"``. It differs from CLEAR's reverse term, which goes from the English
    passage to target-language queries with negative queries, while CLEAR's forward term uses q_en.

    Args:
        model: the SentenceTransformer to train.
        query: ``"lang"`` (q_L) or ``"en"`` (q_en), used in both directions.
        scale, mini_batch_size, gather_across_devices, columns: as in :class:`~clearir.losses.CLEARLoss`.

    Inputs:
        the columns of :class:`~clearir.losses.InfoNCELoss`: the query column, the positive and the
        negatives, by name in either naming; no labels.

    Returns (from ``forward``):
        ``{"forward", "backward"}``: the two halves, which sum to the loss.

    Example:
        ::

            loss = SymmetricInfoNCELoss(model, query="lang", columns=train_dataset.column_names)
    """

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        queries = self.queries(embeddings)
        gathered, offset = self.gather([queries, embeddings.positive, *embeddings.negatives])
        labels = self.local_labels(queries.shape[0], offset, queries.device)
        forward = info_nce(cosine_scores(queries, torch.cat(gathered[1:]), self.scale), labels)
        backward = info_nce(cosine_scores(embeddings.positive, gathered[0], self.scale), labels)
        return {"forward": 0.5 * forward, "backward": 0.5 * backward}

    @property
    def citation(self) -> str:
        return self._with_gradcache(SYMMETRIC_CITATION)
