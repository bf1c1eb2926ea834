"""A language-aware tokenizer for BM25: Unicode words, case-folded; character bigrams for spaceless scripts.

A token is a maximal run of letters, combining marks and digits (``\\p{L}\\p{M}\\p{N}``), so Devanagari vowel
signs and viramas stay inside their word and punctuation, apostrophes and spaces split. Runs in scripts
written without spaces between words (Han, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar) become overlapping
character bigrams (a lone character stays a unigram), the usual segmentation-free choice for CJK and Thai
retrieval. Everything is case-folded.
"""

from __future__ import annotations

import regex

_NO_SPACE = r"\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}\u30fc"
_TOKEN = regex.compile(
    rf"(?P<nospace>[{_NO_SPACE}]+)|(?P<word>[[\p{{L}}\p{{M}}\p{{N}}]--[{_NO_SPACE}]]+)", regex.V1
)


def tokenize(text: str) -> list[str]:
    """Case-folded word tokens of ``text``; runs of spaceless scripts become character bigrams."""
    tokens: list[str] = []
    for match in _TOKEN.finditer(text.casefold()):
        run = match.group()
        if match.lastgroup == "word" or len(run) == 1:
            tokens.append(run)
        else:
            tokens.extend(run[i : i + 2] for i in range(len(run) - 1))
    return tokens
