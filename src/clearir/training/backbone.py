"""Training-time changes to the encoder backbone: freezing the word embeddings (most of a multilingual model)
and the lowest layers, switching off the dropout on the attention probabilities, and the attention kernel."""

from __future__ import annotations

from torch import nn

from clearir.errors import ClearirError
from clearir.training.attention import FAST_KERNEL
from clearir.training.config import AttentionKernel


def _backbone(model: nn.Module, doing: str) -> nn.Module:
    backbone = getattr(model, "transformers_model", None)
    if backbone is None:
        raise ClearirError(f"cannot {doing}: the model has no Hugging Face transformers backbone")
    return backbone


def freeze(model: nn.Module, *, word_embeddings: bool, layers: int) -> None:
    """Freeze the word-embedding matrix and/or the embeddings module and the ``layers`` lowest encoder layers.

    Frozen parameters get ``requires_grad = False``, so the optimizer holds no state for them.
    """
    backbone = _backbone(model, "freeze parameters")
    if word_embeddings:
        backbone.get_input_embeddings().weight.requires_grad_(False)
    if layers <= 0:
        return
    encoder_layers = getattr(getattr(backbone, "encoder", None), "layer", None)
    embeddings = getattr(backbone, "embeddings", None)
    if not isinstance(encoder_layers, nn.ModuleList) or embeddings is None:
        raise ClearirError(
            f"--freeze-layers {layers}: the {type(backbone).__name__} backbone has no `embeddings` and "
            "`encoder.layer` (a BERT-like encoder is expected)"
        )
    if layers > len(encoder_layers):
        raise ClearirError(f"--freeze-layers {layers}: the model has only {len(encoder_layers)} layers")
    for module in [embeddings, *encoder_layers[:layers]]:
        module.requires_grad_(False)


def no_attention_dropout(model: nn.Module) -> int:
    """Switch off the dropout on the attention probabilities of every self-attention layer (the hidden-state
    dropout stays); returns the number of layers changed. The saved model's configuration is unchanged.

    On CPU this drops the per-step random masks of batch x heads x length² values and lets the attention run
    in PyTorch's fused kernel (bench/bench_precision.py: a default step about 30% faster than in PyTorch's
    attention with dropout, about as fast as the fast attention kernel with it).
    """
    backbone = _backbone(model, "switch off the attention dropout")
    layers = [
        module.dropout
        for module in backbone.modules()
        if type(module).__name__.endswith("SelfAttention")
        and isinstance(getattr(module, "dropout", None), nn.Dropout)
    ]
    if not layers:
        raise ClearirError(
            f"--no-attention-dropout: the {type(backbone).__name__} backbone has no self-attention layer "
            "with a `dropout` (a BERT-like encoder is expected)"
        )
    for dropout in layers:
        dropout.p = 0.0
    return len(layers)


def use_attention_kernel(model: nn.Module, kernel: AttentionKernel) -> None:
    """Run the attention in ``kernel``, ``fast`` or ``sdpa`` (see :mod:`clearir.training.attention`)."""
    backbone = _backbone(model, "choose the attention kernel")
    backbone.set_attn_implementation(FAST_KERNEL if kernel == "fast" else "sdpa")


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
