"""Columns are found by name; anything else is a clear error. Option validation; prompts per column."""

from __future__ import annotations

import pytest
import torch

from clearir.errors import ClearirError
from clearir.losses import (
    CLEARLoss,
    InfoNCELoss,
    JSDAlignmentLoss,
    SymmetricInfoNCELoss,
    column_prompts,
    parse_columns,
    passage_prompt,
    query_prompt,
)
from tests.tiny_model import TOY_COLUMNS, TOY_ROWS, make_tiny_model, tokenize_rows


@pytest.fixture(scope="module")
def model():
    return make_tiny_model(dropout=0.0)


def test_clearir_naming_any_order() -> None:
    names = ["neg_query_2", "lang_question", "neg_2", "paragraphs", "neg_query_1", "en_question", "neg_1"]
    columns = parse_columns(names)
    assert (columns.en_query, columns.positive, columns.lang_query) == (5, 3, 1)
    assert columns.negatives == (6, 2)  # by number, not by position
    assert columns.neg_queries == (4, 0)


def test_anchor_naming_and_label_column_ignored() -> None:
    columns = parse_columns(["anchor", "label", "positive", "negative_1", "cross_anchor", "neg_query_1"])
    assert columns.names == ("anchor", "positive", "negative_1", "cross_anchor", "neg_query_1")
    assert (columns.en_query, columns.positive, columns.negatives, columns.lang_query) == (0, 1, (2,), 3)
    assert columns.neg_queries == (4,)


def test_no_negatives() -> None:
    columns = parse_columns(["en_question", "paragraphs", "lang_question"])
    assert columns.negatives == () and columns.neg_queries == ()


@pytest.mark.parametrize(
    ("names", "message"),
    [
        (["en_question", "paragraphs", "passage_id"], "unknown column 'passage_id'"),
        (["anchor", "paragraphs"], "mix the two namings"),
        (["en_question", "paragraphs", "negative_1"], "mix the two namings"),
        (["en_question", "paragraphs", "neg_1", "neg_3"], "numbered 1..n without gaps"),
        (["en_question", "paragraphs", "neg_0"], "unknown column 'neg_0'"),
        (["en_question", "paragraphs", "paragraphs"], "repeat"),
        (["sentence_0", "sentence_1"], "unknown column 'sentence_0'"),
    ],
)
def test_bad_columns_rejected_listing_expected(names: list[str], message: str) -> None:
    with pytest.raises(ClearirError, match=message) as info:
        parse_columns(names)
    if "unknown" in message or "mix" in message:
        assert "en_question, paragraphs, neg_1..neg_n, lang_question" in str(info.value)
        assert "anchor, positive, negative_1..negative_n, cross_anchor" in str(info.value)


@pytest.mark.parametrize(
    ("make", "names", "message"),
    [
        (CLEARLoss, ["en_question", "paragraphs", "neg_1"], "needs the column.s. lang_question"),
        (CLEARLoss, ["anchor", "positive", "cross_anchor", "negative_1"], "as many negative queries"),
        (CLEARLoss, ["lang_question", "paragraphs"], "needs the column.s. en_question"),
        (InfoNCELoss, ["en_question", "paragraphs"], "needs the column.s. lang_question"),
        (
            lambda m, **kw: InfoNCELoss(m, query="en", **kw),
            ["anchor", "cross_anchor"],
            "needs the column.s. positive",
        ),
        (SymmetricInfoNCELoss, ["paragraphs", "neg_1", "en_question"], "lang_question"),
        (JSDAlignmentLoss, ["anchor", "positive"], "cross_anchor"),
    ],
)
def test_loss_names_the_columns_it_misses(model, make, names: list[str], message: str) -> None:
    with pytest.raises(ClearirError, match=message):
        make(model, columns=names)


def test_extra_columns_are_not_embedded(model) -> None:
    """InfoNCE on a full CLEAR row embeds only q_L, p+ and p-: the other columns may hold anything."""
    loss = InfoNCELoss(model, columns=TOY_COLUMNS)
    features = tokenize_rows(model, TOY_ROWS[:3])
    expected = loss(features)["infonce"]
    garbage = {"input_ids": torch.zeros(1, 1, dtype=torch.long)}  # would fail if embedded (1 row, not 3)
    features = tokenize_rows(model, TOY_ROWS[:3])
    features[0] = features[4] = garbage
    assert torch.allclose(loss(features)["infonce"], expected)


def test_forward_needs_column_names(model) -> None:
    loss = CLEARLoss(model)
    with pytest.raises(ClearirError, match="set_column_names"):
        loss(tokenize_rows(model, TOY_ROWS[:2]))
    with pytest.raises(ClearirError, match="as many negative queries"):
        loss.set_column_names(("en_question", "paragraphs", "neg_1", "lang_question"))
    loss.set_column_names(("en_question", "paragraphs", "lang_question"))
    with pytest.raises(ClearirError, match="got 5 input columns but was told of 3"):
        loss(tokenize_rows(model, TOY_ROWS[:2]))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda m: CLEARLoss(m, alpha=0.9, beta=0.2), "alpha \\+ beta <= 1"),
        (lambda m: CLEARLoss(m, alpha=-0.1), "alpha"),
        (lambda m: CLEARLoss(m, scale=0.0), "scale must be positive"),
        (lambda m: CLEARLoss(m, mini_batch_size=0), "mini_batch_size must be a positive integer"),
        (lambda m: InfoNCELoss(m, query="de"), "query must be one of"),
        (lambda m: JSDAlignmentLoss(m, jsd_weight=-1.0), "jsd_weight"),
        (lambda m: JSDAlignmentLoss(m, query="fr"), "query must be one of"),
    ],
)
def test_bad_options(model, make, message: str) -> None:
    with pytest.raises(ClearirError, match=message):
        make(model)


def test_no_kl_allows_alpha_plus_beta_above_one(model) -> None:
    assert CLEARLoss(model, alpha=0.9, beta=0.2, kl_div=False).alpha == 0.9


def test_column_prompts_follow_the_model(model) -> None:
    assert query_prompt(model) == "query: "
    # sentence-transformers adds a blank "document" prompt; the e5-style "passage" prompt wins over it.
    assert model.prompts["document"] == "" and passage_prompt(model) == "passage: "
    prompts = column_prompts(
        model, ["anchor", "positive", "negative_1", "cross_anchor", "neg_query_1", "label"]
    )
    assert prompts == {
        "anchor": "query: ",
        "positive": "passage: ",
        "negative_1": "passage: ",
        "cross_anchor": "query: ",
        "neg_query_1": "query: ",
    }


def test_column_prompts_empty_without_model_prompts() -> None:
    blank = make_tiny_model()
    blank.prompts = {"query": "", "document": ""}
    assert column_prompts(blank, list(TOY_COLUMNS)) == {}


def test_config_dicts_are_complete(model) -> None:
    config = CLEARLoss(
        model,
        alpha=0.3,
        beta=0.1,
        kl_div=False,
        bidirectional_reverse=True,
        mini_batch_size=4,
        columns=TOY_COLUMNS,
    )
    assert config.get_config_dict() == {
        "alpha": 0.3,
        "beta": 0.1,
        "kl_div": False,
        "symmetric_kl": False,
        "bidirectional_reverse": True,
        "scale": 20.0,
        "similarity_fct": "cos_sim",
        "mini_batch_size": 4,
        "gather_across_devices": False,
        "columns": list(TOY_COLUMNS),
    }
    assert JSDAlignmentLoss(model, jsd_weight=0.5, query="both").get_config_dict()["jsd_weight"] == 0.5
    assert InfoNCELoss(model, query="en").get_config_dict()["query"] == "en"
    assert "Reverse-training" in CLEARLoss(model).citation
    assert "Memory Limited" not in CLEARLoss(model).citation
    assert "Memory Limited" in CLEARLoss(model, mini_batch_size=2).citation
    assert "Semantic Proximity" in JSDAlignmentLoss(model).citation
    assert "Contrastive Predictive Coding" in InfoNCELoss(model).citation
    assert "Jina" in SymmetricInfoNCELoss(model).citation
