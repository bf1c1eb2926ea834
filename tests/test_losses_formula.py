"""The losses equal direct, independent computations of their formulas; each term moves the right way."""

from __future__ import annotations

import math

import pytest
import torch

from clearir.errors import ClearirError
from clearir.losses import CLEARLoss, InfoNCELoss, JSDAlignmentLoss, RowEmbeddings, SymmetricInfoNCELoss
from tests.tiny_model import make_tiny_model

DIM = 8


@pytest.fixture(scope="module")
def model():
    return make_tiny_model(dropout=0.0)


def random_rows(rows: int, n: int, seed: int) -> RowEmbeddings:
    generator = torch.Generator().manual_seed(seed)

    def draw() -> torch.Tensor:
        return torch.randn(rows, DIM, generator=generator)

    return RowEmbeddings(
        en_query=draw(),
        positive=draw(),
        negatives=[draw() for _ in range(n)],
        lang_query=draw(),
        neg_queries=[draw() for _ in range(n)],
    )


# -- the reference: plain Python floats and loops, sharing no code with clearir ------------------------------


def cos(u: list[float], v: list[float]) -> float:
    dot = sum(a * b for a, b in zip(u, v, strict=True))
    return dot / (math.sqrt(sum(a * a for a in u)) * math.sqrt(sum(b * b for b in v)))


def log_softmax(xs: list[float]) -> list[float]:
    top = max(xs)
    log_z = top + math.log(sum(math.exp(x - top) for x in xs))
    return [x - log_z for x in xs]


def blocks(*columns: torch.Tensor) -> list[list[float]]:
    """Candidates in block order: all rows of the first column, then all rows of the next, ..."""
    return [row for column in columns for row in column.double().tolist()]


def rows(column: torch.Tensor) -> list[list[float]]:
    return column.double().tolist()


def direct_clear(
    e: RowEmbeddings,
    scale: float,
    alpha: float,
    beta: float,
    kl_div: bool,
    symmetric_kl: bool = False,
    bidirectional_reverse: bool = False,
) -> dict[str, float]:
    passages = blocks(e.positive, *e.negatives)
    queries = blocks(e.lang_query, *e.neg_queries)
    forward = reverse = kl = 0.0
    batch = len(rows(e.positive))
    for i, (q_en, p_pos, q_lang) in enumerate(
        zip(rows(e.en_query), rows(e.positive), rows(e.lang_query), strict=True)
    ):
        log_p_forward = log_softmax([scale * cos(q_en, p) for p in passages])
        log_p_reverse = log_softmax([scale * cos(p_pos, q) for q in queries])
        forward -= log_p_forward[i] / batch
        if bidirectional_reverse:
            log_p_lang = log_softmax([scale * cos(q_lang, p) for p in passages])
            reverse -= 0.5 * (log_p_reverse[i] + log_p_lang[i]) / batch
        else:
            reverse -= log_p_reverse[i] / batch
        pairs = list(zip(log_p_reverse, log_p_forward, strict=True))
        kl_rf = sum(math.exp(r) * (r - f) for r, f in pairs)
        kl_fr = sum(math.exp(f) * (f - r) for r, f in pairs)
        kl += (0.5 * (kl_rf + kl_fr) if symmetric_kl else kl_rf) / batch
    if not kl_div:
        return {"forward": (1 - alpha) * forward, "reverse": alpha * reverse}
    return {"forward": (1 - alpha - beta) * forward, "reverse": alpha * reverse, "kl": beta * kl}


def direct_infonce(queries: torch.Tensor, candidates: list[list[float]], scale: float) -> float:
    total = 0.0
    for i, q in enumerate(rows(queries)):
        total -= log_softmax([scale * cos(q, c) for c in candidates])[i]
    return total / len(rows(queries))


def direct_jsd(first: torch.Tensor, second: torch.Tensor, passages: list[list[float]], scale: float) -> float:
    total = 0.0
    for a, b in zip(rows(first), rows(second), strict=True):
        p = [math.exp(x) for x in log_softmax([scale * cos(a, c) for c in passages])]
        q = [math.exp(x) for x in log_softmax([scale * cos(b, c) for c in passages])]
        m = [(x + y) / 2 for x, y in zip(p, q, strict=True)]
        kl_pm = sum(x * math.log(x / z) for x, z in zip(p, m, strict=True) if x > 0)
        kl_qm = sum(y * math.log(y / z) for y, z in zip(q, m, strict=True) if y > 0)
        total += 0.5 * kl_pm + 0.5 * kl_qm
    return total / len(rows(first))


def assert_components(got: dict[str, torch.Tensor], expected: dict[str, float]) -> None:
    assert set(got) == set(expected)
    for name, value in expected.items():
        assert got[name].item() == pytest.approx(value, rel=1e-5, abs=1e-6), name


# -- equality with the formulas ------------------------------------------------------------------------


@pytest.mark.parametrize("n", [0, 1, 3])
@pytest.mark.parametrize("kl_div", [True, False])
@pytest.mark.parametrize(("alpha", "beta", "scale"), [(0.4, 0.2, 20.0), (0.25, 0.5, 7.0)])
def test_clear_equals_formula(model, n: int, kl_div: bool, alpha: float, beta: float, scale: float) -> None:
    e = random_rows(rows=5, n=n, seed=n)
    loss = CLEARLoss(model, alpha=alpha, beta=beta, kl_div=kl_div, scale=scale)
    got = loss.compute_loss_from_embeddings(e)
    assert_components(got, direct_clear(e, scale, alpha, beta, kl_div))
    assert all(value.requires_grad is False for value in got.values())  # random leaves: no graph


@pytest.mark.parametrize("n", [0, 2])
@pytest.mark.parametrize(
    ("symmetric_kl", "bidirectional_reverse", "kl_div"),
    [(True, False, True), (False, True, True), (True, True, True), (False, True, False)],
)
def test_clear_variants_equal_formula(
    model, n: int, symmetric_kl: bool, bidirectional_reverse: bool, kl_div: bool
) -> None:
    e = random_rows(rows=4, n=n, seed=30 + n)
    loss = CLEARLoss(
        model, symmetric_kl=symmetric_kl, bidirectional_reverse=bidirectional_reverse, kl_div=kl_div
    )
    got = loss.compute_loss_from_embeddings(e)
    expected = direct_clear(e, 20.0, 0.4, 0.2, kl_div, symmetric_kl, bidirectional_reverse)
    assert_components(got, expected)
    paper = direct_clear(e, 20.0, 0.4, 0.2, kl_div)
    changed = "kl" if symmetric_kl else "reverse"
    assert got[changed].item() != pytest.approx(paper[changed], rel=1e-3)  # the variant is not the paper
    config = loss.get_config_dict()
    assert (config["symmetric_kl"], config["bidirectional_reverse"]) == (symmetric_kl, bidirectional_reverse)


def test_clear_symmetric_kl_needs_kl(model) -> None:
    with pytest.raises(ClearirError, match="--symmetric-kl needs the KL term"):
        CLEARLoss(model, symmetric_kl=True, kl_div=False)


def test_clear_defaults_are_the_papers(model) -> None:
    loss = CLEARLoss(model)
    assert (loss.alpha, loss.beta, loss.kl_div, loss.scale) == (0.4, 0.2, True, 20.0)
    assert (loss.symmetric_kl, loss.bidirectional_reverse) == (False, False)
    e = random_rows(rows=4, n=2, seed=7)
    assert_components(loss.compute_loss_from_embeddings(e), direct_clear(e, 20.0, 0.4, 0.2, True))


@pytest.mark.parametrize("n", [0, 2])
@pytest.mark.parametrize("query", ["lang", "en"])
def test_infonce_equals_formula(model, n: int, query: str) -> None:
    e = random_rows(rows=4, n=n, seed=10 + n)
    queries = e.lang_query if query == "lang" else e.en_query
    got = InfoNCELoss(model, query=query).compute_loss_from_embeddings(e)
    assert_components(got, {"infonce": direct_infonce(queries, blocks(e.positive, *e.negatives), 20.0)})


@pytest.mark.parametrize("n", [0, 2])
def test_symmetric_equals_formula(model, n: int) -> None:
    e = random_rows(rows=4, n=n, seed=20 + n)
    got = SymmetricInfoNCELoss(model, scale=10.0).compute_loss_from_embeddings(e)
    forward = direct_infonce(e.lang_query, blocks(e.positive, *e.negatives), 10.0)
    backward = direct_infonce(e.positive, blocks(e.lang_query), 10.0)
    assert_components(got, {"forward": 0.5 * forward, "backward": 0.5 * backward})


@pytest.mark.parametrize("query", ["lang", "en", "both"])
def test_jsd_equals_formula(model, query: str) -> None:
    e = random_rows(rows=4, n=2, seed=30)
    passages = blocks(e.positive, *e.negatives)
    infonce = {
        "lang": direct_infonce(e.lang_query, passages, 20.0),
        "en": direct_infonce(e.en_query, passages, 20.0),
    }
    infonce["both"] = 0.5 * (infonce["lang"] + infonce["en"])
    got = JSDAlignmentLoss(model, jsd_weight=0.7, query=query).compute_loss_from_embeddings(e)
    expected_jsd = 0.7 * direct_jsd(e.en_query, e.lang_query, passages, 20.0)
    assert_components(got, {"infonce": infonce[query], "jsd": expected_jsd})
    assert 0 < expected_jsd < 0.7 * math.log(2)


# -- each term moves the right way ------------------------------------------------------------------------


def toy() -> RowEmbeddings:
    """Two rows, one negative, on orthogonal axes: p+_0 = e0, p+_1 = e1, p-_0 = e2, p-_1 = e3.

    q_en_i is equally close to p+_i and p-_i; q_L_i is close to p+_i only. Moving one row's vector within its
    own axes leaves every score of the other row unchanged, so each term's direction is certain.
    """
    axes = torch.eye(DIM)
    return RowEmbeddings(
        positive=axes[[0, 1]],
        negatives=[axes[[2, 3]]],
        en_query=torch.stack([axes[0] + axes[2] + axes[6], axes[1] + axes[3] + axes[6]]),
        lang_query=torch.stack([axes[0] + axes[4] + axes[7], axes[1] + axes[5] + axes[7]]),
        neg_queries=[axes[[4, 5]]],
    )


def toward(start: torch.Tensor, goal: torch.Tensor, step: float) -> torch.Tensor:
    """Row 0 of ``start`` moved ``step`` of the way to row 0 of ``goal``."""
    moved = start.clone()
    moved[0] = (1 - step) * start[0] + step * goal[0]
    return moved


def term(loss, e: RowEmbeddings, name: str, **replace: torch.Tensor) -> float:
    return loss.compute_loss_from_embeddings(RowEmbeddings(**{**e.__dict__, **replace}))[name].item()


def test_clear_terms_move_the_right_way(model) -> None:
    loss = CLEARLoss(model)
    e = toy()
    forward, reverse = term(loss, e, "forward"), term(loss, e, "reverse")
    # q_L toward its English passage p+: the reverse term falls; the forward term does not involve q_L.
    assert term(loss, e, "reverse", lang_query=toward(e.lang_query, e.positive, 0.5)) < reverse
    assert term(loss, e, "forward", lang_query=toward(e.lang_query, e.positive, 0.5)) == forward
    # p+ toward a negative query: the reverse term rises.
    assert term(loss, e, "reverse", positive=toward(e.positive, e.neg_queries[0], 0.5)) > reverse
    # q_en toward p+: the forward term falls; toward its hard negative: it rises.
    assert term(loss, e, "forward", en_query=toward(e.en_query, e.positive, 0.5)) < forward
    assert term(loss, e, "forward", en_query=toward(e.en_query, e.negatives[0], 0.5)) > forward


def test_kl_vanishes_when_forward_and_reverse_agree(model) -> None:
    loss = CLEARLoss(model)
    e = random_rows(rows=4, n=2, seed=40)
    assert term(loss, e, "kl") > 1e-3
    # p+ = q_en and every query equal to its passage make both score matrices equal.
    agreeing = {"positive": e.en_query.clone(), "lang_query": e.en_query.clone(), "neg_queries": e.negatives}
    assert term(loss, e, "kl", **agreeing) == pytest.approx(0.0, abs=1e-6)
    # halfway there, the KL term is smaller
    halfway = {
        name: 0.5 * value + 0.5 * getattr(e, name)
        for name, value in agreeing.items()
        if name != "neg_queries"
    }
    halfway["neg_queries"] = [0.5 * a + 0.5 * b for a, b in zip(e.negatives, e.neg_queries, strict=True)]
    assert term(loss, e, "kl", **halfway) < term(loss, e, "kl")


def test_reverse_gradient_pulls_lang_query_to_its_english_passage(model) -> None:
    e = random_rows(rows=4, n=2, seed=50)
    lang_query = e.lang_query.clone().requires_grad_()
    components = CLEARLoss(model).compute_loss_from_embeddings(
        RowEmbeddings(**{**e.__dict__, "lang_query": lang_query})
    )
    components["reverse"].backward()
    assert lang_query.grad is not None
    for i in range(4):  # a small gradient step raises cos(q_L_i, p+_i)
        stepped = lang_query[i].detach() - 0.01 * lang_query.grad[i]
        before = torch.cosine_similarity(lang_query[i].detach(), e.positive[i], dim=0)
        assert torch.cosine_similarity(stepped, e.positive[i], dim=0) > before


def test_jsd_vanishes_for_identical_queries_and_shrinks_toward_them(model) -> None:
    loss = JSDAlignmentLoss(model)
    e = toy()
    assert term(loss, e, "jsd", lang_query=toward(e.lang_query, e.en_query, 0.7)) < term(loss, e, "jsd")
    assert term(loss, e, "jsd", lang_query=e.en_query.clone()) == pytest.approx(0.0, abs=1e-7)


def test_symmetric_terms_move_the_right_way(model) -> None:
    loss = SymmetricInfoNCELoss(model)
    e = toy()
    assert term(loss, e, "backward", lang_query=toward(e.lang_query, e.positive, 0.5)) < term(
        loss, e, "backward"
    )
    assert term(loss, e, "forward", lang_query=toward(e.lang_query, e.negatives[0], 0.5)) > term(
        loss, e, "forward"
    )
