"""GradCache (``mini_batch_size``) is exact: the loss and every parameter gradient equal the uncached ones."""

from __future__ import annotations

import contextlib

import pytest
import torch

from clearir.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, RowEmbeddings, SymmetricInfoNCELoss
from clearir.training.backbone import use_attention_kernel
from tests.tiny_model import TOY_COLUMNS, TOY_ROWS, make_tiny_model, tokenize_rows

LOSSES = {
    "clear": lambda model, **kw: CLEARLoss(model, **kw),
    "clear-no-kl": lambda model, **kw: CLEARLoss(model, kl_div=False, **kw),
    "clear-variants": lambda model, **kw: CLEARLoss(
        model, symmetric_kl=True, bidirectional_reverse=True, **kw
    ),
    "infonce-lang": lambda model, **kw: InfoNCELoss(model, **kw),
    "infonce-en": lambda model, **kw: InfoNCELoss(model, query="en", **kw),
    "symmetric": lambda model, **kw: SymmetricInfoNCELoss(model, **kw),
    "jsd": lambda model, **kw: JSDAlignmentLoss(model, query="both", **kw),
}
RTOL = 1e-5


def step(
    loss, model, rows, seed: int = 0, backward_outside: bool = False
) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """One forward + backward as sentence-transformers' trainer does it (the dict's sum); with
    ``backward_outside``, the backward pass runs outside any autocast the forward pass is under."""
    model.zero_grad(set_to_none=True)
    features = tokenize_rows(model, rows)
    torch.manual_seed(seed)
    components = loss(features)
    with torch.autocast("cpu", enabled=False) if backward_outside else contextlib.nullcontext():
        torch.stack(list(components.values())).sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return {name: value.item() for name, value in components.items()}, grads


def assert_same(got: tuple, expected: tuple, rtol: float = RTOL) -> None:
    (got_components, got_grads), (expected_components, expected_grads) = got, expected
    assert got_components.keys() == expected_components.keys()
    for name, value in expected_components.items():
        assert got_components[name] == pytest.approx(value, rel=rtol), name
    assert got_grads.keys() == expected_grads.keys()
    # Relative to each parameter's largest gradient entry; gradients that are zero in exact arithmetic (the
    # attention key biases: softmax ignores them) are rounding noise, compared against the overall scale.
    noise = 1e-3 * max(grad.abs().max().item() for grad in expected_grads.values())
    for name, expected_grad in expected_grads.items():
        error = (got_grads[name] - expected_grad).abs().max().item()
        assert error <= rtol * max(expected_grad.abs().max().item(), noise), f"{name}: max error {error:.3g}"


@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize(("batch", "mini_batch_size"), [(6, 2), (6, 3), (6, 4), (5, 2), (5, 1), (4, 8)])
def test_cached_equals_uncached(name: str, batch: int, mini_batch_size: int) -> None:
    """Dropout off: the uncached loss is the reference (batch sizes that do and do not divide)."""
    model = make_tiny_model(dropout=0.0)
    rows = TOY_ROWS[:batch]
    expected = step(LOSSES[name](model, columns=TOY_COLUMNS), model, rows)
    got = step(LOSSES[name](model, columns=TOY_COLUMNS, mini_batch_size=mini_batch_size), model, rows)
    assert_same(got, expected)


def test_gradients_not_scaled_by_the_number_of_mini_batches() -> None:
    """The trap: back-propagating each mini-batch's mean unweighted multiplies gradients by their number."""
    model = make_tiny_model(dropout=0.0)
    norms = []
    for mini_batch_size in (None, 6, 3, 2, 1):  # 1, 1, 2, 3 and 6 mini-batches
        _, grads = step(
            CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=mini_batch_size), model, TOY_ROWS[:6]
        )
        norms.append(torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item())
    assert norms == pytest.approx([norms[0]] * len(norms), rel=RTOL)


def reference_with_dropout(loss, model, rows, seed: int) -> tuple[dict[str, float], dict[str, torch.Tensor]]:
    """Uncached reference under dropout: one autograd graph through the same mini-batch forwards, drawing
    the RNG in the same order as GradCache's first pass (column by column, mini-batch by mini-batch)."""
    model.zero_grad(set_to_none=True)
    features = tokenize_rows(model, rows)
    torch.manual_seed(seed)
    columns = [
        torch.cat([reps for reps, _ in loss.embed_minibatch_iter(f, with_grad=True, copy_random_state=False)])
        for f in features
    ]
    en_query, positive, negative, lang_query, neg_query = columns  # TOY_COLUMNS order
    components = loss.compute_loss_from_embeddings(
        RowEmbeddings(positive, [negative], en_query, lang_query, [neg_query])
    )
    torch.stack(list(components.values())).sum().backward()
    grads = {name: p.grad.clone() for name, p in model.named_parameters() if p.grad is not None}
    return {name: value.item() for name, value in components.items()}, grads


@pytest.mark.parametrize("kernel", ["sdpa", "fast"])
@pytest.mark.parametrize(("batch", "mini_batch_size"), [(6, 2), (5, 2), (5, 3)])
def test_cached_replays_dropout_exactly(batch: int, mini_batch_size: int, kernel: str) -> None:
    """In either attention kernel, whose dropout masks are torch draws as any other."""
    model = make_tiny_model(dropout=0.1)
    use_attention_kernel(model, kernel)
    loss = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=mini_batch_size)
    rows = TOY_ROWS[:batch]
    got = step(loss, model, rows, seed=3)
    assert_same(got, reference_with_dropout(loss, model, rows, seed=3))
    # dropout is really on: another seed draws other masks and another loss
    assert step(loss, model, rows, seed=4)[0]["forward"] != pytest.approx(got[0]["forward"], rel=1e-4)


@pytest.mark.parametrize("mini_batch_size", [None, 2])
def test_frozen_parameters(mini_batch_size: int | None) -> None:
    """Frozen parameters (word embeddings, the first layer) get no gradient; the others the uncached one."""
    model = make_tiny_model(dropout=0.0)
    expected_components, expected_grads = step(CLEARLoss(model, columns=TOY_COLUMNS), model, TOY_ROWS[:5])
    frozen = [
        name for name, p in model.named_parameters() if "word_embeddings" in name or ".layer.0." in name
    ]
    for name, p in model.named_parameters():
        p.requires_grad_(name not in frozen)
    loss = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=mini_batch_size)
    got_components, got_grads = step(loss, model, TOY_ROWS[:5])
    assert frozen and not set(frozen) & set(got_grads)
    assert_same(
        (got_components, got_grads),
        (expected_components, {n: g for n, g in expected_grads.items() if n not in frozen}),
    )


def test_everything_frozen_still_gives_the_loss() -> None:
    model = make_tiny_model(dropout=0.0)
    expected, _ = step(CLEARLoss(model, columns=TOY_COLUMNS), model, TOY_ROWS[:4])
    model.zero_grad(set_to_none=True)
    model.requires_grad_(False)
    components = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=3)(tokenize_rows(model, TOY_ROWS[:4]))
    total = torch.stack(list(components.values())).sum()
    total.backward()  # the cached gradients meet no trainable parameter: nothing to do, no error
    assert {n: v.item() for n, v in components.items()} == pytest.approx(expected, rel=RTOL)
    assert all(p.grad is None for p in model.parameters())


def test_cached_without_grad_gives_the_loss() -> None:
    """Evaluation (no grad): the cached loss computes the same value without a backward hook."""
    model = make_tiny_model(dropout=0.0).eval()
    with torch.no_grad():
        uncached = CLEARLoss(model, columns=TOY_COLUMNS)(tokenize_rows(model, TOY_ROWS[:5]))
        cached = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=2)(tokenize_rows(model, TOY_ROWS[:5]))
    assert {n: v.item() for n, v in cached.items()} == pytest.approx(
        {n: v.item() for n, v in uncached.items()}, rel=RTOL
    )
    assert not any(v.requires_grad for v in cached.values())


def test_cached_components_sum_to_the_loss_and_carry_one_gradient() -> None:
    model = make_tiny_model(dropout=0.0)
    components = CLEARLoss(model, columns=TOY_COLUMNS, mini_batch_size=2)(tokenize_rows(model, TOY_ROWS[:4]))
    assert list(components) == ["forward", "reverse", "kl"]
    assert [v.requires_grad for v in components.values()] == [True, False, False]
