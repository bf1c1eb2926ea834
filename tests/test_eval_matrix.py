"""The language matrix (``matrix``: any query language x any document language) and the bilingual pool of any
two languages (``pairs``) on real XQuAD and MLQA-R: the tasks, each text encoded once however many cells use
it, and every cell equal to the classic direction or pool it may be."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from clearir.data.registry import load_corpus
from clearir.errors import ClearirError
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.mteb_names import mteb_subset
from clearir.evaluation.results import mteb_task_jsons
from clearir.evaluation.scenarios import build_tasks, sample_queries, task_specs
from tests.test_eval_engine import Recorder
from tests.tiny_model import make_tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

XQUAD = ("en", "ar", "de", "el", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh")
MAX_QUERIES = 30


def test_matrix_and_pairs_specs_any_language_on_either_side() -> None:
    specs = task_specs("xquad", ["de", "es"], ["matrix", "pairs"])
    got = [(s.scenario, s.query_lang, s.doc_langs) for s in specs]
    langs = ("en", "de", "es")
    assert got[:9] == [("matrix", q, (d,)) for q in langs for d in langs]
    assert got[9:] == [
        ("pairs", "de", ("en", "de")),
        ("pairs", "en", ("en", "de")),
        ("pairs", "es", ("en", "es")),
        ("pairs", "en", ("en", "es")),
        ("pairs", "es", ("de", "es")),
        ("pairs", "de", ("de", "es")),
    ]
    names = [s.name for s in specs]
    assert names[5] == "xquad-matrix-de-es" and names[-1] == "xquad-pairs-de-de+es"
    assert len(set(names)) == len(names)
    # On request only: the default scenarios stay the classic ones, with their names.
    default = task_specs("xquad", ["de"])
    assert {s.scenario for s in default} == {"monolingual", "crosslingual", "bilingual", "multilingual"}
    assert "xquad-crosslingual-de-en" in {s.name for s in default}
    with pytest.raises(ClearirError, match="does not apply to tatoeba"):
        task_specs("tatoeba", ["deu"], ["matrix"])


def test_matrix_cells_keep_mtebs_subset_names() -> None:
    # mteb's MLQARetrieval has all 49 pairs: corpus first, then queries.
    ar_de = mteb_subset("mlqa", "matrix", "de", ("ar",))
    assert ar_de is not None and (ar_de.task, ar_de.subset) == ("MLQARetrieval", "ara-deu")
    assert mteb_subset("mlqa", "matrix", "de", ("en",)) == mteb_subset("mlqa", "crosslingual", "de", ("en",))
    assert mteb_subset("xquad", "matrix", "de", ("de",)) == mteb_subset("xquad", "monolingual", "de", ("de",))
    # XQuADRetrieval is monolingual only; Belebele has pairs with English only; pools are never MTEB's.
    assert mteb_subset("xquad", "matrix", "de", ("en",)) is None
    assert mteb_subset("belebele", "matrix", "de", ("ar",)) is None
    assert mteb_subset("belebele", "matrix", "de", ("en",)) is not None
    assert mteb_subset("mlqa", "pairs", "de", ("ar", "de")) is None


@pytest.fixture(scope="module")
def xquad_run(data_dir: Path):
    """Every XQuAD language, the classic scenarios and the matrix and pairs, on a tiny model; the texts
    the model was given."""
    scenarios = ["monolingual", "crosslingual", "bilingual", "matrix", "pairs"]
    tasks = build_tasks(["xquad"], None, scenarios, data_dir, max_queries=MAX_QUERIES)
    model = make_tiny_model(max_seq_length=32).eval()
    recorder = Recorder(model)
    run = evaluate_model(model, tasks, model_name="tiny", batch_size=64, progress=False)
    return tasks, run, recorder


def test_full_matrix_on_real_xquad_encodes_each_text_once(data_dir: Path, xquad_run) -> None:
    tasks, run, recorder = xquad_run
    matrix = [t for t in tasks if t.spec.scenario == "matrix"]
    pairs = [t for t in tasks if t.spec.scenario == "pairs"]
    assert len(matrix) == 144 == len(XQUAD) ** 2
    assert {(t.spec.query_lang, t.spec.doc_langs[0]) for t in matrix} == {
        (q, d) for q in XQUAD for d in XQUAD
    }
    assert len(pairs) == 132 == len(XQUAD) * (len(XQUAD) - 1)
    # The distinct inputs, from the corpora directly: each language's sampled questions and every paragraph.
    expected: set[tuple[str, str]] = set()
    for lang in XQUAD:
        corpus = load_corpus("xquad", lang, data_dir)
        keep = sample_queries((q.id for q in corpus.questions), MAX_QUERIES)
        expected |= {("query: ", q.text) for q in corpus.questions if q.id in keep}
        expected |= {("passage: ", p.text) for p in corpus.paragraphs}
    # Every text went through the model once, in as many calls as batches, however many tasks use it.
    assert len(recorder.seen) == len(set(recorder.seen))
    assert set(recorder.seen) == expected
    assert run.encoding.encoded == run.encoding.unique == len(expected)
    assert recorder.calls == -(-sum(1 for p, _ in expected if p == "query: ") // 64) + -(
        -sum(1 for p, _ in expected if p == "passage: ") // 64
    )
    requested = sum(len(t.query_ids) + len(t.doc_ids) for t in tasks)
    assert run.encoding.requested == requested > 10 * len(expected)


def test_matrix_cells_and_pair_pools_equal_the_classic_scenarios(xquad_run) -> None:
    tasks, run, _ = xquad_run
    by_name = {t.spec.name: t for t in tasks}
    scores = {r.name: r for r in run.results}
    same = [
        ("xquad-matrix-de-en", "xquad-crosslingual-de-en"),
        ("xquad-matrix-en-hi", "xquad-crosslingual-en-hi"),
    ]
    same += [(f"xquad-matrix-{lang}-{lang}", f"xquad-monolingual-{lang}-{lang}") for lang in XQUAD]
    same += [(f"xquad-matrix-{lang}-en", f"xquad-crosslingual-{lang}-en") for lang in XQUAD[1:]]
    same += [
        (f"xquad-pairs-{q}-en+{lang}", f"xquad-bilingual-{q}-en+{lang}")
        for lang in XQUAD[1:]
        for q in (lang, "en")
    ]
    for cell, classic in same:
        a, b = by_name[cell], by_name[classic]
        assert (a.query_ids, a.doc_ids, a.qrels) == (b.query_ids, b.doc_ids, b.qrels), cell
        assert scores[cell].scores == scores[classic].scores, cell
        assert scores[cell].per_query == scores[classic].per_query, cell
    # A cell of two other languages: German questions, Arabic paragraphs, each query's gold its parallel one.
    de_ar = by_name["xquad-matrix-de-ar"]
    assert len(de_ar.doc_ids) == 240 and all(d.startswith("xquad/ar/") for d in de_ar.doc_ids)
    assert len(de_ar.query_ids) == MAX_QUERIES and all(len(g) == 1 for g in de_ar.qrels.values())
    ar_de = by_name["xquad-pairs-ar-ar+de"]
    assert len(ar_de.doc_ids) == 480 and all(len(g) == 2 for g in ar_de.qrels.values())
    for qid, gold in ar_de.qrels.items():
        assert sorted(d.split("/")[1] for d in gold) == ["ar", "de"], qid
        assert len({d.split("/")[-1] for d in gold}) == 1  # parallel versions of one paragraph
    # Pools without English have no English inclination; Max@R and Complete@k apply.
    pair_scores = scores["xquad-pairs-ar-ar+de"].scores
    assert "complete_at_10" in pair_scores and "inclination" not in scores["xquad-pairs-ar-ar+de"].per_query
    assert "inclination" in scores["xquad-bilingual-ar-en+ar"].per_query
    # A matrix cell and its mirror differ (another direction), and values are real numbers.
    assert scores["xquad-matrix-de-ar"].scores != scores["xquad-matrix-ar-de"].scores
    assert all(np.isfinite(r.scores["ndcg_at_10"]) for r in run.results)


def test_mlqa_matrix_is_7_by_7_and_every_cell_is_an_mteb_subset(data_dir: Path) -> None:
    tasks = build_tasks(["mlqa"], None, ["matrix", "crosslingual"], data_dir)
    matrix = [t for t in tasks if t.spec.scenario == "matrix"]
    assert len(matrix) == 49
    assert all(t.mteb is not None and t.mteb.task == "MLQARetrieval" for t in matrix)
    assert len({t.mteb.subset for t in matrix if t.mteb}) == 49
    by_name = {t.spec.name: t for t in tasks}
    de_en, classic = by_name["mlqa-matrix-de-en"], by_name["mlqa-crosslingual-de-en"]
    assert (de_en.query_ids, de_en.doc_ids, de_en.qrels) == (
        classic.query_ids,
        classic.doc_ids,
        classic.qrels,
    )
    ar_de = by_name["mlqa-matrix-ar-de"]
    # Arabic questions with a German version only, in a pool of their German paragraphs.
    german = {q.id for q in load_corpus("mlqa", "de", data_dir).questions}
    assert set(ar_de.query_ids) <= german and len(ar_de.query_ids) > 100
    assert ar_de.mteb is not None and ar_de.mteb.subset == "deu-ara"


def test_mteb_files_hold_each_subset_once(data_dir: Path) -> None:
    """A matrix cell that is also a classic direction of the run is one MTEB subset, written once."""
    tasks = build_tasks(["mlqa"], ["de"], ["crosslingual", "matrix"], data_dir)
    assert len(tasks) == 2 + 4
    run = evaluate_model(make_tiny_model(max_seq_length=16).eval(), tasks, model_name="tiny", progress=False)
    entries = mteb_task_jsons(run)["MLQARetrieval"]["scores"]["validation"]
    assert sorted(e["hf_subset"] for e in entries) == ["deu-deu", "deu-eng", "eng-deu", "eng-eng"]
    by_name = {r.name: r for r in run.results}
    assert by_name["mlqa-matrix-de-en"].scores == by_name["mlqa-crosslingual-de-en"].scores
