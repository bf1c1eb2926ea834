"""Freezing parts of the encoder: the word embeddings (most of a multilingual model) and the lowest layers."""

from __future__ import annotations

from torch import nn

from clearir.errors import ClearirError


def _backbone(model: nn.Module) -> nn.Module:
    backbone = getattr(model, "transformers_model", None)
    if backbone is None:
        raise ClearirError("cannot freeze parameters: the model has no Hugging Face transformers backbone")
    return backbone


def freeze(model: nn.Module, *, word_embeddings: bool, layers: int) -> None:
    """Freeze the word-embedding matrix and/or the embeddings module and the ``layers`` lowest encoder layers.

    Frozen parameters get ``requires_grad = False``, so the optimizer holds no state for them.
    """
    backbone = _backbone(model)
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


def count_parameters(model: nn.Module) -> tuple[int, int]:
    """(trainable, total) parameter counts."""
    params = list(model.parameters())
    return sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params)
