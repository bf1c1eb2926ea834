"""A tiny randomly initialised SentenceTransformer for fast tests, built entirely in code (no download).

BERT with a tiny config, a WordPiece tokenizer over a small vocabulary (lower-case letters and digits as
word-initial and continuation pieces, plus some frequent words), mean pooling and normalisation, and the e5
prompts ``"query: "`` / ``"passage: "``. Any lower-case Latin text tokenises (unknown scripts become [UNK]).
"""

from __future__ import annotations

import string
import tempfile

import torch
from safetensors.torch import save_file
from sentence_transformers import SentenceTransformer
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer
from tokenizers import Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import WordPiece
from transformers import BertConfig, BertModel, PreTrainedTokenizerFast
from transformers.utils import logging as hf_logging

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = " ".join(
    [
        "the of and to in a is was for on as with by he it at from his an were are which this that be or",
        "had not first one their its new after who they has her she been two when there all during into",
        "school also time can would what where how many year city world war century river capital",
        "query passage",
    ]
).split()
CHARACTERS = string.ascii_lowercase + string.digits


def tiny_vocab() -> dict[str, int]:
    """Special tokens, single characters (word-initial and ``##`` continuation), punctuation, words."""
    pieces = [*SPECIALS, *CHARACTERS, *(f"##{c}" for c in CHARACTERS), *string.punctuation, *WORDS]
    return {piece: index for index, piece in enumerate(dict.fromkeys(pieces))}


def tiny_tokenizer() -> PreTrainedTokenizerFast:
    vocab = tiny_vocab()
    tokenizer = Tokenizer(WordPiece(vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.BertProcessing(("[SEP]", vocab["[SEP]"]), ("[CLS]", vocab["[CLS]"]))
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def make_tiny_model(
    seed: int = 0,
    dropout: float = 0.1,
    *,
    hidden_size: int = 32,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int = 64,
    max_seq_length: int = 64,
) -> SentenceTransformer:
    """A fresh tiny SentenceTransformer, in training mode; the same ``seed`` gives the same weights.

    ``dropout`` applies to the hidden states and attention probabilities. The global RNG is left untouched.
    """
    config = BertConfig(
        vocab_size=len(tiny_vocab()),
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max(512, max_seq_length),
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()  # no load report, no progress bars
    hf_logging.disable_progress_bar()
    try:
        with torch.random.fork_rng(devices=[]), tempfile.TemporaryDirectory(prefix="clearir-tiny-") as tmp:
            torch.manual_seed(seed)
            # Written by hand: under torch.distributed, save_pretrained writes the weights on rank 0 only.
            config.save_pretrained(tmp)
            save_file(BertModel(config, add_pooling_layer=False).state_dict(), f"{tmp}/model.safetensors")
            tiny_tokenizer().save_pretrained(tmp)
            transformer = Transformer(
                tmp, max_seq_length=max_seq_length, model_kwargs={"add_pooling_layer": False}
            )
    finally:
        hf_logging.set_verbosity(verbosity)
        hf_logging.enable_progress_bar()
    pooling = Pooling(transformer.get_embedding_dimension(), pooling_mode="mean")
    model = SentenceTransformer(
        modules=[transformer, pooling, Normalize()],
        prompts={"query": "query: ", "passage": "passage: "},
        device="cpu",
    )
    return model.train()


# Toy training rows in the clearir column naming, one negative each: small enough for the tiny vocabulary.
TOY_COLUMNS = ("en_question", "paragraphs", "neg_1", "lang_question", "neg_query_1")
TOY_ROWS = [
    ("who wrote the play", "he wrote the play in 1808", "the war was long", "wer schrieb es", "wie lange"),
    ("where is the river", "the river is in the city", "a capital city", "wo ist der fluss", "hauptstadt"),
    ("what year was it", "it was the first year", "time is new", "welches jahr war es", "was ist neu"),
    ("how many are there", "there are two of them", "all of them", "wie viele gibt es", "alle"),
    ("who is she", "she is a school teacher", "he had not been there", "wer ist sie", "wer war er"),
    ("when was the war", "the war was in 1914", "the city is old", "wann war der krieg", "die stadt"),
    ("what is the capital", "the capital is berlin", "a river in the world", "die hauptstadt", "ein fluss"),
    ("which school was it", "it was a new school", "they had two", "welche schule", "sie hatten zwei"),
]


def tokenize_rows(model: SentenceTransformer, rows: list[tuple[str, ...]]) -> list[dict[str, torch.Tensor]]:
    """One feature dict per column of ``rows`` (no prompts), as sentence-transformers' collator makes them."""
    return [model.preprocess(list(column)) for column in zip(*rows, strict=True)]
