"""The evaluation engine on a tiny random model and synthetic data: each unique text encoded once, prompts,
the embedding cache, metrics against the metric functions, output files, and bad input."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from clearir.errors import ClearirError
from clearir.evaluation import engine
from clearir.evaluation.encoder import TextEncoder, model_fingerprint
from clearir.evaluation.engine import evaluate_model, score_task
from clearir.evaluation.results import read_per_query
from clearir.evaluation.scenarios import RetrievalTask, build_tasks
from clearir.metrics.multigold import evaluate_multigold
from clearir.metrics.ranking import evaluate
from clearir.model.load import load_model
from tests.eval_data import make_data_dir
from tests.tiny_model import make_tiny_model
from tests.train_data import tiny_model_dir


@pytest.fixture
def tasks(tmp_path: Path) -> list[RetrievalTask]:
    """All XQuAD-layout scenarios for de and es (plus en) on the synthetic data: 14 tasks."""
    return build_tasks(["xquad"], ["de", "es"], None, make_data_dir(tmp_path / "data"))


class Recorder:
    """Wraps ``model.encode`` to record every (prompt, text) it is given."""

    def __init__(self, model: SentenceTransformer, fail_after: int | None = None) -> None:
        self.seen: list[tuple[str, str]] = []
        self.calls = 0
        self._encode = model.encode
        self._fail_after = fail_after
        model.encode = self  # type: ignore[method-assign]

    def __call__(self, texts: list[str], prompt: str = "", **kwargs: object) -> np.ndarray:
        if self._fail_after is not None and self.calls >= self._fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.seen += [(prompt, text) for text in texts]
        return self._encode(texts, prompt=prompt, **kwargs)


def test_each_unique_text_is_encoded_once_with_its_prompt(tasks: list[RetrievalTask]) -> None:
    model = make_tiny_model()
    recorder = Recorder(model)
    run = evaluate_model(model, tasks, model_name="tiny", batch_size=4, progress=False)
    assert len(run.results) == 14
    # 3 languages x (6 paragraphs + 12 questions), whatever the number of tasks using them.
    assert len(recorder.seen) == len(set(recorder.seen)) == 54
    assert run.encoding.encoded == run.encoding.unique == 54 and run.encoding.cached == 0
    needed = sum(len(t.query_ids) + len(t.doc_ids) for t in tasks)
    assert run.encoding.requested == needed == 12 * 14 + 6 * (7 + 4 * 2 + 3 * 3)
    prompts = {prompt for prompt, text in recorder.seen if "paragraph" in text}
    assert prompts == {"passage: "}
    assert {prompt for prompt, text in recorder.seen if "where is" in text} == {"query: "}


def test_batched_embeddings_equal_one_by_one_encoding() -> None:
    model = make_tiny_model().eval()
    items = [
        ("query: ", "where is the river"),
        ("passage: ", "the river city " * 9),
        ("", "a b c"),
        ("query: ", "x"),
    ]
    encoder = TextEncoder(model, batch_size=2, progress=False, precision="fp32")
    embeddings, stats = encoder.encode(items + items[:2])
    assert (stats.requested, stats.unique, stats.encoded) == (6, 4, 4)
    for prompt, text in items:
        direct = model.encode([text], prompt=prompt, normalize_embeddings=True)
        np.testing.assert_allclose(embeddings.lookup([text], prompt), direct, atol=1e-5)
    with pytest.raises(ClearirError, match="not encoded with prompt 'passage: '"):
        embeddings.lookup(["x"], "passage: ")


def test_model_without_prompts_gets_no_prompt(tasks: list[RetrievalTask]) -> None:
    model = make_tiny_model()
    model.prompts = {}
    recorder = Recorder(model)
    evaluate_model(model, tasks[:1], model_name="tiny", progress=False)
    assert {prompt for prompt, _ in recorder.seen} == {""}


def test_cache_second_run_encodes_nothing_and_gives_the_same_scores(
    tasks: list[RetrievalTask], tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = evaluate_model(make_tiny_model(), tasks, model_name="tiny", cache_dir=cache, progress=False)
    model = make_tiny_model()
    recorder = Recorder(model)
    second = evaluate_model(model, tasks, model_name="tiny", cache_dir=cache, progress=False)
    assert recorder.seen == [] and second.encoding.encoded == 0 and second.encoding.cached == 54
    assert [r.scores for r in second.results] == [r.scores for r in first.results]
    # Other weights, another fingerprint: nothing is reused.
    other = evaluate_model(make_tiny_model(seed=1), tasks, model_name="tiny", cache_dir=cache, progress=False)
    assert other.encoding.encoded == 54
    assert len(list(cache.iterdir())) == 2


def test_a_loaded_model_with_its_source_shares_the_cache_of_its_path(
    tasks: list[RetrievalTask], tmp_path: Path
) -> None:
    """A model loaded once and evaluated with ``source`` (as the experiment layer does, with and without
    SHIFT) is fingerprinted by its directory's files, as when evaluated by path."""
    path, cache = tiny_model_dir(tmp_path / "model"), tmp_path / "cache"
    first = evaluate_model(path, tasks, model_name="tiny", cache_dir=cache, progress=False)
    loaded = load_model(path)
    again = evaluate_model(loaded, tasks, model_name="tiny", cache_dir=cache, progress=False, source=path)
    assert again.encoding.encoded == 0 and again.encoding.cached == first.encoding.encoded
    assert again.revision == first.revision
    assert [r.scores for r in again.results] == [r.scores for r in first.results]
    tensors = evaluate_model(loaded, tasks, model_name="tiny", cache_dir=cache, progress=False)
    assert tensors.revision != first.revision  # without its source: the tensors' fingerprint


def test_fingerprint_follows_weights_and_max_seq_length() -> None:
    model = make_tiny_model()
    base = model_fingerprint(model)
    assert model_fingerprint(make_tiny_model()) == base
    model.max_seq_length = 16
    assert model_fingerprint(model) != base


def test_interrupted_run_keeps_flushed_embeddings(tmp_path: Path) -> None:
    items = [("query: ", f"sentence {i} of the river") for i in range(12)]
    model = make_tiny_model()
    Recorder(model, fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        TextEncoder(model, batch_size=3, cache_dir=tmp_path, progress=False, flush_every=3).encode(items)
    assert not list(tmp_path.rglob("*.tmp"))
    _, stats = TextEncoder(make_tiny_model(), batch_size=3, cache_dir=tmp_path, progress=False).encode(items)
    assert (stats.cached, stats.encoded) == (6, 6)


def test_corrupt_cache_shard_is_dropped_and_recomputed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    model = make_tiny_model().eval()
    first, _ = TextEncoder(model, cache_dir=tmp_path, progress=False).encode([("", "one text")])
    (shard,) = tmp_path.rglob("*.npz")
    shard.write_bytes(b"not a numpy file")
    again, stats = TextEncoder(model, cache_dir=tmp_path, progress=False).encode([("", "one text")])
    assert stats.cached == 0 and stats.encoded == 1
    np.testing.assert_allclose(again.vectors, first.vectors, atol=1e-6)
    err = capsys.readouterr().err
    assert err.startswith(f"warning: {shard}: damaged embedding cache shard") and err.count("\n") == 1
    assert shard not in set(tmp_path.rglob("*.npz"))  # replaced by a new, whole shard


def test_scores_agree_with_the_metric_functions(
    tasks: list[RetrievalTask], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "_RANK_BLOCK", 5)  # several query blocks
    model = make_tiny_model().eval()
    for task in (
        t for t in tasks if t.spec.name in ("xquad-multilingual-de-multi", "xquad-crosslingual-de-en")
    ):
        queries = model.encode(task.query_texts, prompt="query: ", normalize_embeddings=True)
        docs = model.encode(task.doc_texts, prompt="passage: ", normalize_embeddings=True)
        result = score_task(task, queries, docs, top_k=1000)
        scores = queries @ docs.T
        run = {
            q: dict(zip(task.doc_ids, map(float, row), strict=True))
            for q, row in zip(task.query_ids, scores, strict=True)
        }
        full = evaluate(task.qrels, run)
        assert result.scores["ndcg_at_10"] == pytest.approx(full["ndcg_at_10"], abs=1e-6)
        assert result.scores["map_at_1000"] == pytest.approx(full["map"], abs=1e-6)
        assert result.main_value == result.scores["ndcg_at_10"]
        assert set(result.per_query["ndcg_at_10"]) == set(task.query_ids)
        if task.multigold:
            expected = evaluate_multigold(
                task.qrels, task.query_ids, task.doc_ids, scores, task.doc_langs, "de"
            )
            for name, value in expected.items():
                assert result.scores[name] == pytest.approx(value, abs=1e-9), name
            assert result.scores["max_rank_mean"] >= 3  # three gold documents per query
        truncated = score_task(task, queries, docs, top_k=2)
        assert (
            "map_at_2" in truncated.scores and truncated.scores["recall_at_1"] == result.scores["recall_at_1"]
        )


def test_output_files_in_mteb_layout(tasks: list[RetrievalTask], tmp_path: Path) -> None:
    run = evaluate_model(make_tiny_model(), tasks, tmp_path / "out", model_name="tiny", progress=False)
    folder = tmp_path / "out" / "clearir" / "tiny"
    names = sorted(p.name for p in (folder / "tasks").glob("*.json"))
    assert names == sorted(f"{r.name}.json" for r in run.results)
    data = json.loads((folder / "tasks" / "xquad-bilingual-de-en+de.json").read_text())
    assert data["task_name"] == "xquad-bilingual-de-en+de"
    assert {"dataset_revision", "mteb_version", "evaluation_time", "kg_co2_emissions"} <= set(data)
    (entry,) = data["scores"]["validation"]
    assert entry["hf_subset"] == "de-en+de" and entry["languages"] == ["deu-Latn", "eng-Latn"]
    assert entry["main_score"] == entry["ndcg_at_10"]
    assert {"max_rank_mean", "complete_at_10", "inclination_share", "recall_at_100", "mrr_at_10"} <= set(
        entry
    )
    assert data["clearir"]["num_docs"] == 12 and data["clearir"]["doc_langs"] == ["en", "de"]
    per_query = read_per_query(folder, "xquad-bilingual-de-en+de")
    bilingual = next(r for r in run.results if r.name == "xquad-bilingual-de-en+de")
    assert per_query == bilingual.per_query and len(per_query["max_rank"]) == 12
    stored = json.loads(
        gzip.decompress((folder / "per_query" / "xquad-bilingual-de-en+de.json.gz").read_bytes())
    )
    assert len(stored["queries"]) == 12 and len(stored["values"]["max_rank"]) == 12
    with (folder / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [row["task_name"] for row in rows] == [r.name for r in run.results]
    assert rows[0]["max_rank_mean"] == "" and float(rows[7]["max_rank_mean"]) >= 2
    assert not list(folder.rglob("*.tmp"))


def test_max_seq_length_is_applied_and_restored(tasks: list[RetrievalTask]) -> None:
    model = make_tiny_model()
    lengths: list[int] = []
    encode = model.encode

    def spy(*args: object, **kwargs: object) -> np.ndarray:
        lengths.append(model.max_seq_length)
        return encode(*args, **kwargs)

    model.encode = spy  # type: ignore[method-assign]
    evaluate_model(model, tasks[:1], model_name="tiny", max_seq_length=8, progress=False)
    assert set(lengths) == {8} and model.max_seq_length == 64
    with pytest.raises(ClearirError, match="--max-seq-length must be between 1 and"):
        evaluate_model(model, tasks[:1], model_name="tiny", max_seq_length=0, progress=False)


def test_bad_model_input_is_a_clear_error(tmp_path: Path, tasks: list[RetrievalTask]) -> None:
    with pytest.raises(ClearirError, match=r"model path .*nowhere does not exist"):
        load_model(tmp_path / "nowhere")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ClearirError, match="is a file; expected a model directory"):
        load_model(tmp_path / "file")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ClearirError, match=r"empty is not a model directory: it has no modules\.json"):
        load_model(tmp_path / "empty")
    with pytest.raises(ClearirError, match="needs model_name"):
        evaluate_model(make_tiny_model(), tasks, progress=False)
    with pytest.raises(ClearirError, match="--batch-size must be >= 1"):
        evaluate_model(make_tiny_model(), tasks, model_name="tiny", batch_size=0, progress=False)


def test_read_per_query_reads_the_older_layout_and_names_a_damaged_file(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    (folder / "per_query").mkdir(parents=True)
    legacy = {"task_name": "t", "values": {"ndcg_at_10": {"q1": 1.0, "q2": 0.5}}}
    (folder / "per_query" / "t.json").write_text(json.dumps(legacy))
    assert read_per_query(folder, "t") == {"ndcg_at_10": {"q1": 1.0, "q2": 0.5}}
    (folder / "per_query" / "u.json.gz").write_bytes(b"not gzip")
    with pytest.raises(ClearirError, match=r"u\.json\.gz: not readable"):
        read_per_query(folder, "u")
