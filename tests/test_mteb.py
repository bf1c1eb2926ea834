"""clearir and the real mteb package: results mteb's ResultCache loads, clearir's tasks inside mteb.evaluate,
MTEB's MLQA pool, and clearir working without mteb. Everything offline, from the local data files."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import mteb
import pytest
from mteb.models import ModelMeta

from clearir.data.belebele import BELEBELE_CODES
from clearir.data.registry import DATASETS
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.mteb_names import MTEB_VERSION, mteb_model_folder, mteb_model_name, mteb_subset
from clearir.evaluation.scenarios import build_tasks
from clearir.mteb import task_name, tasks
from tests.cli_runner import run
from tests.eval_data import make_data_dir
from tests.tiny_model import make_tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def test_mteb_version_is_the_installed_one() -> None:
    assert mteb.__version__ == MTEB_VERSION


@pytest.mark.parametrize(
    ("dataset", "task", "langs"),
    [
        ("xquad", "XQuADRetrieval", DATASETS["xquad"].languages),
        ("mlqa", "MLQARetrieval", DATASETS["mlqa"].languages),
        ("belebele", "BelebeleRetrieval", tuple(BELEBELE_CODES)),
    ],
)
def test_every_mapped_subset_is_one_of_mtebs(dataset: str, task: str, langs: tuple[str, ...]) -> None:
    meta = mteb.get_task(task).metadata
    subsets = meta.hf_subsets_to_langscripts
    mapped = 0
    for lang in (lang for lang in langs if lang != "en"):
        for scenario, query, pool in [
            ("monolingual", lang, "en"),  # query lang: the monolingual pool is its own language
            ("monolingual", lang, lang),
            ("crosslingual", lang, "en"),
            ("crosslingual", "en", lang),
        ]:
            subset = mteb_subset(dataset, scenario, query, (pool if scenario == "crosslingual" else query,))
            if subset is None:
                continue
            mapped += 1
            assert subset.task == task
            assert subset.subset in subsets, subset
            assert subset.languages == subsets[subset.subset]
            assert subset.split in meta.eval_splits
    assert mapped >= 2 * (len(langs) - 1)
    assert mteb_subset(dataset, "bilingual", "de", ("en", "de")) is None
    assert mteb_subset(dataset, "crosslingual-wide", "de", ("en",)) is None


@pytest.mark.parametrize(
    ("dataset", "task", "langs"),
    [
        ("xquad", "XQuADRetrieval", DATASETS["xquad"].languages),
        ("mlqa", "MLQARetrieval", DATASETS["mlqa"].languages),
        ("belebele", "BelebeleRetrieval", ("en", "de", "ar", "hi")),
    ],
)
def test_every_mapped_matrix_cell_is_one_of_mtebs(dataset: str, task: str, langs: tuple[str, ...]) -> None:
    subsets = mteb.get_task(task).metadata.hf_subsets_to_langscripts
    mapped = [m for q in langs for d in langs if (m := mteb_subset(dataset, "matrix", q, (d,))) is not None]
    assert all(m.task == task and m.subset in subsets and m.languages == subsets[m.subset] for m in mapped)
    # MLQA: all 49 pairs; XQuAD: the diagonal; Belebele: the diagonal and the pairs with English.
    expected = {"xquad": len(langs), "mlqa": 49, "belebele": len(langs) + 2 * (len(langs) - 1)}[dataset]
    assert len({m.subset for m in mapped}) == len(mapped) == expected


def test_mlqa_direction_names_are_mtebs() -> None:
    # MTEB's MLQA subset <corpus>-<queries>: "eng-deu" holds English paragraphs and German questions.
    assert mteb_subset("mlqa", "crosslingual", "de", ("en",)).subset == "eng-deu"
    assert mteb_subset("mlqa", "crosslingual", "en", ("de",)).subset == "deu-eng"
    assert mteb.get_task("MLQARetrieval").metadata.eval_langs["eng-deu"] == ["eng-Latn", "deu-Latn"]
    assert mteb_subset("belebele", "crosslingual", "de", ("en",)).subset == "eng_Latn-deu_Latn"


def test_mlqa_pool_is_mtebs_parallel_pool_and_the_wide_pool_has_its_own_name(data_dir: Path) -> None:
    built = {
        t.spec.name: t for t in build_tasks(["mlqa"], ["de"], ["crosslingual", "crosslingual-wide"], data_dir)
    }
    mteb_pool, wide = built["mlqa-crosslingual-de-en"], built["mlqa-crosslingual-wide-de-en"]
    # Independently from the files: the English paragraphs of the English questions parallel to German ones.
    files = {lang: json.loads((data_dir / "mlqa-r" / f"{lang}.json").read_text()) for lang in ("en", "de")}
    german = {qa["id"] for a in files["de"]["data"] for p in a["paragraphs"] for qa in p["qas"]}
    english = [p for a in files["en"]["data"] for p in a["paragraphs"]]
    parallel = {p["context"] for p in english if any(qa["id"] in german for qa in p["qas"])}
    assert len(mteb_pool.query_ids) == len(german) == 512
    assert set(mteb_pool.doc_texts) == parallel and len(mteb_pool.doc_ids) == len(parallel) == 447
    assert len(wide.doc_ids) == len(english) == 978 and wide.query_texts == mteb_pool.query_texts
    assert mteb_pool.mteb.task == "MLQARetrieval" and mteb_pool.mteb.subset == "eng-deu"
    assert wide.mteb is None
    # English queries search the German pool: every German paragraph is parallel to them.
    en_de = build_tasks(["mlqa"], ["de"], ["crosslingual"], data_dir)[1]
    assert en_de.spec.name == "mlqa-crosslingual-en-de" and en_de.mteb.subset == "deu-eng"
    assert len(en_de.doc_ids) == sum(len(a["paragraphs"]) for a in files["de"]["data"])
    assert build_tasks(["mlqa"], ["de"], ["crosslingual"], data_dir, max_queries=5)[0].mteb is None


def test_result_cache_loads_every_result_of_a_clearir_eval_run(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    model_dir = tmp_path / "tiny"
    make_tiny_model().save(str(model_dir))
    monkeypatch.setenv("CLEARIR_HOME", str(tmp_path / "home"))
    out = tmp_path / "results"  # mteb reads <cache_path>/results/<model>/<revision>/<task>.json
    args = ["eval", "--model", str(model_dir), "--datasets", "xquad,mlqa", "--langs", "de", "--out", str(out)]
    code, _, err = run(
        [*args, "--scenarios", "monolingual,crosslingual,bilingual", "--no-cache"], monkeypatch, capsys
    )
    assert code == 0, err
    clearir_tasks = [json.loads(p.read_text()) for p in (out / "clearir" / "tiny" / "tasks").glob("*.json")]
    expected = {  # (MTEB task, subset) -> clearir's main score
        (mteb_id["task_name"], mteb_id["hf_subset"]): entry["main_score"]
        for task in clearir_tasks
        if (mteb_id := task["clearir"]["mteb"]) is not None
        for entry in task["scores"]["validation"]
    }
    assert set(expected) == {
        ("XQuADRetrieval", "en"),
        ("XQuADRetrieval", "de"),
        ("MLQARetrieval", "eng-eng"),
        ("MLQARetrieval", "deu-deu"),
        ("MLQARetrieval", "eng-deu"),
        ("MLQARetrieval", "deu-eng"),
    }
    assert len(clearir_tasks) == 12  # + XQuAD de→en and en→de, and two bilingual pools per dataset

    cache = mteb.ResultCache(tmp_path)
    paths = cache.get_cache_paths(require_model_meta=True, include_remote=False)
    revision_dir = out / mteb_model_folder("tiny")
    assert {p.name for p in paths} == {"XQuADRetrieval.json", "MLQARetrieval.json"}
    assert {p.name for p in revision_dir.glob("*/*")} == {
        "XQuADRetrieval.json",
        "MLQARetrieval.json",
        "model_meta.json",
    }
    (meta_path,) = revision_dir.glob("*/model_meta.json")
    meta = ModelMeta.model_validate_json_resolved(meta_path.read_text())
    assert meta.name == "clearir/tiny" and meta.revision == meta_path.parent.name
    assert meta.embed_dim == 32 and meta.n_parameters > 0

    results = cache.load_results(validate_and_filter=True, require_model_meta=True, include_remote=False)
    (model,) = results.model_results
    assert (model.model_name, model.model_revision) == ("clearir/tiny", meta.revision)
    loaded = {
        (r.task_name, entry["hf_subset"]): (split, entry)
        for r in model.task_results
        for split, entries in r.scores.items()
        for entry in entries
        if not math.isnan(entry["main_score"])
    }
    assert set(loaded) == set(expected)
    for key, main_score in expected.items():
        split, entry = loaded[key]
        assert split == "validation" and entry["mteb_version"] == MTEB_VERSION
        assert entry["main_score"] == main_score
    # clearir's own files (deeper than <model>/<revision>/) are never taken, even without model_meta.
    loose = cache.load_results(validate_and_filter=True, require_model_meta=False, include_remote=False)
    assert [m.model_name for m in loose.model_results] == ["clearir/tiny"]


def test_a_second_run_keeps_the_other_subsets_of_an_mteb_task(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    model = make_tiny_model().eval()
    for lang in ("de", "es"):
        evaluate_model(
            model,
            build_tasks(["xquad"], [lang], ["monolingual"], data),
            tmp_path / "out",
            model_name="tiny",
            progress=False,
        )
    (path,) = (tmp_path / "out" / "clearir__tiny").glob("*/XQuADRetrieval.json")
    result = mteb.TaskResult.from_disk(path)
    assert sorted(entry["hf_subset"] for entry in result.scores["validation"]) == ["de", "en", "es"]
    assert result.task_name == "XQuADRetrieval" and result.mteb_version == MTEB_VERSION


def test_mteb_model_names() -> None:
    assert mteb_model_name("intfloat__multilingual-e5-small") == "intfloat/multilingual-e5-small"
    assert mteb_model_name("clear-de") == "clearir/clear-de"
    assert mteb_model_folder("clear-de") == "clearir__clear-de"
    assert mteb_model_name("org/model") == "org/model"


def test_mteb_evaluate_on_the_bilingual_pool_equals_clearir_eval(data_dir: Path) -> None:
    model = make_tiny_model().eval()
    model.prompts["document"] = model.prompts["passage"]  # mteb looks up the "document" prompt
    chosen = tasks(["xquad"], ["de"], ["bilingual"], data_dir)
    assert (
        [t.metadata.name for t in chosen]
        == [task_name("xquad", "bilingual")]
        == ["ClearirXQuADBilingualRetrieval"]
    )
    (task,) = chosen
    assert task.metadata.eval_splits == ["validation"] and task.metadata.dataset["revision"] == "7d30520"
    assert task.metadata.hf_subsets_to_langscripts == {
        "de-en+de": ["deu-Latn", "eng-Latn"],
        "en-en+de": ["eng-Latn", "deu-Latn"],
    }
    # One text per batch on both sides: no padding, so the same floats (other batchings differ by ~1e-7,
    # enough to swap near-tied documents of the random tiny model and move Max@R by 1/1190).
    result = mteb.evaluate(
        model, tasks=chosen, cache=None, show_progress_bar=False, encode_kwargs={"batch_size": 1}
    )
    (task_result,) = result.task_results
    from_mteb = {entry["hf_subset"]: entry for entry in task_result.scores["validation"]}
    clearir_run = evaluate_model(
        model,
        build_tasks(["xquad"], ["de"], ["bilingual"], data_dir),
        model_name="tiny",
        batch_size=1,
        progress=False,
        precision="fp32",  # mteb encodes in fp32
    )
    for clearir_result in clearir_run.results:
        entry, scores = from_mteb[clearir_result.spec.subset], clearir_result.scores
        assert entry["main_score"] == entry["ndcg_at_10"]
        for name in ("ndcg_at_10", "max_rank_mean", "max_rank_median", "complete_at_10"):
            assert abs(entry[name] - scores[name]) <= 1e-4, (clearir_result.spec.subset, name)
        assert ("inclination_share" in entry) == (clearir_result.spec.query_lang == "de")
        if "inclination_share" in entry:
            assert abs(entry["inclination_share"] - scores["inclination_share"]) <= 1e-4


def test_tasks_mteb_has_are_left_to_mteb(tmp_path: Path) -> None:
    data = make_data_dir(tmp_path / "data")
    names = [t.metadata.name for t in tasks(["xquad"], ["de"], None, data)]
    assert names == [
        "ClearirXQuADCrosslingualRetrieval",
        "ClearirXQuADBilingualRetrieval",
        "ClearirXQuADMultilingualRetrieval",
    ]
    from clearir.errors import ClearirError

    with pytest.raises(ClearirError, match="MTEB task already"):
        tasks(["xquad"], ["de"], ["monolingual"], data)


def test_clearir_works_without_mteb() -> None:
    code = (
        "import sys, clearir.mteb, clearir.evaluation.engine, clearir.cli.eval, clearir.experiment.runner, "
        "clearir.experiment.models_report; "
        "assert 'mteb' not in sys.modules, 'mteb imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
