"""The fast attention kernel: PyTorch's attention where it has no dropout, the same attention with its own
dropout masks, masks at the model's rate."""

from __future__ import annotations

import torch
from torch import nn

from clearir.training import attention
from clearir.training.attention import dropout_keep_mask
from clearir.training.backbone import use_attention_kernel
from tests.tiny_model import TOY_ROWS, make_tiny_model, tokenize_rows


def _features() -> dict[str, torch.Tensor]:
    model = make_tiny_model(dropout=0.0)
    features = tokenize_rows(model, TOY_ROWS)[1]  # passages of different lengths: padding
    assert not features["attention_mask"].all()
    return {k: features[k] for k in ("input_ids", "attention_mask")}


def _hidden(model: nn.Module, features: dict[str, torch.Tensor]) -> torch.Tensor:
    with torch.no_grad():
        out = model.transformers_model(**features).last_hidden_state
    return out[features["attention_mask"].bool()]


def _attention_dropout_only(model: nn.Module) -> nn.Module:
    """``model`` in training mode with dropout on the attention probabilities only."""
    for name, module in model.transformers_model.named_modules():
        if isinstance(module, nn.Dropout) and not name.endswith("attention.self.dropout"):
            module.p = 0.0
    return model.train()


def test_with_every_value_kept_the_fast_kernel_computes_pytorchs_attention(monkeypatch) -> None:
    """With masks that keep everything, a training-mode forward in the fast kernel (its own path: dropout on
    a CPU) equals PyTorch's attention without dropout, padding masked."""
    features = _features()
    reference = make_tiny_model(dropout=0.1).eval()
    model = _attention_dropout_only(make_tiny_model(dropout=0.1))
    use_attention_kernel(model, "fast")
    masks = []

    def keep_all(shape: torch.Size, p: float) -> tuple[torch.Tensor, float]:
        masks.append(p)
        return torch.ones(shape, dtype=torch.bool), 1.0

    monkeypatch.setattr(attention, "dropout_keep_mask", keep_all)
    fast = _hidden(model, features)
    assert masks == [0.1, 0.1]  # one per layer: the kernel's own path ran
    torch.testing.assert_close(fast, _hidden(reference, features), atol=2e-6, rtol=1e-5)


def test_the_fast_kernel_drops_attention_in_training_and_is_sdpa_without_dropout() -> None:
    features = _features()
    model = _attention_dropout_only(make_tiny_model(dropout=0.1))
    use_attention_kernel(model, "fast")
    torch.manual_seed(0)
    dropped = _hidden(model, features)
    torch.manual_seed(0)
    assert torch.equal(_hidden(model, features), dropped)  # torch's generator: seeded draws repeat
    sdpa = make_tiny_model(dropout=0.1).eval()
    assert not torch.allclose(dropped, _hidden(sdpa, features), atol=1e-3)
    assert torch.equal(_hidden(model.eval(), features), _hidden(sdpa, features))


def test_dropout_keep_mask_drops_at_the_rate_in_every_lane() -> None:
    torch.manual_seed(0)
    keep, factor = dropout_keep_mask(torch.Size([1000, 1001]), 0.1)
    assert keep.shape == (1000, 1001) and keep.dtype == torch.bool
    dropped = round(0.1 * 2**16)
    assert factor == 2**16 / (2**16 - dropped)
    lanes = (~keep).flatten()[: 1000 * 1000].view(-1, 4).double().mean(0)  # the 4 lanes of a 64-bit draw
    assert torch.allclose(lanes, torch.full((4,), dropped / 2**16, dtype=torch.double), atol=2e-3)
    torch.manual_seed(0)
    assert torch.equal(dropout_keep_mask(torch.Size([1000, 1001]), 0.1)[0], keep)
    assert dropout_keep_mask(torch.Size([7]), 0.0)[0].all()
