"""Writers of the user's own data from real registry texts: SQuAD pairs, tables and BEIR-format sets."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

from clearir.data.registry import load_corpus

MLQA = "mlqa-r"


def mlqa_table_rows(data_dir: Path, langs: tuple[str, ...]) -> list[dict[str, str]]:
    """One row per MLQA-R question of ``langs`` (language by language, each in its file's order), with the
    English question and paragraph of the same id."""
    english = load_corpus("mlqa", "en", data_dir)
    en_of = {q.id: q for q in english.questions}
    rows = []
    for lang in langs:
        for q in load_corpus("mlqa", lang, data_dir).questions:
            en = en_of[q.id]
            rows.append(
                {
                    "qid": q.id,
                    "language": lang,
                    "question_en": en.text,
                    "context_en": english.paragraph_of(en).text,
                    "question": q.text,
                }
            )
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def mlqa_data_dir_in_table_order(data_dir: Path, rows: list[dict[str, str]], out: Path) -> Path:
    """A data directory holding MLQA-R as the registry reads it, with the English paragraphs in the order the
    table first names them (the order of a table's pool) and only those; the other languages' files as they
    are."""
    (out / MLQA).mkdir(parents=True)
    english = json.loads((data_dir / MLQA / "en.json").read_text(encoding="utf-8"))
    paragraph_of = {
        qa["id"]: para for article in english["data"] for para in article["paragraphs"] for qa in para["qas"]
    }
    ordered: dict[str, dict] = {}
    for row in rows:
        para = paragraph_of[row["qid"]]
        ordered.setdefault(para["context"], para)
    articles = [{"title": str(i), "paragraphs": [para]} for i, para in enumerate(ordered.values())]
    (out / MLQA / "en.json").write_text(json.dumps({"version": "1.1", "data": articles}), encoding="utf-8")
    for lang in {row["language"] for row in rows}:
        shutil.copy(data_dir / MLQA / f"{lang}.json", out / MLQA)
    return out


def write_beir(
    out: Path,
    docs: list[tuple[str, str, str | None]],
    queries: list[tuple[str, str, str | None]],
    qrels: list[tuple[str, str, int]],
    split: str = "test",
) -> Path:
    """A BEIR-format directory: ``docs`` and ``queries`` as (id, text, language or None), ``qrels`` lines."""
    (out / "qrels").mkdir(parents=True)
    write_jsonl(
        out / "corpus.jsonl",
        [{"_id": i, "title": "", "text": t, **({"lang": lang} if lang else {})} for i, t, lang in docs],
    )
    write_jsonl(
        out / "queries.jsonl",
        [{"_id": i, "text": t, **({"lang": lang} if lang else {})} for i, t, lang in queries],
    )
    lines = ["query-id\tcorpus-id\tscore", *(f"{q}\t{d}\t{s}" for q, d, s in qrels)]
    (out / "qrels" / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def xquad_beir(data_dir: Path, out: Path, query_lang: str, doc_langs: tuple[str, ...], langs: bool) -> Path:
    """XQuAD's ``query_lang`` questions against the ``doc_langs`` paragraphs as a BEIR set (ids as the
    registry's tasks have them; gold: the question's paragraph in every pool language), with language fields
    when ``langs``."""
    corpora = {lang: load_corpus("xquad", lang, data_dir) for lang in dict.fromkeys((query_lang, *doc_langs))}
    docs = [(p.id, p.text, lang if langs else None) for lang in doc_langs for p in corpora[lang].paragraphs]
    queries = [(q.id, q.text, query_lang if langs else None) for q in corpora[query_lang].questions]
    para_of = {lang: {q.id: q.paragraph_id for q in corpora[lang].questions} for lang in doc_langs}
    qrels = [(qid, para_of[lang][qid], 1) for qid, _, _ in queries for lang in doc_langs]
    return write_beir(out, docs, queries, qrels)
