"""``clearir data build-train``: CLEAR training rows (hard negatives, negative queries) from parallel QA."""

from __future__ import annotations

import typer
from rich.console import Console

from clearir.config import DATA_DIR_HELP
from clearir.rows.build import TRAIN_DATASETS, build_rows, save_rows
from clearir.rows.mining import DEFAULT_WINDOW, MINERS, WINDOW_SYNTAX, format_window, parse_window


def build_train(
    langs: str = typer.Option(..., "--langs", help="Comma-separated target languages; several are mixed."),
    out: str = typer.Option(..., "--out", help="Output directory (a datasets save_to_disk directory)."),
    dataset: str = typer.Option(
        "mlqa", "--dataset", help=f"{' or '.join(TRAIN_DATASETS)}; xquad uses its train articles only."
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
    data_dir: str | None = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    jsonl: bool = typer.Option(False, "--jsonl", help="Also write the rows as JSON lines (rows.jsonl)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace a non-empty --out directory."),
) -> None:
    """Build CLEAR training rows; the report is printed and saved as OUT/build_report.json."""
    languages = [part.strip() for part in langs.split(",") if part.strip()]
    console = Console()
    with console.status("building rows"):
        rows, report = build_rows(
            dataset,
            languages,
            num_negatives=num_negatives,
            window=parse_window(window),
            miner=miner,
            seed=seed,
            max_rows=max_rows,
            data_dir=data_dir,
            model=model,
        )
        path = save_rows(rows, report, out, jsonl=jsonl, overwrite=overwrite)
    console.print(report.table())
    console.print(f"{report.num_rows} rows saved to {path}")
