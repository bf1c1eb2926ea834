"""The real base model on real XQuAD (German, 40 questions, every scenario): plausible numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.scenarios import build_tasks


@pytest.mark.slow
def test_base_model_on_xquad_german_subset(base_model_path: Path, data_dir: Path, tmp_path: Path) -> None:
    tasks = build_tasks(["xquad"], ["de"], None, data_dir, max_queries=40)
    # Passages cut at 128 tokens keep the test short; retrieval stays easy on XQuAD's topical paragraphs.
    run = evaluate_model(base_model_path, tasks, tmp_path, max_seq_length=128, progress=False)
    assert run.encoding.encoded == 2 * (240 + 40)  # en and de paragraphs and questions, once each
    scores = {r.name: r.scores for r in run.results}
    assert len(scores) == 8
    assert scores["xquad-monolingual-en-en"]["ndcg_at_10"] > 0.8
    assert scores["xquad-monolingual-de-de"]["ndcg_at_10"] > 0.8
    assert scores["xquad-crosslingual-de-en"]["ndcg_at_10"] > 0.7
    assert scores["xquad-crosslingual-en-de"]["ndcg_at_10"] > 0.7
    for query in ("de", "en"):
        mixed = scores[f"xquad-bilingual-{query}-en+de"]
        assert 2 <= mixed["max_rank_mean"] < 50  # two gold documents: the worst is at rank 2 or lower
        assert 0.5 < mixed["complete_at_10"] <= mixed["complete_at_20"] <= 1
        assert mixed["recall_at_100"] > 0.9
    assert 0 <= scores["xquad-bilingual-de-en+de"]["inclination_share"] <= 1
    assert "inclination_share" not in scores["xquad-bilingual-en-en+de"]
    assert (tmp_path / "clearir" / "multilingual-e5-small" / "summary.csv").is_file()
