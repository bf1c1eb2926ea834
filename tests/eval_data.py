"""Tiny synthetic evaluation data: a data directory with XQuAD-layout files (and, on request, the Belebele and
Tatoeba fixtures), in lower-case Latin text the tiny test model tokenises."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures"
WORDS = ["river", "city", "capital", "school", "war", "century", "world", "year", "time", "first", "new"]


def squad_file(lang: str, articles: int = 3, paragraphs: int = 2, questions: int = 2) -> dict:
    """A SQuAD v1.1 object whose question ids are the same in every language (parallel by position)."""
    data = []
    for a in range(articles):
        paras = []
        for p in range(paragraphs):
            topic = " ".join(WORDS[(a * paragraphs + p + i) % len(WORDS)] for i in range(5))
            paras.append(
                {
                    "context": f"{lang} paragraph {a} {p}: the {topic} of {a * 7 + p} in {lang}",
                    "qas": [
                        {
                            "id": f"q{a}{p}{k}",
                            "question": f"{lang} where is the {WORDS[(a + p + k) % len(WORDS)]} {a}{p}{k}",
                            "answers": [],
                        }
                        for k in range(questions)
                    ],
                }
            )
        data.append({"title": f"article {a}", "paragraphs": paras})
    return {"version": "1.1", "data": data}


def make_data_dir(root: Path, langs: tuple[str, ...] = ("en", "de", "es"), fixtures: bool = False) -> Path:
    """``root`` with ``xquad/xquad.<lang>.json`` for ``langs`` (6 paragraphs, 12 questions each) and, with
    ``fixtures``, the Belebele and Tatoeba test fixtures."""
    (root / "xquad").mkdir(parents=True)
    for lang in langs:
        (root / "xquad" / f"xquad.{lang}.json").write_text(json.dumps(squad_file(lang)), encoding="utf-8")
    if fixtures:
        shutil.copytree(FIXTURES / "belebele", root / "belebele")
        shutil.copytree(FIXTURES / "tatoeba", root / "tatoeba")
    return root
