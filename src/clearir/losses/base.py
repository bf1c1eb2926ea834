"""What every clearir loss shares: columns by name, embedding, GradCache, gathering across processes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.base.losses import has_static_embedding_input
from sentence_transformers.base.losses.merged_forward import embed_columns
from torch import Tensor, nn

from clearir.errors import ClearirError
from clearir.losses.columns import QUERY_ROLES, Columns, parse_columns
from clearir.losses.distributed import gather_rows
from clearir.losses.gradcache import CachedComponents

# The paper's inverse temperature of the cosine scores (CLEAR, and its baselines' defaults).
DEFAULT_SCALE = 20.0

ROLE_ORDER = ("en_query", "positive", "negatives", "lang_query", "neg_queries")

GRADCACHE_CITATION = """
@misc{gao2021scaling,
    title={Scaling Deep Contrastive Learning Batch Size under Memory Limited Setup},
    author={Luyu Gao and Yunyi Zhang and Jiawei Han and Jamie Callan},
    year={2021},
    eprint={2101.06983},
    archivePrefix={arXiv},
    primaryClass={cs.LG}
}
"""


@dataclass
class RowEmbeddings:
    """The embeddings of one batch of training rows, by role; each tensor is ``(rows, dim)``.

    ``negatives[k]`` holds the k-th hard-negative passage of every row, ``neg_queries[k]`` its query.
    Roles a loss does not use may be left out.
    """

    positive: Tensor
    negatives: list[Tensor] = field(default_factory=list)
    en_query: Tensor | None = None
    lang_query: Tensor | None = None
    neg_queries: list[Tensor] = field(default_factory=list)


class RowLoss(CachedComponents, nn.Module):
    """Base of the clearir losses (see :class:`~clearir.losses.CLEARLoss` for the shared arguments).

    A subclass declares the roles it embeds (:meth:`roles`), checks the columns (:meth:`check_columns`) and
    computes its components from a :class:`RowEmbeddings` (:meth:`compute_loss_from_embeddings`).
    """

    def __init__(
        self,
        model: SentenceTransformer,
        scale: float = DEFAULT_SCALE,
        mini_batch_size: int | None = None,
        gather_across_devices: bool = False,
        columns: Sequence[str] | None = None,
    ) -> None:
        super().__init__()
        if not scale > 0:
            raise ClearirError(f"{type(self).__name__}: scale must be positive, got {scale}")
        if mini_batch_size is not None:
            if (
                isinstance(mini_batch_size, bool)
                or not isinstance(mini_batch_size, int)
                or mini_batch_size < 1
            ):
                raise ClearirError(
                    f"{type(self).__name__}: mini_batch_size must be a positive integer or None, "
                    f"got {mini_batch_size!r}"
                )
            if has_static_embedding_input(model):
                raise ClearirError(
                    f"{type(self).__name__}: mini_batch_size needs a model whose inputs split by rows; "
                    "a StaticEmbedding model's do not (use mini_batch_size=None)"
                )
        self.model = model
        self.scale = scale
        self.mini_batch_size = mini_batch_size
        # sentence-transformers' MatryoshkaLoss/AdaptiveLayerLoss look at this to treat cached losses apart.
        self.uses_gradient_cache = mini_batch_size is not None
        self.gather_across_devices = gather_across_devices
        self.columns: Columns | None = None
        self._used: list[tuple[str, int]] = []  # (role, column position) of the columns embedded last
        if columns is not None:
            self.set_column_names(columns)

    # -- what a subclass provides -------------------------------------------------------------------------

    def roles(self) -> tuple[str, ...]:
        """The roles (see :data:`ROLE_ORDER`) this loss embeds; other columns are not embedded."""
        raise NotImplementedError

    def check_columns(self, columns: Columns) -> None:
        """Raise a :class:`ClearirError` if ``columns`` lack what this loss needs."""
        raise NotImplementedError

    def compute_loss_from_embeddings(self, embeddings: RowEmbeddings) -> dict[str, Tensor]:
        """The weighted loss components; their sum is the loss."""
        raise NotImplementedError

    # -- columns --------------------------------------------------------------------------------------------

    def set_column_names(self, names: Sequence[str]) -> None:
        """Tell the loss the dataset's column names (``dataset.column_names``), in the dataset's order.

        sentence-transformers hands a loss one feature dict per column in column order, without the names;
        this is how the loss finds each role. Call it again when the columns change.
        """
        columns = parse_columns(names)
        self.check_columns(columns)
        self.columns = columns

    def _used_positions(self, n_features: int) -> list[tuple[str, int]]:
        if self.columns is None:
            raise ClearirError(
                f"{type(self).__name__} does not know the column names; pass columns=dataset.column_names "
                "or call loss.set_column_names(dataset.column_names) before training"
            )
        if n_features != len(self.columns.names):
            raise ClearirError(
                f"{type(self).__name__} got {n_features} input columns but was told of "
                f"{len(self.columns.names)}: {list(self.columns.names)}; call set_column_names with the "
                "columns of the dataset being trained on"
            )
        wanted = self.roles()
        return [
            (role, position)
            for role in ROLE_ORDER
            if role in wanted
            for position in self.columns.positions(role)
        ]

    def _assemble(self, used: list[tuple[str, int]], embeddings: Sequence[Tensor]) -> RowEmbeddings:
        by_role: dict[str, list[Tensor]] = {}
        for (role, _), embedding in zip(used, embeddings, strict=True):
            by_role.setdefault(role, []).append(embedding)
        single = {
            role: by_role[role][0] for role in ("positive", "en_query", "lang_query") if role in by_role
        }
        return RowEmbeddings(
            negatives=by_role.get("negatives", []), neg_queries=by_role.get("neg_queries", []), **single
        )

    # -- forward --------------------------------------------------------------------------------------------

    def embed(self, features: Sequence[dict[str, Tensor]], is_query: Sequence[bool]) -> list[Tensor]:
        """Embed columns with one forward pass for the query columns and one for the passage columns.

        ``is_query[i]`` tells whether column ``i`` holds queries. Columns of a kind have similar lengths, so
        merging them wastes little padding (sentence-transformers falls back to one pass per column when it
        cannot merge them).
        """
        embeddings: list[Tensor | None] = [None] * len(features)
        for kind in (True, False):
            indices = [i for i, query in enumerate(is_query) if query == kind]
            if indices:
                group = embed_columns(self.model, [features[i] for i in indices], separate_first=False)
                for i, embedding in zip(indices, group, strict=True):
                    embeddings[i] = embedding
        return embeddings  # type: ignore[return-value]

    def forward(
        self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Embed the columns this loss uses and return its components (they sum to the loss)."""
        features = list(sentence_features)
        used = self._used_positions(len(features))
        used_features = [features[position] for _, position in used]
        self._used = used
        if self.mini_batch_size is not None:
            return self.forward_components_cached(used_features, labels)
        embeddings = self.embed(used_features, [role in QUERY_ROLES for role, _ in used])
        return self.compute_loss_from_embeddings(self._assemble(used, embeddings))

    def components_from_column_embeddings(self, embeddings: Sequence[Tensor]) -> dict[str, Tensor]:
        return self.compute_loss_from_embeddings(self._assemble(self._used, embeddings))

    def gather(self, tensors: Sequence[Tensor]) -> tuple[list[Tensor], int]:
        """The candidates of every process when ``gather_across_devices`` (with this process's row offset)."""
        if self.gather_across_devices:
            return gather_rows(tensors)
        return list(tensors), 0

    @staticmethod
    def local_labels(rows: int, offset: int, device: torch.device) -> Tensor:
        """Row ``i``'s positive is candidate ``offset + i`` (each candidate block is gathered whole)."""
        return torch.arange(offset, offset + rows, device=device)

    # -- model card -----------------------------------------------------------------------------------------

    def get_config_dict(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "similarity_fct": "cos_sim",
            "mini_batch_size": self.mini_batch_size,
            "gather_across_devices": self.gather_across_devices,
            "columns": None if self.columns is None else list(self.columns.names),
        }

    def _with_gradcache(self, citation: str) -> str:
        return citation + (GRADCACHE_CITATION if self.mini_batch_size is not None else "")
