"""Reader for Belebele's official release: one JSON-lines file per language (``eng_Latn.jsonl``, ...)."""

from __future__ import annotations

from pathlib import Path

from clearir.data.files import lines, parse_json, read_text
from clearir.data.records import Corpus, Paragraph, Question
from clearir.errors import ClearirError

# The 122 language variants of Belebele (FLORES-200 codes; the file of each is ``<code>.jsonl``).
BELEBELE_LANGUAGES: tuple[str, ...] = (
    "acm_Arab", "afr_Latn", "als_Latn", "amh_Ethi", "apc_Arab", "arb_Arab", "arb_Latn", "ars_Arab",
    "ary_Arab", "arz_Arab", "asm_Beng", "azj_Latn", "bam_Latn", "ben_Beng", "ben_Latn", "bod_Tibt",
    "bul_Cyrl", "cat_Latn", "ceb_Latn", "ces_Latn", "ckb_Arab", "dan_Latn", "deu_Latn", "ell_Grek",
    "eng_Latn", "est_Latn", "eus_Latn", "fin_Latn", "fra_Latn", "fuv_Latn", "gaz_Latn", "grn_Latn",
    "guj_Gujr", "hat_Latn", "hau_Latn", "heb_Hebr", "hin_Deva", "hin_Latn", "hrv_Latn", "hun_Latn",
    "hye_Armn", "ibo_Latn", "ilo_Latn", "ind_Latn", "isl_Latn", "ita_Latn", "jav_Latn", "jpn_Jpan",
    "kac_Latn", "kan_Knda", "kat_Geor", "kaz_Cyrl", "kea_Latn", "khk_Cyrl", "khm_Khmr", "kin_Latn",
    "kir_Cyrl", "kor_Hang", "lao_Laoo", "lin_Latn", "lit_Latn", "lug_Latn", "luo_Latn", "lvs_Latn",
    "mal_Mlym", "mar_Deva", "mkd_Cyrl", "mlt_Latn", "mri_Latn", "mya_Mymr", "nld_Latn", "nob_Latn",
    "npi_Deva", "npi_Latn", "nso_Latn", "nya_Latn", "ory_Orya", "pan_Guru", "pbt_Arab", "pes_Arab",
    "plt_Latn", "pol_Latn", "por_Latn", "ron_Latn", "rus_Cyrl", "shn_Mymr", "sin_Latn", "sin_Sinh",
    "slk_Latn", "slv_Latn", "sna_Latn", "snd_Arab", "som_Latn", "sot_Latn", "spa_Latn", "srp_Cyrl",
    "ssw_Latn", "sun_Latn", "swe_Latn", "swh_Latn", "tam_Taml", "tel_Telu", "tgk_Cyrl", "tgl_Latn",
    "tha_Thai", "tir_Ethi", "tsn_Latn", "tso_Latn", "tur_Latn", "ukr_Cyrl", "urd_Arab", "urd_Latn",
    "uzn_Latn", "vie_Latn", "war_Latn", "wol_Latn", "xho_Latn", "yor_Latn", "zho_Hans", "zho_Hant",
    "zsm_Latn", "zul_Latn",
)  # fmt: skip
# ISO 639-1 code -> Belebele (FLORES-200) code, for the Belebele languages that have one, in the script
# FLORES-200 uses for the language (romanized variants are reachable by their Belebele code only).
BELEBELE_CODES: dict[str, str] = {
    "af": "afr_Latn", "am": "amh_Ethi", "ar": "arb_Arab", "as": "asm_Beng", "az": "azj_Latn",
    "bg": "bul_Cyrl", "bm": "bam_Latn", "bn": "ben_Beng", "bo": "bod_Tibt", "ca": "cat_Latn",
    "cs": "ces_Latn", "da": "dan_Latn", "de": "deu_Latn", "el": "ell_Grek", "en": "eng_Latn",
    "es": "spa_Latn", "et": "est_Latn", "eu": "eus_Latn", "fa": "pes_Arab", "ff": "fuv_Latn",
    "fi": "fin_Latn", "fr": "fra_Latn", "gn": "grn_Latn", "gu": "guj_Gujr", "ha": "hau_Latn",
    "he": "heb_Hebr", "hi": "hin_Deva", "hr": "hrv_Latn", "ht": "hat_Latn", "hu": "hun_Latn",
    "hy": "hye_Armn", "id": "ind_Latn", "ig": "ibo_Latn", "is": "isl_Latn", "it": "ita_Latn",
    "ja": "jpn_Jpan", "jv": "jav_Latn", "ka": "kat_Geor", "kk": "kaz_Cyrl", "km": "khm_Khmr",
    "kn": "kan_Knda", "ko": "kor_Hang", "ky": "kir_Cyrl", "lg": "lug_Latn", "ln": "lin_Latn",
    "lo": "lao_Laoo", "lt": "lit_Latn", "lv": "lvs_Latn", "mg": "plt_Latn", "mi": "mri_Latn",
    "mk": "mkd_Cyrl", "ml": "mal_Mlym", "mn": "khk_Cyrl", "mr": "mar_Deva", "ms": "zsm_Latn",
    "mt": "mlt_Latn", "my": "mya_Mymr", "nb": "nob_Latn", "ne": "npi_Deva", "nl": "nld_Latn",
    "ny": "nya_Latn", "om": "gaz_Latn", "or": "ory_Orya", "pa": "pan_Guru", "pl": "pol_Latn",
    "ps": "pbt_Arab", "pt": "por_Latn", "ro": "ron_Latn", "ru": "rus_Cyrl", "rw": "kin_Latn",
    "sd": "snd_Arab", "si": "sin_Sinh", "sk": "slk_Latn", "sl": "slv_Latn", "sn": "sna_Latn",
    "so": "som_Latn", "sq": "als_Latn", "sr": "srp_Cyrl", "ss": "ssw_Latn", "st": "sot_Latn",
    "su": "sun_Latn", "sv": "swe_Latn", "sw": "swh_Latn", "ta": "tam_Taml", "te": "tel_Telu",
    "tg": "tgk_Cyrl", "th": "tha_Thai", "ti": "tir_Ethi", "tl": "tgl_Latn", "tn": "tsn_Latn",
    "tr": "tur_Latn", "ts": "tso_Latn", "uk": "ukr_Cyrl", "ur": "urd_Arab", "uz": "uzn_Latn",
    "vi": "vie_Latn", "wo": "wol_Latn", "xh": "xho_Latn", "yo": "yor_Latn", "zh": "zho_Hans",
    "zu": "zul_Latn",
}  # fmt: skip
_ISO_OF = {code: iso for iso, code in BELEBELE_CODES.items()}


def belebele_code(lang: str) -> str:
    """``"de"`` -> ``"deu_Latn"``; a Belebele code is returned as is; anything else is a ClearirError."""
    if lang in BELEBELE_CODES:
        return BELEBELE_CODES[lang]
    if lang in BELEBELE_LANGUAGES:
        return lang
    raise ClearirError(
        f"unknown language {lang!r} for belebele; expected an ISO 639-1 code "
        f"({', '.join(sorted(BELEBELE_CODES))}) or a Belebele code ({', '.join(BELEBELE_LANGUAGES)})"
    )


def iso_code(code: str) -> str:
    """``"deu_Latn"`` -> ``"de"``; a Belebele code without an ISO 639-1 code is returned as is."""
    return _ISO_OF.get(code, code)


def read_belebele(path: str | Path, lang: str) -> Corpus:
    """Read one Belebele file into a :class:`Corpus` of dataset ``"belebele"``.

    Paragraphs are the unique passages keyed by ``link`` (parallel across languages); question ids are
    ``f"{link}#{question_number}"``. ``lang`` (ISO 639-1 or Belebele code) must match each row's ``dialect``;
    the corpus is labelled with the ISO code where there is one. The multiple-choice answers are not kept.
    """
    path = Path(path)
    code = belebele_code(lang)
    lang = iso_code(code)
    text = read_text(path, f"a Belebele JSON-lines file for {code}")
    paragraphs: dict[str, Paragraph] = {}
    first_line: dict[str, int] = {}
    questions: list[Question] = []
    seen: set[str] = set()
    for n, line in enumerate(lines(text), start=1):
        if not line.strip():
            continue
        row = parse_json(line, path, first_line=n)
        if not isinstance(row, dict):
            raise ClearirError(f"{path}: line {n} is not a JSON object (expected one Belebele row per line)")
        link, passage, dialect = (_field(row, k, path, n) for k in ("link", "flores_passage", "dialect"))
        if dialect != code:
            raise ClearirError(f"{path}: line {n}: dialect is {dialect!r}, expected {code!r}")
        pid = f"belebele/{lang}/{link}"
        if link not in paragraphs:
            paragraphs[link] = Paragraph(id=pid, key=link, lang=lang, title="", text=passage)
            first_line[link] = n
        elif paragraphs[link].text != passage:
            raise ClearirError(
                f"{path}: line {n}: link {link} has a different passage than on line {first_line[link]}; "
                "expected one passage per link"
            )
        qid = f"{link}#{_field(row, 'question_number', path, n)}"
        if qid in seen:
            raise ClearirError(f"{path}: line {n}: question {qid} appears twice; expected unique questions")
        seen.add(qid)
        questions.append(Question(id=qid, lang=lang, text=_field(row, "question", path, n), paragraph_id=pid))
    if not questions:
        raise ClearirError(f"{path}: no rows (expected a Belebele JSON-lines file for {code})")
    return Corpus("belebele", lang, str(path), list(paragraphs.values()), questions)


def _field(row: dict, name: str, path: Path, line: int) -> str:
    """A row's field as text (``question_number`` may be a JSON number), else a one-line error."""
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, str | int) or not str(value).strip():
        raise ClearirError(f"{path}: line {line}: missing or empty field {name!r} (expected a Belebele row)")
    return str(value)
