"""Scenario and task construction: language pairs, gold sets, pools, query selection, and bad input."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clearir.data.records import Corpus, Paragraph, Question
from clearir.errors import ClearirError
from clearir.evaluation.scenarios import TaskSpec, build_task, build_tasks, task_specs
from tests.eval_data import make_data_dir


def test_task_specs_cover_every_direction_and_pool() -> None:
    specs = task_specs("xquad", ["de", "en", "es"])
    got = [(s.scenario, s.query_lang, s.doc_langs) for s in specs]
    assert got == [
        ("monolingual", "en", ("en",)),
        ("monolingual", "de", ("de",)),
        ("monolingual", "es", ("es",)),
        ("crosslingual", "de", ("en",)),
        ("crosslingual", "en", ("de",)),
        ("crosslingual", "es", ("en",)),
        ("crosslingual", "en", ("es",)),
        ("bilingual", "de", ("en", "de")),
        ("bilingual", "en", ("en", "de")),
        ("bilingual", "es", ("en", "es")),
        ("bilingual", "en", ("en", "es")),
        ("multilingual", "en", ("en", "de", "es")),
        ("multilingual", "de", ("en", "de", "es")),
        ("multilingual", "es", ("en", "de", "es")),
    ]
    assert len({s.name for s in specs}) == len(specs)
    assert [s.subset for s in specs[7:9]] == ["de-en+de", "en-en+de"]
    assert specs[-1].name == "xquad-multilingual-es-multi"
    assert specs[7].languages == ["deu-Latn", "eng-Latn"]
    assert [s.scenario for s in task_specs("xquad", ["de"], ["bilingual"])] == ["bilingual", "bilingual"]


def _corpus(lang: str, ids: list[str], paragraphs: int = 2) -> Corpus:
    """``paragraphs`` paragraphs; question i belongs to paragraph i % paragraphs."""
    paras = [Paragraph(f"t/{lang}/{k}", str(k), lang, "", f"{lang} text {k}") for k in range(paragraphs)]
    questions = [
        Question(q, lang, f"{lang} question {q}", paras[i % paragraphs].id) for i, q in enumerate(ids)
    ]
    return Corpus("xquad", lang, f"{lang}.json", paras, questions)


def test_bilingual_gold_is_both_parallel_versions_and_partners_are_required() -> None:
    corpora = {"en": _corpus("en", ["a", "b", "c"]), "de": _corpus("de", ["a", "b"])}
    task = build_task(TaskSpec("xquad", "bilingual", "en", ("en", "de")), corpora)
    assert task.query_ids == ["a", "b"]  # "c" has no German partner
    assert task.doc_ids == ["t/en/0", "t/en/1", "t/de/0", "t/de/1"]
    assert task.doc_langs == ["en", "en", "de", "de"]
    assert task.qrels == {"a": {"t/en/0": 1, "t/de/0": 1}, "b": {"t/en/1": 1, "t/de/1": 1}}
    assert task.query_texts == ["en question a", "en question b"] and task.multigold
    cross = build_task(TaskSpec("xquad", "crosslingual", "de", ("en",)), corpora)
    assert cross.qrels == {"a": {"t/en/0": 1}, "b": {"t/en/1": 1}} and not cross.multigold
    assert (cross.query_prompt, cross.doc_prompt, cross.main_score) == ("query", "passage", "ndcg_at_10")


def test_multilingual_gold_holds_the_versions_that_exist() -> None:
    corpora = {
        "en": _corpus("en", ["a", "b", "c"]),
        "de": _corpus("de", ["a", "b"]),
        "es": _corpus("es", ["a", "c"]),
    }
    task = build_task(TaskSpec("xquad", "multilingual", "en", ("en", "de", "es")), corpora)
    assert task.qrels == {
        "a": {"t/en/0": 1, "t/de/0": 1, "t/es/0": 1},
        "b": {"t/en/1": 1, "t/de/1": 1},
        "c": {"t/en/0": 1, "t/es/1": 1},
    }
    assert len(task.doc_ids) == 6


def test_max_queries_picks_the_same_questions_in_every_task_and_nests() -> None:
    ids = [f"q{i}" for i in range(50)]
    corpora = {"en": _corpus("en", ids), "de": _corpus("de", ids)}
    small = build_task(TaskSpec("xquad", "crosslingual", "de", ("en",)), corpora, max_queries=7)
    other = build_task(TaskSpec("xquad", "crosslingual", "en", ("de",)), corpora, max_queries=7)
    large = build_task(TaskSpec("xquad", "crosslingual", "de", ("en",)), corpora, max_queries=20)
    assert len(small.query_ids) == 7 and small.query_ids == other.query_ids
    assert set(small.query_ids) < set(large.query_ids)
    assert small.query_ids != ids[:7]  # a spread, not the first questions
    assert len(small.doc_ids) == 2  # the pool is never subsampled


def test_real_xquad_pools_and_gold_sets(data_dir: Path) -> None:
    tasks = {t.spec.name: t for t in build_tasks(["xquad"], None, ["bilingual", "multilingual"], data_dir)}
    assert len(tasks) == 22 + 12
    bilingual = tasks["xquad-bilingual-de-en+de"]
    assert len(bilingual.doc_ids) == 480 == len(set(bilingual.doc_ids))
    assert len(bilingual.query_ids) == 1190
    assert Counter(bilingual.doc_langs) == {"en": 240, "de": 240}
    for qid, gold in bilingual.qrels.items():
        de, en = sorted(gold)
        assert de.startswith("xquad/de/") and en.startswith("xquad/en/"), qid
        assert de.split("/")[-1] == en.split("/")[-1]  # the same paragraph key: parallel versions
    multi = tasks["xquad-multilingual-hi-multi"]
    assert len(multi.doc_ids) == 2880 == len(set(multi.doc_ids))
    assert len(multi.query_ids) == 1190
    assert {len(gold) for gold in multi.qrels.values()} == {12}
    assert {doc.split("/")[-1] for doc in multi.qrels[multi.query_ids[0]]} == {"000-00"}


def test_real_mlqa_uses_questions_with_partners(data_dir: Path) -> None:
    tasks = {t.spec.name: t for t in build_tasks(["mlqa"], ["de"], None, data_dir)}
    assert len(tasks["mlqa-monolingual-en-en"].query_ids) == 1148
    bilingual = tasks["mlqa-bilingual-en-en+de"]
    assert len(bilingual.query_ids) == 512  # English questions with a German partner
    assert len(bilingual.doc_ids) == 978 + 456
    assert all(len(gold) == 2 for gold in bilingual.qrels.values())


def test_belebele_and_tatoeba_tasks_from_fixture_files(tmp_path: Path) -> None:
    root = make_data_dir(tmp_path / "data", fixtures=True)
    tasks = {t.spec.name: t for t in build_tasks(["belebele", "tatoeba"], ["de"], None, root)}
    assert "belebele-bilingual-de-en+de" in tasks and "tatoeba-bitext-deu-eng" in tasks
    bitext = tasks["tatoeba-bitext-eng-deu"]
    assert bitext.doc_prompt == bitext.query_prompt == "query" and bitext.main_score == "accuracy"
    assert len(bitext.query_ids) == len(bitext.doc_ids) == 10
    assert all(list(gold) == [f"tatoeba/deu-eng/deu/{qid}"] for qid, gold in bitext.qrels.items())
    assert bitext.query_texts[0] == (root / "tatoeba" / "tatoeba.deu-eng.eng").read_text().splitlines()[0]
    belebele = tasks["belebele-bilingual-de-en+de"]
    passages = Counter(belebele.doc_langs)
    assert set(passages) == {"en", "de"} and passages["en"] == passages["de"] > 1
    for gold in belebele.qrels.values():
        de, en = sorted(gold)  # belebele/de/<link>, belebele/en/<link>: the same passage link
        assert de.removeprefix("belebele/de/") == en.removeprefix("belebele/en/")


@pytest.mark.parametrize(
    ("datasets", "langs", "scenarios", "message"),
    [
        (["xquad"], ["xx"], None, "unknown language 'xx' for xquad"),
        (["nope"], None, None, "unknown dataset 'nope'"),
        (["xquad"], ["de"], ["sideways"], "unknown scenario 'sideways'"),
        (["xquad"], ["de"], ["bitext"], "scenario 'bitext' does not apply to xquad"),
        (["xquad"], ["en"], ["crosslingual"], "no tasks selected"),
        (["belebele"], None, None, "dataset 'belebele' has no files"),
    ],
)
def test_bad_selection_is_a_clear_error(
    tmp_path: Path, datasets: list[str], langs: list[str] | None, scenarios: list[str] | None, message: str
) -> None:
    root = make_data_dir(tmp_path / "data")
    with pytest.raises(ClearirError, match=message):
        build_tasks(datasets, langs, scenarios, root)


def test_language_missing_from_the_data_directory(tmp_path: Path, data_dir: Path) -> None:
    root = make_data_dir(tmp_path / "data", langs=("en", "de"))
    with pytest.raises(
        ClearirError, match=r"language 'es' is not available for xquad .*expected one of de, en"
    ):
        build_tasks(["xquad"], ["es"], None, root)
    with pytest.raises(ClearirError, match="unknown language 'th' for mlqa"):
        build_tasks(["xquad", "mlqa"], ["th"], None, data_dir)


def test_empty_pool_and_no_parallel_questions_are_clear_errors() -> None:
    empty = Corpus("xquad", "de", "de.json", [], [])
    with pytest.raises(ClearirError, match="xquad-crosslingual-en-de: the document pool is empty"):
        build_task(
            TaskSpec("xquad", "crosslingual", "en", ("de",)), {"en": _corpus("en", ["a"]), "de": empty}
        )
    corpora = {"en": _corpus("en", ["a"]), "de": _corpus("de", ["b"])}
    with pytest.raises(ClearirError, match="no de questions with a parallel partner in de, en"):
        build_task(TaskSpec("xquad", "crosslingual", "de", ("en",)), corpora)
