"""GradCache for losses made of several logged components.

Built on sentence-transformers' :class:`~sentence_transformers.base.losses.CachedLossMixin` (the machinery of
``CachedMultipleNegativesRankingLoss``), which does the three steps of GradCache (Gao et al., 2021):

1. embed every mini-batch without a graph, snapshotting the RNG state before each one (``RandContext``);
2. compute the loss over the whole batch from those embeddings and back-propagate it to them only: their
   gradients are the cache;
3. in a hook on the returned loss, re-embed each mini-batch with a graph under its replayed RNG state, so
   dropout draws the very masks of step 1, and back-propagate ``cached gradient · embedding``.

Only one mini-batch of activations is alive at a time, so memory stays flat in the batch size, and the loss
and every gradient equal the uncached ones: the loss is computed once over the whole batch (never as a mean
of per-mini-batch means, which would scale the gradients by the number of mini-batches). Mini-batches whose
embeddings need no gradient (every parameter frozen) are skipped in step 3; DDP synchronises once, after the
last mini-batch.

What this module adds is the dict of components: step 2 computes them, their sum is back-propagated, and
:meth:`CachedComponents.forward_components_cached` returns them with the gradient hook attached to the first
one. The dict's values sum to the loss, which is how sentence-transformers' trainer uses (and logs) a dict.
It also replays step 1's autocast state in step 3: under ``with torch.autocast(...): loss(...)`` followed by
``backward()`` outside it, the re-embedding is done in bf16 too, so its embeddings are those of step 1.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import torch
from sentence_transformers.base.losses import CachedLossMixin
from sentence_transformers.base.losses.gradcache import RandContext
from torch import Tensor


def _autocast_state(device_type: str) -> tuple[bool, torch.dtype]:
    return torch.is_autocast_enabled(device_type), torch.get_autocast_dtype(device_type)


class CachedComponents(CachedLossMixin):
    """GradCache for a loss that returns ``dict[str, Tensor]`` of components summing to the loss.

    Subclasses implement :meth:`components_from_column_embeddings` and set ``mini_batch_size``.
    """

    _cached_components: dict[str, Tensor] | None = None

    def components_from_column_embeddings(self, embeddings: Sequence[Tensor]) -> dict[str, Tensor]:
        """The loss components from the embeddings of each input column (whole batch, in column order)."""
        raise NotImplementedError

    def embed_minibatch(
        self,
        sentence_feature: dict[str, Tensor],
        begin: int,
        end: int,
        with_grad: bool,
        copy_random_state: bool,
        random_state: RandContext | None = None,
    ) -> tuple[Tensor, RandContext | None]:
        """Embed a mini-batch; the RNG snapshot of step 1 also records its autocast state, which step 3
        (``random_state`` given) re-enters if it differs from the current one."""
        device_type = self.model.device.type
        recorded = getattr(random_state, "autocast", None)
        replay = contextlib.nullcontext()
        if recorded is not None and recorded != _autocast_state(device_type):
            replay = torch.autocast(device_type, dtype=recorded[1], enabled=recorded[0])
        with replay:
            reps, state = super().embed_minibatch(
                sentence_feature, begin, end, with_grad, copy_random_state, random_state
            )
        if state is not None:
            state.autocast = _autocast_state(device_type)  # type: ignore[attr-defined]
        return reps, state

    def calculate_loss(
        self, reps: list[list[Tensor]], labels: Tensor | None = None, *, with_backward: bool = False
    ) -> Tensor:
        """Step 2: the components over the whole batch; back-propagated to the embeddings on request."""
        components = self.components_from_column_embeddings([torch.cat(column) for column in reps])
        total = torch.stack(list(components.values())).sum()
        if with_backward:
            total.backward()
        self._cached_components = {name: value.detach() for name, value in components.items()}
        return total.detach()

    def forward_components_cached(
        self, sentence_features: Sequence[dict[str, Tensor]], labels: Tensor | None = None
    ) -> dict[str, Tensor]:
        """Run GradCache; return the components, the first one carrying the gradient of their sum."""
        total = self.forward_cached(list(sentence_features), labels)
        components, self._cached_components = self._cached_components, None
        assert components is not None, "calculate_loss did not run"
        first = next(iter(components))
        # Zero in value, one in gradient: backward through the dict's sum reaches the GradCache hook once.
        components[first] = components[first] + (total - total.detach())
        return components
