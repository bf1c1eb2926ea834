"""Joining corpora of different languages: parallel questions by id, MLQA-R paragraph keys via a pivot."""

from __future__ import annotations

from dataclasses import replace

from clearir.data.records import Corpus, Question
from clearir.errors import ClearirError


def parallel_pairs(src: Corpus, tgt: Corpus, strict: bool = True) -> list[tuple[Question, Question]]:
    """``(src question, tgt question)`` pairs sharing a question id, in ``src`` order.

    With ``strict``, every ``src`` question must have a partner in ``tgt``, else a ClearirError names the
    files and the first ids without one; without it, unpaired questions are left out.
    """
    by_id = {q.id: q for q in tgt.questions}
    pairs = [(q, by_id[q.id]) for q in src.questions if q.id in by_id]
    if strict and len(pairs) < len(src.questions):
        missing = [q.id for q in src.questions if q.id not in by_id]
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise ClearirError(
            f"{src.source}: {len(missing)} of {len(src.questions)} questions have no parallel partner "
            f"(same question id) in {tgt.source}: {shown}"
        )
    return pairs


def align_keys(corpus: Corpus, pivot: Corpus) -> Corpus:
    """Re-key ``corpus``'s paragraphs with the keys of the ``pivot`` paragraphs they correspond to (MLQA-R).

    MLQA-R paragraphs are parallel only through their questions, and not one-to-one: they are
    comparable passages from different Wikipedia editions, and each language holds a different subset of
    the English questions. So a paragraph's own smallest question id (its key as read) need not equal the
    key of the English paragraph holding that question. Here each paragraph, in order of its own key, takes
    the key of the pivot paragraph holding its smallest question that the pivot has, unless an earlier
    paragraph took that key already (a pivot paragraph split over several paragraphs of ``corpus``); then,
    or with no such question, it keeps its own. Keys are question ids throughout; a clash (possible only for
    questions missing from ``pivot``) is an error.
    """
    pivot_key = {q.id: pivot.paragraph_of(q).key for q in pivot.questions}
    questions_of: dict[str, list[str]] = {}
    for q in corpus.questions:
        questions_of.setdefault(q.paragraph_id, []).append(q.id)
    new_key: dict[str, str] = {}
    taken: set[str] = set()
    for para in sorted(corpus.paragraphs, key=lambda p: p.key):
        shared = sorted(i for i in questions_of.get(para.id, []) if i in pivot_key)
        key = pivot_key[shared[0]] if shared else para.key
        if key in taken:
            key = para.key
        if key in taken:
            raise ClearirError(
                f"{corpus.source}: paragraph key {key!r} is claimed twice when aligning with {pivot.source}; "
                "expected each paragraph's questions to come from the pivot file"
            )
        taken.add(key)
        new_key[para.id] = key
    prefix = f"{corpus.dataset}/{corpus.lang}/"
    paragraphs = [replace(p, id=prefix + new_key[p.id], key=new_key[p.id]) for p in corpus.paragraphs]
    questions = [replace(q, paragraph_id=prefix + new_key[q.paragraph_id]) for q in corpus.questions]
    return replace(corpus, paragraphs=paragraphs, questions=questions)
