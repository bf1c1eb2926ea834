"""CLEAR: forward InfoNCE, reverse InfoNCE through the English passage, and their KL alignment."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from torch import Tensor

from clearir.errors import ClearirError
from clearir.losses.base import DEFAULT_SCALE, RowEmbeddings, RowLoss
from clearir.losses.columns import Columns
from clearir.losses.functional import cosine_scores, info_nce, kl_rows

CLEAR_CITATION = """
@inproceedings{lee-etal-2026-clear,
    title = "{CLEAR}: Cross-Lingual Enhancement in Retrieval via Reverse-training",
    author = "Lee, Seungyoon and Kim, Minhyuk and Hong, Seongtae and Jang, Youngjoon and
      Oh, Dongsuk and Lim, Heuiseok",
    booktitle = "Proceedings of the 64th Annual Meeting of the Association for Computational Linguistics
      (Volume 1: Long Papers)",
    year = "2026",
    publisher = "Association for Computational Linguistics",
    url = "https://aclanthology.org/2026.acl-long.13/",
    pages = "347--362",
}
"""

# The paper's weights of the reverse and KL terms.
DEFAULT_ALPHA = 0.4
DEFAULT_BETA = 0.2


def check_clear_options(alpha: float, beta: float, kl: bool, symmetric_kl: bool) -> None:
    """Raise a ClearirError naming the flags unless CLEAR's weights and switches make sense together
    (``kl`` is :class:`CLEARLoss`'s ``kl_div``, ``--kl/--no-kl`` on the command line)."""
    if alpha < 0 or beta < 0 or alpha + (beta if kl else 0) > 1:
        raise ClearirError(
            f"--alpha {alpha} --beta {beta}: expected non-negative weights with "
            "alpha + beta <= 1 (alpha <= 1 with --no-kl)"
        )
    if symmetric_kl and not kl:
        raise ClearirError("--symmetric-kl needs the KL term: drop --no-kl")


class CLEARLoss(RowLoss):
    def __init__(
        self,
        model: SentenceTransformer,
        alpha: float = DEFAULT_ALPHA,
        beta: float = DEFAULT_BETA,
        kl_div: bool = True,
        scale: float = DEFAULT_SCALE,
        symmetric_kl: bool = False,
        bidirectional_reverse: bool = False,
        mini_batch_size: int | None = None,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        """CLEAR (Lee et al., ACL 2026): cross-lingual retrieval training, the English passage as a bridge.

        With cosine scores scaled by ``scale`` and the candidates of the whole batch (in-batch + hard
        negatives, (1 + n)·B of them for B rows with n negatives each):

        - forward = InfoNCE(q_en → [p+; p-]);
        - reverse = InfoNCE(p+ → [q_L; q-]);
        - KL = KL(P_reverse ‖ P_forward) between the row-wise softmaxes (column j of both score matrices
          belongs to the same passage: p_j and its query q_j);
        - loss = (1 - alpha - beta)·forward + alpha·reverse + beta·KL, or without KL (``kl_div=False``)
          (1 - alpha)·forward + alpha·reverse.

        Two variants beyond the paper, off by default: ``symmetric_kl`` replaces KL by
        ½·(KL(P_reverse ‖ P_forward) + KL(P_forward ‖ P_reverse)); ``bidirectional_reverse`` replaces
        reverse by ½·(InfoNCE(p+ → [q_L; q-]) + InfoNCE(q_L → [p+; p-])), so the L query is an anchor too.

        Args:
            model: the SentenceTransformer to train.
            alpha: weight of the reverse term.
            beta: weight of the KL term (unused when ``kl_div`` is False).
            kl_div: whether to include the KL term.
            scale: inverse temperature of the cosine scores.
            symmetric_kl: use the symmetric KL (needs ``kl_div``); not in the paper.
            bidirectional_reverse: add the L query as an anchor of the reverse term; not in the paper.
            mini_batch_size: embed in mini-batches of this many texts with GradCache, so activation memory
                no longer grows with the batch size; the loss and gradients stay those of the whole batch.
                None: one forward pass per batch.
            gather_across_devices: under torch.distributed (DDP), score every query against the candidates of
                all processes (with gradient), so the global batch serves as negatives.
            columns: the dataset's column names; or call :meth:`set_column_names` later.

        Inputs:
            +----------------------------------------------------------------------------+--------+
            | Columns (by name, any order)                                               | Labels |
            +============================================================================+========+
            | (en_question, paragraphs, neg_1..n, lang_question, neg_query_1..n), n >= 0 | none   |
            +----------------------------------------------------------------------------+--------+
            | (anchor, positive, negative_1..n, cross_anchor, neg_query_1..n), n >= 0    | none   |
            +----------------------------------------------------------------------------+--------+

        Returns (from ``forward``):
            ``{"forward", "reverse", "kl"}``: the weighted terms, which sum to the loss (no ``"kl"`` without
            KL). sentence-transformers' trainer sums such a dict and logs each entry.

        Example:
            ::

                from datasets import Dataset
                from sentence_transformers import SentenceTransformer, SentenceTransformerTrainer
                from sentence_transformers import SentenceTransformerTrainingArguments
                from clearir.losses import CLEARLoss, column_prompts

                model = SentenceTransformer("intfloat/multilingual-e5-small")
                train = Dataset.from_dict({
                    "en_question": ["Who wrote Faust?"], "paragraphs": ["Faust is a play by Goethe."],
                    "neg_1": ["Berlin is the capital."], "lang_question": ["Wer schrieb Faust?"],
                    "neg_query_1": ["Was ist die Hauptstadt?"],
                })
                loss = CLEARLoss(model, columns=train.column_names, mini_batch_size=16)
                args = SentenceTransformerTrainingArguments(
                    "out", prompts=column_prompts(model, train.column_names)
                )
                SentenceTransformerTrainer(model=model, args=args, train_dataset=train, loss=loss).train()
        """
        check_clear_options(alpha, beta, kl_div, symmetric_kl)
        self.alpha = alpha
        self.beta = beta
        self.kl_div = kl_div
        self.symmetric_kl = symmetric_kl
        self.bidirectional_reverse = bidirectional_reverse
        super().__init__(model, scale, mini_batch_size, gather_across_devices, columns)

    def roles(self) -> tuple[str, ...]:
        return ("en_query", "positive", "negatives", "lang_query", "neg_queries")

    def check_columns(self, columns: Columns) -> None:
        columns.require("CLEARLoss", ("en_query", "positive", "lang_query"), same_n=True)

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        e = embeddings
        if e.en_query is None or e.lang_query is None or len(e.negatives) != len(e.neg_queries):
            raise ClearirError("CLEARLoss needs en_query, lang_query and as many neg_queries as negatives")
        candidates, offset = self.gather([e.positive, *e.negatives, e.lang_query, *e.neg_queries])
        blocks = 1 + len(e.negatives)
        passages = torch.cat(candidates[:blocks])  # [p+; p-_1; ...; p-_n] of the (global) batch
        queries = torch.cat(candidates[blocks:])  # [q_L; q-_1; ...; q-_n], column j is the query of passage j
        labels = self.local_labels(e.positive.shape[0], offset, e.positive.device)
        forward_scores = cosine_scores(e.en_query, passages, self.scale)
        reverse_scores = cosine_scores(e.positive, queries, self.scale)
        forward = info_nce(forward_scores, labels)
        reverse = info_nce(reverse_scores, labels)
        if self.bidirectional_reverse:
            reverse = 0.5 * (reverse + info_nce(cosine_scores(e.lang_query, passages, self.scale), labels))
        if not self.kl_div:
            return {"forward": (1.0 - self.alpha) * forward, "reverse": self.alpha * reverse}
        kl = kl_rows(reverse_scores, forward_scores)
        if self.symmetric_kl:
            kl = 0.5 * (kl + kl_rows(forward_scores, reverse_scores))
        return {
            "forward": (1.0 - self.alpha - self.beta) * forward,
            "reverse": self.alpha * reverse,
            "kl": self.beta * kl,
        }

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "kl_div": self.kl_div,
            "symmetric_kl": self.symmetric_kl,
            "bidirectional_reverse": self.bidirectional_reverse,
            **super().get_config_dict(),
        }

    @property
    def citation(self) -> str:
        return self._with_gradcache(CLEAR_CITATION)
