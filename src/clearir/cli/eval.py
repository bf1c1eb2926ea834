"""``clearir eval``: evaluate a model on every cross-lingual scenario, each unique text encoded once."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from clearir.cli.options import embedding_cache, generated, setting_options, shared, split_list
from clearir.errors import ClearirError
from clearir.evaluation.settings import DEFAULT_MAX_PAIRS
from clearir.fields import setting
from clearir.files import check_dir_target, check_name
from clearir.precision import check_precision

_SCENARIOS_HELP = (
    "Comma-separated: monolingual, crosslingual, bilingual, multilingual, bitext (default: all), "
    "and on request: crosslingual-wide (MLQA L→en with all English paragraphs, not MTEB's parallel "
    "ones), matrix (every query language × every document language), pairs (the bilingual pool of "
    "any two languages)."
)
_BEIR_HELP = (
    "Evaluate your own BEIR/MTEB-format set instead: DIR with corpus.jsonl, queries.jsonl, qrels/<split>.tsv "
    "(a lang or language field per line adds the mixed-pool metrics)."
)
_SHIFT_HELP = (
    "SHIFT the documents' embeddings at indexing: a vectors file (clearir shift fit) or 'auto' (fit from the "
    "registry's parallel paragraphs disjoint from the evaluated ones). Results: <model>+shift."
)


@dataclass(frozen=True)
class EvalOptions:
    """``clearir eval``'s options, in the order ``--help`` lists them."""

    model: str | None = shared("model")
    datasets: str | None = setting(
        None, "Comma-separated datasets, e.g. xquad,mlqa (default: all in the data directory)."
    )
    langs: str | None = setting(
        None, "Comma-separated languages besides English, e.g. de,hi (default: all available)."
    )
    scenarios: str | None = setting(None, _SCENARIOS_HELP)
    out: str = setting(
        "results",
        "Results directory: MTEB's tasks in OUT/<model>/<revision>/, all tasks in OUT/clearir/<model>/.",
    )
    model_name: str | None = setting(None, "Results folder name (default: the model directory's name).")
    batch_size: int = shared("batch_size")
    max_seq_length: int | None = shared("max_seq_length")
    cache: bool = shared("cache")
    max_queries: int | None = setting(
        None, "Use N questions per task (the same ones in every language) (default: all).", kind="int"
    )
    data_dir: str | None = shared("data_dir")
    faiss: bool = setting(False, "Search with FAISS (needs the faiss extra).", kind="switch")
    top_k: int = setting(100, "Documents retrieved per query for the ranking metrics.")
    per_query: bool = setting(True, "Also write per-query values (OUT/clearir/<model>/per_query/).")
    beir: str | None = setting(None, _BEIR_HELP)
    beir_split: str = setting("test", "The qrels split of --beir: qrels/SPLIT.tsv.")
    shift: str | None = setting(None, _SHIFT_HELP)
    shift_renormalize: bool = setting(
        False, "Scale shifted embeddings back to unit length (measured worse on mixed pools)."
    )
    shift_langs: str | None = setting(
        None, "Languages to shift (default: every evaluated language besides English)."
    )
    shift_queries: bool = setting(False, "Shift the queries of those languages too.")
    shift_max_pairs: int = setting(
        DEFAULT_MAX_PAIRS, "Parallel pairs per language for --shift auto (0: all)."
    )
    precision: str = shared("precision")


# The options evaluate_model takes as they are, under the same name.
_ENGINE = ("model_name", "batch_size", "max_seq_length", "top_k", "data_dir", "precision")


def eval_command(**values: Any) -> None:
    """Evaluate a model on XQuAD, MLQA-R, Belebele and Tatoeba in every direction and mixed-language pool, or
    on your own BEIR-format set (--beir)."""
    o = EvalOptions(**values)
    if o.model_name is not None:
        check_name(o.model_name, "--model-name")
    check_dir_target(Path(o.out).expanduser(), "--out")
    from clearir.evaluation.engine import evaluate_model
    from clearir.evaluation.results import clearir_folder, mteb_folder, summary_table
    from clearir.evaluation.scenarios import build_tasks

    check_precision(o.precision)
    if o.max_queries is not None and o.max_queries < 1:
        raise ClearirError(f"--max-queries must be >= 1, got {o.max_queries}")
    if o.top_k < 1:
        raise ClearirError(f"--top-k must be >= 1, got {o.top_k}")
    if o.shift_max_pairs < 0:
        raise ClearirError(f"--shift-max-pairs must be >= 0, got {o.shift_max_pairs}")
    settings = None
    if o.shift is not None:
        from clearir.shift import ShiftSettings

        langs_shifted = split_list(o.shift_langs, "--shift-langs")
        settings = ShiftSettings(
            vectors=None if o.shift == "auto" else o.shift,
            renormalize=o.shift_renormalize,
            queries=o.shift_queries,
            langs=tuple(langs_shifted) if langs_shifted is not None else None,
            max_pairs=o.shift_max_pairs or None,
        )
    console = Console(stderr=True)
    if o.beir is not None:
        from clearir.evaluation.beir import beir_tasks

        registry = {
            "--datasets": o.datasets,
            "--langs": o.langs,
            "--scenarios": o.scenarios,
            "--data-dir": o.data_dir,
        }
        if mixed := [flag for flag, value in registry.items() if value is not None]:
            raise ClearirError(f"--beir evaluates the whole set; {', '.join(mixed)} do not apply to it")
        tasks = beir_tasks(o.beir, o.beir_split, o.max_queries)
    else:
        tasks = build_tasks(
            split_list(o.datasets, "--datasets"),
            split_list(o.langs, "--langs"),
            split_list(o.scenarios, "--scenarios"),
            o.data_dir,
            o.max_queries,
        )
    run = evaluate_model(
        o.model,
        tasks,
        o.out,
        cache_dir=embedding_cache(o.cache),
        search="faiss" if o.faiss else "exact",
        write_per_query=o.per_query,
        progress=True,
        shift=settings,
        **{name: values[name] for name in _ENGINE},
    )
    # Not a terminal (a log file): wide enough for every column rather than rich's default of 80.
    Console(width=None if sys.stdout.isatty() else 200).print(summary_table(run))
    stats = run.encoding
    console.print(
        f"{len(run.results)} tasks in {run.seconds:.1f} s; {stats.requested:,} texts needed, "
        f"{stats.unique:,} unique, {stats.cached:,} from the cache, {stats.encoded:,} encoded in "
        f"{stats.seconds:.1f} s ({run.precision})"
    )
    console.print(f"results: {clearir_folder(o.out, run.model_name)}")
    if any(result.mteb is not None for result in run.results):
        console.print(f"mteb results: {mteb_folder(o.out, run.model_name) / run.revision}")


generated(eval_command, setting_options(EvalOptions))
