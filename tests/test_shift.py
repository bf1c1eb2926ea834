"""SHIFT: the vectors are the mean differences, the file round-trips, the checks (model, leakage, languages)
refuse bad input with one clear error, and on the real base model and XQuAD German single-language rankings
stay while the mixed pool changes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from transformers.utils import logging as hf_logging

from clearir.errors import ClearirError
from clearir.evaluation.encoder import TextEncoder, model_fingerprint
from clearir.evaluation.engine import score_task
from clearir.evaluation.results import TASKS_DIR, clearir_folder
from clearir.evaluation.scenarios import build_tasks
from clearir.metrics.multigold import gold_ranks
from clearir.model.load import load_model, set_max_seq_length
from clearir.shift import (
    ParallelTexts,
    ShiftSettings,
    ShiftVectors,
    apply,
    file_texts,
    fit_vectors,
    prepare_shift,
    registry_texts,
)
from clearir.shift.parallel import auto_dataset
from tests.cli_runner import run
from tests.tiny_model import make_tiny_model

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TOY = ParallelTexts(
    "de",
    ["der fluss ist in der stadt", "die schule ist neu", "wann war der krieg"],
    ["the river is in the city", "the school is new", "when was the war"],
    {"source": "toy"},
)


@pytest.fixture(scope="module")
def tiny():
    return make_tiny_model().eval()


def test_vector_is_the_mean_difference_on_a_toy_example(tiny) -> None:
    vectors = fit_vectors(TextEncoder(tiny, progress=False, precision="fp32"), [TOY], "fp")
    direct = tiny.encode(TOY.texts, prompt="passage: ", normalize_embeddings=True)
    pivot = tiny.encode(TOY.pivot_texts, prompt="passage: ", normalize_embeddings=True)
    np.testing.assert_allclose(vectors.vectors["de"], direct.mean(0) - pivot.mean(0), atol=1e-6)
    assert vectors.prompt == "passage: " and vectors.pivot == "en" and vectors.langs == ["de"]
    assert len(vectors.texts["de"]) == 6 and vectors.provenance["de"]["source"] == "toy"


def test_apply_subtracts_the_language_vector_from_its_rows_only() -> None:
    emb = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    vectors = {"de": np.array([0.5, 0.0], dtype=np.float32)}
    out = apply(emb, ["en", "de", "de"], vectors)
    np.testing.assert_allclose(out, [[1.0, 0.0], [-0.5, 1.0], [0.1, 0.8]], atol=1e-7)
    assert emb[1, 0] == 0.0  # the input is left as it was
    renormalized = apply(emb, ["en", "de", "de"], vectors, renormalize=True)
    np.testing.assert_allclose(np.linalg.norm(renormalized, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(renormalized[0], [1.0, 0.0])  # pivot rows are never touched
    with pytest.raises(ClearirError, match="no vector for language 'hi'"):
        apply(emb, ["en", "de", "hi"], vectors)
    with pytest.raises(ClearirError, match="one language per row"):
        apply(emb, ["en", "de"], vectors)


def test_vectors_file_round_trips_and_refuses_other_files(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = ShiftVectors(
        {"de": rng.normal(size=8).astype(np.float32), "hi": rng.normal(size=8).astype(np.float32)},
        "en",
        "passage: ",
        "ab" * 32,
        {"de": {"source": "registry:mlqa", "pairs": 3}, "hi": {"source": "file:x", "pairs": 2}},
        {"de": np.array([1, 2**63 + 5], dtype=np.uint64), "hi": np.array([7], dtype=np.uint64)},
    )
    path = vectors.save(tmp_path / "v.shift.safetensors")
    back = ShiftVectors.load(path)
    assert (back.pivot, back.prompt, back.fingerprint, back.provenance) == (
        "en",
        "passage: ",
        "ab" * 32,
        vectors.provenance,
    )
    for lang in ("de", "hi"):
        np.testing.assert_array_equal(back.vectors[lang], vectors.vectors[lang])
        np.testing.assert_array_equal(back.texts[lang], vectors.texts[lang])
    assert path.stat().st_size < 2000
    with pytest.raises(ClearirError, match="estimated with another model"):
        back.check_model("cd" * 32, str(path))
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ClearirError, match="not a SHIFT vectors file"):
        ShiftVectors.load(tmp_path / "bad.safetensors")
    with pytest.raises(ClearirError, match="SHIFT vectors file not found"):
        ShiftVectors.load(tmp_path / "missing.safetensors")


def test_parallel_sources_and_their_errors(tmp_path: Path, data_dir: Path) -> None:
    mlqa = registry_texts("mlqa", ["de"], data_dir, max_pairs=50)[0]
    assert len(mlqa.texts) == len(mlqa.pivot_texts) == 50 and mlqa.provenance["available"] > 400
    assert mlqa.texts != mlqa.pivot_texts
    xquad = registry_texts("xquad", ["hi"], data_dir, max_pairs=None)[0]
    assert len(xquad.texts) == 240
    with pytest.raises(ClearirError, match="no parallel texts for language 'el' in mlqa"):
        registry_texts("mlqa", ["el"], data_dir)
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        json.dumps({"en": "the city", "de": "die stadt"})
        + "\n"
        + json.dumps({"en": "a river", "hi": "नदी"})
        + "\n"
    )
    pairs = {p.lang: p for p in file_texts(path)}
    assert pairs["de"].texts == ["die stadt"] and pairs["hi"].pivot_texts == ["a river"]
    with pytest.raises(ClearirError, match="no parallel texts for language 'zh'"):
        file_texts(path, ["zh"])
    path.write_text(json.dumps({"de": "die stadt"}) + "\n")
    with pytest.raises(ClearirError, match="line 1: expected an object of non-empty texts"):
        file_texts(path)
    assert auto_dataset(["xquad"]) == "mlqa" and auto_dataset(["mlqa"]) == "xquad"
    with pytest.raises(ClearirError, match="none is disjoint from the evaluation set"):
        auto_dataset(["xquad", "mlqa"])


def test_leakage_and_missing_languages_are_refused(tiny, data_dir: Path, tmp_path: Path) -> None:
    tasks = build_tasks(["xquad"], ["de"], ["bilingual"], data_dir, max_queries=5)
    encoder = TextEncoder(tiny, progress=False)
    leaky = fit_vectors(encoder, registry_texts("xquad", ["de"], data_dir, max_pairs=20), "fp")
    leaky.save(tmp_path / "leaky.safetensors")
    with pytest.raises(ClearirError, match="SHIFT leakage: a text that estimated the de vector"):
        prepare_shift(ShiftSettings(str(tmp_path / "leaky.safetensors")), encoder, "fp", tasks)
    other = fit_vectors(encoder, [ParallelTexts("hi", ["a"], ["b"], {"source": "toy"})], "fp")
    other.save(tmp_path / "hi.safetensors")
    with pytest.raises(ClearirError, match="no vector for de"):
        prepare_shift(ShiftSettings(str(tmp_path / "hi.safetensors")), encoder, "fp", tasks)
    with pytest.raises(ClearirError, match="estimated with another model"):
        prepare_shift(ShiftSettings(str(tmp_path / "hi.safetensors")), encoder, "other", tasks)
    # "auto" takes MLQA-R for XQuAD: disjoint, and it covers de.
    shift = prepare_shift(ShiftSettings(max_pairs=10), encoder, "fp", tasks, data_dir)
    assert shift.langs == {"de"} and shift.vectors.provenance["de"]["source"] == "registry:mlqa"


def test_cli_fit_then_eval_with_a_file_and_one_line_errors(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("CLEARIR_HOME", str(tmp_path / "home"))
    model_a, model_b = tmp_path / "a", tmp_path / "b"
    make_tiny_model(seed=0).save(str(model_a))
    make_tiny_model(seed=1).save(str(model_b))
    # As the CLI sets it before transformers is imported: no "Loading weights" bar around the error line.
    hf_logging.disable_progress_bar()
    code, _, err = run(
        ["shift", "fit", "--model", str(model_a), "--langs", "de", "--max-pairs", "20"], monkeypatch, capsys
    )
    assert code == 0, err
    vectors_file = tmp_path / "a.shift.safetensors"  # beside the model directory
    assert vectors_file.is_file() and "de: 20 pairs from registry:mlqa" in err
    base = [
        "eval",
        "--langs",
        "de",
        "--scenarios",
        "monolingual,bilingual",
        "--max-queries",
        "5",
        "--datasets",
    ]
    base += ["xquad", "--out", str(tmp_path / "r"), "--no-cache"]
    code, _, err = run([*base, "--model", str(model_a), "--shift", str(vectors_file)], monkeypatch, capsys)
    assert code == 0, err
    tasks = clearir_folder(tmp_path / "r", "a+shift") / TASKS_DIR
    task = json.loads((tasks / "xquad-bilingual-de-en+de.json").read_text())
    assert task["clearir"]["shift"]["langs"] == ["de"] and task["clearir"]["shift"]["renormalize"] is False

    for args, message in [
        ([*base, "--model", str(model_b), "--shift", str(vectors_file)], "estimated with another model"),
        ([*base, "--model", str(model_a), "--shift", str(tmp_path / "nope")], "vectors file not found"),
        (  # evaluating MLQA-R with vectors from MLQA-R paragraphs
            [
                *base[:8],
                "mlqa",
                "--out",
                str(tmp_path / "r"),
                "--model",
                str(model_a),
                "--shift",
                str(vectors_file),
            ],
            "SHIFT leakage: a text that estimated the de vector",
        ),
        ([*base, "--model", str(model_a), "--shift", "auto", "--shift-langs", "hi"], "--shift-langs hi"),
        (["shift", "fit", "--model", str(model_a), "--langs", "el"], "no parallel texts for language 'el'"),
        (
            ["shift", "fit", "--model", str(model_a), "--parallel", str(tmp_path / "x.jsonl")],
            "file not found",
        ),
    ]:
        code, _, err = run(args, monkeypatch, capsys)
        assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
        assert message in err


@pytest.mark.slow
def test_real_german_single_language_rankings_stay_and_the_pool_moves(base_model_path: Path, data_dir: Path):
    model = load_model(base_model_path)
    fingerprint = model_fingerprint(model, base_model_path)
    set_max_seq_length(model, 128)
    tasks = build_tasks(["xquad"], ["de"], ["monolingual", "crosslingual", "bilingual"], data_dir, 60)
    encoder = TextEncoder(model, progress=False)
    shift = prepare_shift(ShiftSettings(max_pairs=100), encoder, fingerprint, tasks, data_dir)
    embeddings, _ = encoder.encode(
        [("query: ", t) for task in tasks for t in task.query_texts]
        + [("passage: ", t) for task in tasks for t in task.doc_texts]
    )
    by_name = {}
    for task in tasks:
        queries = embeddings.lookup(task.query_texts, "query: ")
        docs = embeddings.lookup(task.doc_texts, "passage: ")
        shifted = shift.documents(task, docs)
        plain_ranks = gold_ranks(task.qrels, task.query_ids, task.doc_ids, queries @ docs.T)
        shift_ranks = gold_ranks(task.qrels, task.query_ids, task.doc_ids, queries @ shifted.T)
        by_name[task.spec.name] = (plain_ranks, shift_ranks)
        plain, moved = score_task(task, queries, docs), score_task(task, queries, shifted)
        if len(task.spec.doc_langs) == 1:  # en→en, de→de, en→de, de→en: every rank and metric the same
            assert plain_ranks == shift_ranks, task.spec.name
            assert plain.per_query == moved.per_query, task.spec.name
    for name in ("xquad-monolingual-de-de", "xquad-crosslingual-en-de"):
        assert name in by_name
    plain_ranks, shift_ranks = by_name["xquad-bilingual-de-en+de"]
    assert plain_ranks != shift_ranks  # the mixed pool moves: the English gold documents rise
    worst = {q: max(r.values()) for q, r in plain_ranks.items()}
    worst_shifted = {q: max(r.values()) for q, r in shift_ranks.items()}
    assert sum(worst_shifted.values()) < sum(worst.values())


def test_training_rows_give_question_pairs_per_language(tmp_path: Path, data_dir: Path) -> None:
    from clearir.rows.build import build_rows, save_rows
    from clearir.shift import rows_texts

    rows, report = build_rows("mlqa", ["de", "hi"], num_negatives=0, max_rows=6, data_dir=data_dir)
    save_rows(rows, report, tmp_path / "rows")
    pairs = {p.lang: p for p in rows_texts(tmp_path / "rows")}
    assert sorted(pairs) == ["de", "hi"] and len(pairs["de"].texts) == 6
    langs = [meta.lang for meta in report.rows]
    expected = [
        (q, en)
        for q, en, lang in zip(rows["lang_question"], rows["en_question"], langs, strict=True)
        if lang == "hi"
    ]
    assert list(zip(pairs["hi"].texts, pairs["hi"].pivot_texts, strict=True)) == expected
    assert pairs["hi"].provenance["unit"] == "question"
    with pytest.raises(ClearirError, match="no parallel texts for language 'zh'"):
        rows_texts(tmp_path / "rows", ["zh"])
