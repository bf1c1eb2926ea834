"""Training-time changes to the backbone: switching off the attention dropout, the attention kernel."""

from __future__ import annotations

import pytest
from torch import nn

from clearir.errors import ClearirError
from clearir.training.backbone import no_attention_dropout, use_attention_kernel
from tests.tiny_model import make_tiny_model


def _dropouts(model: nn.Module, attention: bool) -> list[float]:
    return [
        m.dropout.p
        for m in model.modules()
        if isinstance(getattr(m, "dropout", None), nn.Dropout)
        and type(m).__name__.endswith("SelfAttention") == attention
    ]


def test_only_the_attention_dropout_is_switched_off() -> None:
    model = make_tiny_model(dropout=0.1)
    assert _dropouts(model, attention=True) == [0.1, 0.1]
    assert no_attention_dropout(model) == 2
    assert _dropouts(model, attention=True) == [0.0, 0.0]
    hidden = _dropouts(model, attention=False)
    assert hidden and set(hidden) == {0.1}


def test_a_model_without_a_transformers_backbone_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match="cannot switch off the attention dropout: the model has no"):
        no_attention_dropout(nn.Sequential(nn.Linear(2, 2)))
    with pytest.raises(ClearirError, match="cannot choose the attention kernel: the model has no"):
        use_attention_kernel(nn.Sequential(nn.Linear(2, 2)), "fast")
