"""The pure pieces of the losses: scaled cosine scores, InfoNCE, KL and Jensen–Shannon divergences.

Every loss scores through :func:`cosine_scores`, which works in float32 with autocast off, so under bf16
training (autocast) the scaled logits, softmaxes, cross-entropies and divergences are all float32.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor


def cosine_scores(anchors: Tensor, candidates: Tensor, scale: float) -> Tensor:
    """``scale · cos(anchor_i, candidate_j)``, shape ``(anchors, candidates)``, in float32 even under autocast
    or with bf16 embeddings (at scale 100, bf16 logits would be off by up to 0.25)."""
    with torch.autocast(anchors.device.type, enabled=False):
        anchors, candidates = _at_least_fp32(anchors), _at_least_fp32(candidates)
        return scale * F.normalize(anchors, dim=-1) @ F.normalize(candidates, dim=-1).T


def _at_least_fp32(tensor: Tensor) -> Tensor:
    """``tensor`` in float32 if it is in a lower precision (float64 stays float64)."""
    return tensor.float() if tensor.dtype in (torch.bfloat16, torch.float16) else tensor


def info_nce(scores: Tensor, labels: Tensor) -> Tensor:
    """Mean over rows of ``-log softmax(scores_i)[labels_i]``."""
    return F.cross_entropy(scores, labels)


def kl_rows(target: Tensor, prediction: Tensor) -> Tensor:
    """Mean over rows of ``KL(softmax(target_i) ‖ softmax(prediction_i))``; gradients reach both."""
    return F.kl_div(
        F.log_softmax(prediction, dim=-1),
        F.log_softmax(target, dim=-1),
        reduction="batchmean",
        log_target=True,
    )


def jsd_rows(first: Tensor, second: Tensor) -> Tensor:
    """Mean over rows of the Jensen–Shannon divergence between ``softmax(first_i)`` and ``softmax(second_i)``.

    JSD(P, Q) = ½·KL(P ‖ M) + ½·KL(Q ‖ M) with M = ½·(P + Q), in nats (at most log 2).
    """
    log_p = F.log_softmax(first, dim=-1)
    log_q = F.log_softmax(second, dim=-1)
    log_m = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2.0)
    kl_pm = (log_p.exp() * (log_p - log_m)).sum(dim=-1)
    kl_qm = (log_q.exp() * (log_q - log_m)).sum(dim=-1)
    return (0.5 * (kl_pm + kl_qm)).mean()
