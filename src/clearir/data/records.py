"""Typed records shared by every reader: paragraphs, questions and a one-language corpus of them."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Paragraph:
    """One passage. ``key`` is language-independent: parallel paragraphs in different languages share it.

    ``id`` is unique across languages and datasets (``"<dataset>/<lang>/<key>"``) and is the document id
    used in retrieval pools, so English and German versions of one paragraph are distinct documents.
    """

    id: str
    key: str
    lang: str
    title: str
    text: str


@dataclass(frozen=True)
class Question:
    """One question. ``id`` is the dataset's question id, which its translations share."""

    id: str
    lang: str
    text: str
    paragraph_id: str


@dataclass
class Corpus:
    """All paragraphs and questions of one dataset in one language."""

    dataset: str
    lang: str
    source: str
    paragraphs: list[Paragraph]
    questions: list[Question]
    _by_id: dict[str, Paragraph] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {p.id: p for p in self.paragraphs}

    def paragraph(self, paragraph_id: str) -> Paragraph:
        return self._by_id[paragraph_id]

    def paragraph_of(self, question: Question) -> Paragraph:
        return self._by_id[question.paragraph_id]
