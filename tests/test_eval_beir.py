"""``clearir eval --beir DIR`` through the real entry point: BEIR sets written from real XQuAD texts score as
the registry's XQuAD tasks do (nDCG@10; with languages also Max@R, Complete@k, inclination); bad input is one
line."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from clearir.evaluation.results import PER_QUERY_DIR, PER_QUERY_SUFFIX, TASKS_DIR, clearir_folder
from tests.cli_runner import run
from tests.own_data import write_beir, xquad_beir
from tests.tiny_model import make_tiny_model

MIXED = (
    "ndcg_at_10",
    "max_rank_mean",
    "max_rank_median",
    "complete_at_1",
    "complete_at_10",
    "inclination_mean",
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tiny") / "tiny-model"
    make_tiny_model().save(str(path))
    return path


def scores(out: Path, model: str, task: str) -> dict[str, float]:
    """The scores of ``task`` in clearir's result folder of ``model`` (its one split)."""
    path = clearir_folder(out, model) / TASKS_DIR / f"{task}.json"
    (split,) = json.loads(path.read_text(encoding="utf-8"))["scores"].values()
    return split[0]


def test_beir_sets_score_as_the_registry_tasks(
    tiny_model: Path,
    tmp_path: Path,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    common = [
        "eval",
        "--model",
        str(tiny_model),
        "--max-queries",
        "40",
        "--no-cache",
        "--out",
        str(tmp_path / "r"),
    ]
    registry = [*common, "--datasets", "xquad", "--langs", "de", "--scenarios", "crosslingual,bilingual"]
    code, _, err = run([*registry, "--model-name", "registry"], monkeypatch, capsys)
    assert code == 0, err
    cross = xquad_beir(data_dir, tmp_path / "xq_cross", "de", ("en",), langs=False)
    mixed = xquad_beir(data_dir, tmp_path / "xq_mixed", "de", ("en", "de"), langs=True)
    for name, folder in (("cross", cross), ("mixed", mixed)):
        code, out, err = run([*common, "--beir", str(folder), "--model-name", name], monkeypatch, capsys)
        assert code == 0, err
        assert "1 tasks" in err and "beir" in out
    out = tmp_path / "r"
    plain = scores(out, "cross", "beir-xq_cross-und-und")
    assert plain["ndcg_at_10"] == scores(out, "registry", "xquad-crosslingual-de-en")["ndcg_at_10"] > 0
    assert (
        "max_rank_mean" not in plain
    )  # one relevant document per query, no languages: no mixed-pool metrics
    mixed_scores = scores(out, "mixed", "beir-xq_mixed-de-en+de")
    bilingual = scores(out, "registry", "xquad-bilingual-de-en+de")
    assert {m: mixed_scores[m] for m in MIXED} == {m: bilingual[m] for m in MIXED}
    assert mixed_scores["max_rank_mean"] > 1 and "inclination_share" in mixed_scores
    path = clearir_folder(out, "mixed") / PER_QUERY_DIR / f"beir-xq_mixed-de-en+de{PER_QUERY_SUFFIX}"
    per_query = json.loads(gzip.decompress(path.read_bytes()))
    assert len(per_query["values"]["max_rank"]) == 40 and per_query["split"] == "test"


def test_query_languages_split_the_set_into_tasks(
    tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    docs = [("e1", "the river city", "en"), ("d1", "die stadt am river", "de"), ("e2", "a school war", "en")]
    queries = [("q1", "where is the river", "en"), ("q2", "wo ist der river", "de"), ("q3", "unused", "en")]
    qrels = [("q1", "e1", 1), ("q1", "d1", 1), ("q2", "d1", 1), ("q2", "e1", 1), ("q2", "e2", 0)]
    folder = write_beir(tmp_path / "small", docs, queries, qrels)
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq3\te2\t1\n", encoding="utf-8")
    args = [
        "eval",
        "--model",
        str(tiny_model),
        "--beir",
        str(folder),
        "--no-cache",
        "--out",
        str(tmp_path / "r"),
    ]
    code, _, err = run([*args, "--model-name", "m"], monkeypatch, capsys)
    assert code == 0, err
    assert sorted(p.name for p in (clearir_folder(tmp_path / "r", "m") / TASKS_DIR).glob("*.json")) == [
        "beir-small-de-en+de.json",
        "beir-small-en-en+de.json",
    ]
    de = scores(tmp_path / "r", "m", "beir-small-de-en+de")
    assert (
        de["languages"] == ["deu-Latn", "eng-Latn"] and "complete_at_10" in de and "inclination_share" in de
    )
    # two relevant documents of three: the worse one ranks 2nd or 3rd, never both in the top 1
    assert de["max_rank_mean"] in (2.0, 3.0) and de["complete_at_1"] == 0.0 and de["complete_at_5"] == 1.0
    assert "inclination_share" not in scores(tmp_path / "r", "m", "beir-small-en-en+de")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ({"qrels": "q1\tzz\t1"}, "qrels/test.tsv: line 3: document 'zz' is not in corpus.jsonl"),
        ({"qrels": "q9\td1\t1"}, "qrels/test.tsv: line 3: query 'q9' is not in queries.jsonl"),
        ({"qrels": "q1\td2\thigh"}, "qrels/test.tsv: line 3: score 'high'; expected an integer"),
        ({"qrels": "q1\td1\t1"}, "line 3: query 'q1' and document 'd1' repeat line 2"),
        ({"qrels": "q1 d2 1"}, "qrels/test.tsv: line 3 has 1 tab-separated fields; expected 3"),
        ({"queries": {"_id": "q3", "text": "lonely"}}, "queries.jsonl: line 3: query 'q3' has no qrels in"),
        (
            {"corpus": {"_id": "d3", "text": ""}},
            'corpus.jsonl: line 3: "text" is empty; expected a non-empty',
        ),
        ({"corpus": {"_id": "d1", "text": "again"}}, "corpus.jsonl: line 3: document id 'd1' repeats line 1"),
        (
            {"corpus": {"_id": "d3", "text": "x", "lang": "de"}},
            "line 3 has a language field (lang or language)",
        ),
        ({"corpus": "{oops"}, "corpus.jsonl: invalid JSON at line 3"),
        ({"header": "qid\tdoc\tscore"}, "qrels/test.tsv: line 1 is 'qid\\tdoc\\tscore'; expected the header"),
        ({"zero": True}, "line 3: query 'q2' has no relevant document (score > 0)"),
        (
            {"args": ["--beir-split", "dev"]},
            "qrels/dev.tsv: file not found (expected the qrels of split 'dev'",
        ),
        ({"args": ["--langs", "de"]}, "--beir evaluates the whole set; --langs do not apply"),
        ({"missing": True}, "no-such-dir: does not exist; expected a directory holding a BEIR retrieval set"),
    ],
)
def test_bad_beir_input_is_one_line(
    damage: dict,
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    folder = write_beir(
        tmp_path / "set",
        [("d1", "one", None), ("d2", "two", None)],
        [("q1", "first", None), ("q2", "second", None)],
        [("q1", "d1", 1), ("q2", "d2", 0 if damage.get("zero") else 1)],
    )
    for name in ("corpus", "queries"):
        if name in damage:
            extra = damage[name] if isinstance(damage[name], str) else json.dumps(damage[name])
            with (folder / f"{name}.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(extra + "\n")
    qrels = folder / "qrels" / "test.tsv"
    lines = qrels.read_text(encoding="utf-8").splitlines()
    if "header" in damage:
        lines[0] = damage["header"]
    if "qrels" in damage:
        lines.insert(2, damage["qrels"])
    qrels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    target = tmp_path / "no-such-dir" if damage.get("missing") else folder
    args = ["eval", "--model", str(tmp_path), "--beir", str(target), "--out", str(tmp_path / "r")]
    code, _, err = run([*args, *damage.get("args", [])], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err, err
    assert not (tmp_path / "r").exists()
