"""``clearir data build-train``: CLEAR training rows (hard negatives, negative queries) from parallel QA: a
registry dataset, the user's SQuAD files or the user's table."""

from __future__ import annotations

import typer
from rich.console import Console

from clearir.cli import options
from clearir.data.table import COLUMNS_SYNTAX, TABLE_FORMATS
from clearir.rows.build import build_rows, save_rows
from clearir.rows.mining import DEFAULT_WINDOW, MINERS, WINDOW_SYNTAX, format_window, parse_window
from clearir.rows.sources import DEFAULT_PIVOT, TRAIN_DATASETS, TRAIN_FILES_SYNTAX, train_source


def build_train(
    out: str = typer.Option(..., "--out", help="Output directory (a datasets save_to_disk directory)."),
    langs: str | None = typer.Option(
        None,
        "--langs",
        help="Comma-separated target languages; several are mixed "
        "(default: every language of --train-files or --train-table; required for --dataset).",
    ),
    dataset: str | None = typer.Option(
        None,
        "--dataset",
        help=f"Registry dataset, {' or '.join(TRAIN_DATASETS)}; xquad uses its train articles only "
        "(default: mlqa, unless --train-files or --train-table is given).",
    ),
    train_files: str | None = typer.Option(
        None, "--train-files", help=f"Your SQuAD v1.1 files joined by question id: {TRAIN_FILES_SYNTAX}."
    ),
    train_table: str | None = typer.Option(
        None,
        "--train-table",
        help=f"Your table ({TABLE_FORMATS}) with columns en_query, en_passage, lang_query "
        "(optional: lang_passage, lang, id).",
    ),
    columns: str | None = typer.Option(
        None,
        "--columns",
        help=f"Column names of --train-table, as {COLUMNS_SYNTAX} (default: the role names).",
    ),
    pivot: str = typer.Option(
        DEFAULT_PIVOT,
        "--pivot",
        help="Bridge language: the rows' query, positive and hard-negative passages are in it (another "
        "language of --dataset, not one of --langs; your own files and tables: en only).",
    ),
    num_negatives: int = typer.Option(
        5, "--num-negatives", help="Hard negatives (and negative queries) per row."
    ),
    window: str = typer.Option(
        format_window(DEFAULT_WINDOW),
        "--window",
        help=f"Rank window to mine from: {WINDOW_SYNTAX} (0-based, HI excluded).",
    ),
    miner: str = typer.Option(
        "bm25", "--miner", help=f"Retriever that ranks the negatives: {', '.join(MINERS)}."
    ),
    seed: int = typer.Option(42, "--seed", help="Random seed; the same seed gives the same rows."),
    max_rows: int | None = typer.Option(
        None, "--max-rows", help="Cap on rows per language [default: no cap]."
    ),
    model: str | None = typer.Option(
        None, "--model", help="Model for --miner dense, a name or path [default: the built base model]."
    ),
    data_dir: str | None = options.DATA_DIR,
    jsonl: bool = typer.Option(False, "--jsonl", help="Also write the rows as JSON lines (rows.jsonl)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out directory."),
) -> None:
    """Build CLEAR training rows; the report is printed and saved as OUT/build_report.json."""
    languages = None if langs is None else [part.strip() for part in langs.split(",") if part.strip()]
    source = train_source(dataset, train_files, train_table, columns)
    console = Console()
    with console.status("building rows"):
        rows, report = build_rows(
            source,
            languages,
            num_negatives=num_negatives,
            window=parse_window(window),
            miner=miner,
            seed=seed,
            max_rows=max_rows,
            data_dir=data_dir,
            model=model,
            pivot=pivot,
        )
        path = save_rows(rows, report, out, jsonl=jsonl, overwrite=overwrite)
    console.print(report.table())
    console.print(f"{report.num_rows} rows saved to {path}")
