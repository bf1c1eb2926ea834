"""The attention kernel of a fine-tuning: ``fast`` (the default) or PyTorch's ``sdpa``.

With attention dropout on a CPU, PyTorch's ``scaled_dot_product_attention`` leaves its fused kernel for the
"math" path, which computes bf16 inputs in float32 and draws every dropout mask value from a serial
generator (a sixth of a default bf16 step on this project's CPU). ``fast`` computes the same attention
itself: the two matrix products in the training precision (bf16 under autocast), the scores and softmax in
float32, and the dropout mask from 16-bit lanes of torch's own generator (:func:`dropout_keep_mask`), so
seeding, checkpoints and GradCache's replay treat it as any other draw. The dropout rate and the expectation
are the model's; only which values are dropped differs from ``sdpa``. Without dropout (evaluation, or
``--no-attention-dropout``) and off the CPU, ``fast`` is ``sdpa``: there the fused kernels are the fast ones.
The kernel is a training-time choice: a saved model's configuration does not name it.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, eager_mask

FAST_KERNEL = "clearir_fast"  # its name in transformers' attention and mask registries
_LANES = 1 << 16  # a mask value is one 16-bit lane of a 64-bit draw: four values per draw


def dropout_keep_mask(shape: torch.Size, p: float) -> tuple[torch.Tensor, float]:
    """A boolean keep-mask of ``shape`` for dropout rate ``p`` and the factor kept values are scaled by.

    A value is dropped with probability ``round(p * 2**16) / 2**16`` (within 8e-6 of ``p``); the factor is the
    inverse of the kept share, so the expectation is exact.
    """
    n = math.prod(shape)
    words = torch.randint(-(2**63), 2**63 - 1, (-(-n // 4),), dtype=torch.int64)
    dropped = round(p * _LANES)
    keep = words.view(torch.int16)[:n].view(shape) >= dropped - _LANES // 2
    return keep, _LANES / (_LANES - dropped)


def fast_attention_forward(
    module: nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    dropout: float = 0.0,
    **kwargs: Any,
) -> tuple[torch.Tensor, None]:
    """transformers' attention-function signature: ``sdpa`` unless there is dropout on a CPU (module doc)."""
    if not dropout or query.device.type != "cpu":
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, scaling=scaling, dropout=dropout, **kwargs
        )
    scaling = query.size(-1) ** -0.5 if scaling is None else scaling
    scores = torch.matmul(query, key.transpose(-1, -2)).float() * scaling
    if attention_mask is not None:  # additive (``eager_mask``, registered with the kernel)
        scores = scores + attention_mask
    probs = torch.softmax(scores, dim=-1)
    keep, factor = dropout_keep_mask(probs.shape, dropout)
    probs = torch.where(keep, probs * factor, 0.0)
    output = torch.matmul(probs.to(value.dtype), value)
    return output.transpose(1, 2).contiguous(), None


AttentionInterface.register(FAST_KERNEL, fast_attention_forward)
ALL_MASK_ATTENTION_FUNCTIONS.register(FAST_KERNEL, eager_mask)
