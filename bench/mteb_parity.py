"""clearir and mteb on the real base model, in one run, written to ``bench/out/mteb_parity.json``:

(a) MLQA-R de→en (German questions, English paragraphs; MTEB's ``MLQARetrieval`` subset ``eng-deu``) nDCG@10
    with MTEB's pool (the English paragraphs parallel to the 512 questions) and with the wide pool (all
    English paragraphs, scenario ``crosslingual-wide``), from ``clearir eval``'s engine;
(b) clearir's bilingual-pool task for XQuAD de (``ClearirXQuADBilingualRetrieval``) run by ``mteb.evaluate``
    and by ``clearir eval``'s engine: nDCG@10, Max@R, Complete@10 and inclination per subset, and the gaps.

Needs the mteb extra; offline (HF_HUB_OFFLINE=1). ``python -m bench.mteb_parity [--model DIR]``
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import torch

from clearir.config import home_dir
from clearir.evaluation.engine import evaluate_model
from clearir.evaluation.scenarios import build_tasks
from clearir.files import write_json
from clearir.model.build import build_default_model
from clearir.model.load import load_model

OUT = Path(__file__).resolve().parent / "out"
METRICS = ("ndcg_at_10", "max_rank_mean", "complete_at_10", "inclination_share")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model directory (default: the built base model)")
    parser.add_argument("--out", default=str(OUT / "mteb_parity.json"))
    args = parser.parse_args()
    import mteb

    from clearir.mteb import tasks

    path = Path(args.model) if args.model else build_default_model()
    model = load_model(str(path))
    cache = home_dir() / "embeddings"
    record: dict[str, Any] = {
        "model": str(path),
        "machine": f"{platform.node()}, {os.cpu_count()} cores, torch threads {torch.get_num_threads()}",
        "note": "the machine was NOT idle (other agents were running): times are noisy",
        "mteb_version": mteb.__version__,
    }

    started = time.perf_counter()
    mlqa = build_tasks(["mlqa"], ["de"], ["crosslingual", "crosslingual-wide"])
    run = evaluate_model(path, mlqa, model_name="base", cache_dir=cache, progress=False)
    record["mlqa_de_en"] = {
        r.name: {
            "mteb": None if r.mteb is None else f"{r.mteb.task} {r.mteb.subset}",
            "queries": r.n_queries,
            "docs": r.n_docs,
            "ndcg_at_10": r.scores["ndcg_at_10"],
        }
        for r in run.results
        if r.spec.query_lang == "de"
    }
    record["mlqa_seconds"] = round(time.perf_counter() - started, 1)

    started = time.perf_counter()
    chosen = tasks(["xquad"], ["de"], ["bilingual"])
    result = mteb.evaluate(model, tasks=chosen, cache=None, show_progress_bar=False)
    mteb_seconds = time.perf_counter() - started
    (task_result,) = result.task_results
    from_mteb = {entry["hf_subset"]: entry for entry in task_result.scores["validation"]}
    started = time.perf_counter()
    clearir_run = evaluate_model(
        path, build_tasks(["xquad"], ["de"], ["bilingual"]), model_name="base", cache_dir=None, progress=False
    )
    record["xquad_de_bilingual"] = {
        r.spec.subset: {
            name: {
                "mteb": from_mteb[r.spec.subset][name],
                "clearir": r.scores[name],
                "abs_diff": abs(from_mteb[r.spec.subset][name] - r.scores[name]),
            }
            for name in METRICS
            if name in r.scores
        }
        for r in clearir_run.results
    }
    clearir_seconds = time.perf_counter() - started
    record["xquad_seconds"] = {"mteb": round(mteb_seconds, 1), "clearir": round(clearir_seconds, 1)}
    write_json(Path(args.out), record)
    print(Path(args.out).read_text())


if __name__ == "__main__":
    main()
