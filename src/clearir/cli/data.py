"""``clearir data``: list the data present and download the official files."""

from __future__ import annotations

from pathlib import Path

import typer
from rich import box
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from clearir.cli import options
from clearir.config import find_data_dir
from clearir.data.download import DEFAULT_DATASETS, download, plan, target_dir
from clearir.data.parallel import parallel_pairs
from clearir.data.registry import DATASETS, available, load_corpus

app = options.group("List and download the QA data (XQuAD, MLQA-R, Belebele).")


def _split(value: str | None) -> list[str] | None:
    return None if value is None else [part.strip() for part in value.split(",") if part.strip()]


@app.command("list")
def list_data(
    data_dir: str | None = options.DATA_DIR,
) -> None:
    """Show the datasets and languages present: paragraph and question counts, questions paired with English.

    Pairing is strict: a question without its English partner (same id) is an error.
    """
    root, reason = find_data_dir(data_dir)
    present = available(root)
    console = Console()
    console.print(f"data directory: {root} ({reason})", markup=False)
    if not present:
        console.print(f"no datasets in {root}; run `clearir data download`")
        return
    table = Table(title=f"data in {root}", box=box.SIMPLE)
    for column in ("dataset", "lang", "paragraphs", "questions", "with en", "file"):
        table.add_column(column, justify="left" if column in ("dataset", "lang", "file") else "right")
    for name, langs in present.items():
        english = load_corpus(name, "en", root) if "en" in langs else None
        for lang in langs:
            corpus = load_corpus(name, lang, root)
            paired = "-" if english is None or lang == "en" else f"{len(parallel_pairs(corpus, english)):,}"
            counts = (f"{len(corpus.paragraphs):,}", f"{len(corpus.questions):,}", paired)
            table.add_row(name, lang, *counts, str(Path(corpus.source).relative_to(root)))
    console.print(table)


@app.command("where")
def where(data_dir: str | None = options.DATA_DIR) -> None:
    """Print the data directory in use and how it was found; exit code 2 when there is none."""
    root, reason = find_data_dir(data_dir)
    print(f"{root.resolve()}\t{reason}")


@app.command("download")
def download_data(
    datasets: str = typer.Option(",".join(DEFAULT_DATASETS), "--datasets", help="Comma-separated datasets."),
    langs: str | None = typer.Option(None, "--langs", help="Comma-separated languages (default: all)."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="Where to write [default: $CLEARIR_DATA_DIR, else $CLEARIR_HOME/data]."
    ),
    force: bool = typer.Option(False, "--force", help="Download again files that are present."),
) -> None:
    """Fetch the official XQuAD and MLQA-R files; each is checked with its reader before it is kept."""
    names = _split(datasets) or []
    wanted = _split(langs)
    todo = plan(names, wanted)
    root = target_dir(data_dir)
    console = Console()
    fetched: list[Path] = []
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("downloading", total=len(todo))

        def done(path: Path, was_fetched: bool) -> None:
            if was_fetched:
                fetched.append(path)
            progress.advance(task)

        paths = download(names, wanted, root, force=force, on_file=done)
    console.print(f"{len(fetched)} downloaded, {len(paths) - len(fetched)} already present, in {root}")
    for name in dict.fromkeys(spec.name for spec, _ in todo):
        console.print(f"{name}: license {DATASETS[name].license}")
