"""``clearir eval``: evaluate a model on every cross-lingual scenario, each unique text encoded once."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

from clearir.cli import options
from clearir.cli.options import split_list
from clearir.config import home_dir
from clearir.errors import ClearirError
from clearir.files import check_dir_target, check_name
from clearir.precision import check_precision
from clearir.shift.parallel import DEFAULT_MAX_PAIRS


def eval_command(
    model: str = options.MODEL,
    datasets: str = typer.Option(
        None,
        "--datasets",
        help="Comma-separated datasets, e.g. xquad,mlqa (default: all in the data directory).",
    ),
    langs: str = typer.Option(
        None,
        "--langs",
        help="Comma-separated languages besides English, e.g. de,hi (default: all available).",
    ),
    scenarios: str = typer.Option(
        None,
        "--scenarios",
        help=(
            "Comma-separated: monolingual, crosslingual, bilingual, multilingual, bitext (default: all), "
            "and on request: crosslingual-wide (MLQA L→en with all English paragraphs, not MTEB's parallel "
            "ones), matrix (every query language × every document language), pairs (the bilingual pool of "
            "any two languages)."
        ),
    ),
    out: str = typer.Option(
        "results",
        "--out",
        help="Results directory: MTEB's tasks in OUT/<model>/<revision>/, all tasks in OUT/clearir/<model>/.",
    ),
    model_name: str = typer.Option(
        None, "--model-name", help="Results folder name (default: the model directory's name)."
    ),
    batch_size: int = options.BATCH_SIZE,
    max_seq_length: int = options.MAX_SEQ_LENGTH,
    cache: bool = options.CACHE,
    max_queries: int = typer.Option(
        None,
        "--max-queries",
        help="Use N questions per task (the same ones in every language) (default: all).",
    ),
    data_dir: str = options.DATA_DIR,
    faiss: bool = typer.Option(False, "--faiss", help="Search with FAISS (needs the faiss extra)."),
    top_k: int = typer.Option(100, "--top-k", help="Documents retrieved per query for the ranking metrics."),
    per_query: bool = typer.Option(
        True,
        "--per-query/--no-per-query",
        help="Also write per-query values (OUT/clearir/<model>/per_query/).",
    ),
    beir: str = typer.Option(
        None,
        "--beir",
        help="Evaluate your own BEIR/MTEB-format set instead: DIR with corpus.jsonl, queries.jsonl, "
        "qrels/<split>.tsv (a lang or language field per line adds the mixed-pool metrics).",
    ),
    beir_split: str = typer.Option(
        "test", "--beir-split", help="The qrels split of --beir: qrels/SPLIT.tsv."
    ),
    shift: str = typer.Option(
        None,
        "--shift",
        help="SHIFT the documents' embeddings at indexing: a vectors file (clearir shift fit) or 'auto' (fit "
        "from the registry's parallel paragraphs disjoint from the evaluated ones). Results: <model>+shift.",
    ),
    shift_renormalize: bool = typer.Option(
        False,
        "--shift-renormalize/--no-shift-renormalize",
        help="Scale shifted embeddings back to unit length (measured worse on mixed pools).",
    ),
    shift_langs: str = typer.Option(
        None, "--shift-langs", help="Languages to shift (default: every evaluated language besides English)."
    ),
    shift_queries: bool = typer.Option(
        False, "--shift-queries/--no-shift-queries", help="Shift the queries of those languages too."
    ),
    shift_max_pairs: int = typer.Option(
        DEFAULT_MAX_PAIRS, "--shift-max-pairs", help="Parallel pairs per language for --shift auto (0: all)."
    ),
    precision: str = options.PRECISION,
) -> None:
    """Evaluate a model on XQuAD, MLQA-R, Belebele and Tatoeba in every direction and mixed-language pool, or
    on your own BEIR-format set (--beir)."""
    if model_name is not None:
        check_name(model_name, "--model-name")
    check_dir_target(Path(out).expanduser(), "--out")
    from clearir.evaluation.engine import evaluate_model
    from clearir.evaluation.results import clearir_folder, mteb_folder, summary_table
    from clearir.evaluation.scenarios import build_tasks

    check_precision(precision)
    if max_queries is not None and max_queries < 1:
        raise ClearirError(f"--max-queries must be >= 1, got {max_queries}")
    if top_k < 1:
        raise ClearirError(f"--top-k must be >= 1, got {top_k}")
    if shift_max_pairs < 0:
        raise ClearirError(f"--shift-max-pairs must be >= 0, got {shift_max_pairs}")
    settings = None
    if shift is not None:
        from clearir.shift import ShiftSettings

        langs_shifted = split_list(shift_langs, "--shift-langs")
        settings = ShiftSettings(
            vectors=None if shift == "auto" else shift,
            renormalize=shift_renormalize,
            queries=shift_queries,
            langs=tuple(langs_shifted) if langs_shifted is not None else None,
            max_pairs=shift_max_pairs or None,
        )
    console = Console(stderr=True)
    if beir is not None:
        from clearir.evaluation.beir import beir_tasks

        registry = {
            "--datasets": datasets,
            "--langs": langs,
            "--scenarios": scenarios,
            "--data-dir": data_dir,
        }
        if mixed := [flag for flag, value in registry.items() if value is not None]:
            raise ClearirError(f"--beir evaluates the whole set; {', '.join(mixed)} do not apply to it")
        tasks = beir_tasks(beir, beir_split, max_queries)
    else:
        tasks = build_tasks(
            split_list(datasets, "--datasets"),
            split_list(langs, "--langs"),
            split_list(scenarios, "--scenarios"),
            data_dir,
            max_queries,
        )
    run = evaluate_model(
        model,
        tasks,
        out,
        model_name=model_name,
        cache_dir=home_dir() / "embeddings" if cache else None,
        batch_size=batch_size,
        max_seq_length=max_seq_length,
        search="faiss" if faiss else "exact",
        top_k=top_k,
        write_per_query=per_query,
        progress=True,
        shift=settings,
        data_dir=data_dir,
        precision=precision,
    )
    # Not a terminal (a log file): wide enough for every column rather than rich's default of 80.
    Console(width=None if sys.stdout.isatty() else 200).print(summary_table(run))
    stats = run.encoding
    console.print(
        f"{len(run.results)} tasks in {run.seconds:.1f} s; {stats.requested:,} texts needed, "
        f"{stats.unique:,} unique, {stats.cached:,} from the cache, {stats.encoded:,} encoded in "
        f"{stats.seconds:.1f} s ({run.precision})"
    )
    console.print(f"results: {clearir_folder(out, run.model_name)}")
    if any(result.mteb is not None for result in run.results):
        console.print(f"mteb results: {mteb_folder(out, run.model_name) / run.revision}")
