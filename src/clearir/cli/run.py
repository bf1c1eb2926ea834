"""``clearir run``: the main job end to end (base model, training rows, fine-tuning, evaluation, report)."""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console

from clearir.cli.clear_options import CLEAR_OPTIONS
from clearir.config import DATA_DIR_HELP
from clearir.data.table import COLUMNS_SYNTAX, TABLE_FORMATS
from clearir.errors import ClearirError
from clearir.experiment.preset import QA_SCENARIOS, RunConfig, defaults
from clearir.precision import PRECISION_HELP
from clearir.rows.mining import WINDOW_SYNTAX, format_window, parse_window
from clearir.rows.sources import TRAIN_FILES_SYNTAX

_DEFAULTS = defaults()


def _shown(name: str, value: Any) -> Any:
    """A default as the flag takes it: lists comma-separated, None as 0 (the flags' "none" value)."""
    if name == "window":
        return format_window(value)
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return 0 if value is None else value


def _opt(name: str, help: str, *flags: str) -> Any:
    return typer.Option(_shown(name, _DEFAULTS[name]), *flags, help=help, show_default=True)


def _split(value: str, option: str, allow_empty: bool = False) -> tuple[str, ...]:
    items = tuple(item.strip() for item in value.split(",") if item.strip())
    if not items and not allow_empty:
        raise ClearirError(f"{option} is empty; expected a comma-separated list")
    return items


def _none_if_zero(value: int) -> int | None:
    return None if value == 0 else value


def run_command(
    langs: str = _opt("langs", "Training languages (comma-separated); one model per (language, loss)."),
    losses: str = _opt("losses", "Losses compared with the base model: clear, infonce, infonce-en, jsd, ..."),
    eval_langs: str = _opt(
        "eval_langs", "Languages evaluated besides the training ones (zero-shot); '' for none."
    ),
    steps: int = _opt("steps", "Optimizer steps per fine-tuned model."),
    out: str = _opt("out", "Run directory; running again with the same --out reuses finished steps."),
    data_dir: str = typer.Option(None, "--data-dir", help=DATA_DIR_HELP),
    model: str = typer.Option(
        None, "--model", help="Base model directory (default: the built default model)."
    ),
    train_files: str = typer.Option(
        None, "--train-files", help=f"Train on your SQuAD files instead of MLQA-R: {TRAIN_FILES_SYNTAX}."
    ),
    train_table: str = typer.Option(
        None, "--train-table", help=f"Train on your table instead of MLQA-R: {TABLE_FORMATS}."
    ),
    columns: str = typer.Option(
        None,
        "--columns",
        help=f"Column names of --train-table, as {COLUMNS_SYNTAX} (default: the role names).",
    ),
    max_rows: int = _opt("max_rows", "Training rows per language (0: all)."),
    num_negatives: int = _opt("num_negatives", "Hard negatives (and negative queries) per row."),
    window: str = _opt("window", f"Rank window the hard negatives are mined from: {WINDOW_SYNTAX}."),
    miner: str = _opt("miner", "Negative miner: bm25 or dense (the base model)."),
    batch_size: int = _opt("batch_size", "Rows per training batch."),
    mini_batch_size: int = _opt("mini_batch_size", "GradCache mini-batch size (0: no caching)."),
    lr: float = _opt("lr", "Peak learning rate."),
    warmup_ratio: float = _opt("warmup_ratio", "Share of the steps with a linear warm-up."),
    scheduler: str = _opt("scheduler", "Learning-rate schedule: cosine, linear, constant, ..."),
    max_seq_length: int = _opt("max_seq_length", "Training token limit for passages."),
    max_query_length: int = _opt(
        "max_query_length", "Training token limit for questions (0: --max-seq-length)."
    ),
    alpha: float = _opt("alpha", *CLEAR_OPTIONS["alpha"]),
    beta: float = _opt("beta", *CLEAR_OPTIONS["beta"]),
    kl: bool = _opt("kl", *CLEAR_OPTIONS["kl"]),
    symmetric_kl: bool = _opt("symmetric_kl", *CLEAR_OPTIONS["symmetric_kl"]),
    bidirectional_reverse: bool = _opt("bidirectional_reverse", *CLEAR_OPTIONS["bidirectional_reverse"]),
    scale: float = _opt("scale", "Inverse temperature of the softmax over cosine similarities."),
    freeze_layers: int = _opt("freeze_layers", "Keep the embeddings and the N lowest encoder layers fixed."),
    seed: int = _opt("seed", "Random seed (rows, data order, dropout)."),
    save_steps: int = _opt("save_steps", "Checkpoint every N steps (an interrupted run resumes from it)."),
    eval_datasets: str = _opt("eval_datasets", "Evaluation datasets: xquad, mlqa."),
    scenarios: str = _opt("scenarios", f"Evaluation scenarios: {', '.join(QA_SCENARIOS)}."),
    eval_max_queries: int = _opt("eval_max_queries", "Questions per evaluation task (0: all)."),
    eval_batch_size: int = _opt("eval_batch_size", "Texts per forward pass when evaluating."),
    eval_max_seq_length: int = _opt("eval_max_seq_length", "Evaluation token limit (0: the model's own)."),
    cache_dir: str = typer.Option(
        None, "--cache-dir", help="Embedding cache shared by runs (default: $CLEARIR_HOME/embeddings)."
    ),
    precision: str = _opt("precision", f"Fine-tuning and evaluation precision: {PRECISION_HELP}"),
    significance_resamples: int = _opt(
        "significance_resamples", "Resamples of the paired significance tests."
    ),
    shift: bool = typer.Option(
        _DEFAULTS["shift"],
        "--shift/--no-shift",
        help="Also evaluate every model + SHIFT (vectors fitted per model from MLQA-R), side by side.",
    ),
) -> None:
    """Fine-tune one model per (language, loss), evaluate them and the base model in every cross-lingual
    direction and mixed pool, and write the report (summary.md, PNGs, report.html, results.json) to --out."""
    from clearir.experiment.pipeline import run_pipeline
    from clearir.report import rich_table
    from clearir.report.compare import comparison_rows, english_retention, headlines, shift_tables

    config = RunConfig(
        out=out,
        langs=_split(langs, "--langs"),
        losses=_split(losses, "--losses"),
        eval_langs=_split(eval_langs, "--eval-langs", allow_empty=True),
        model=model,
        data_dir=data_dir,
        train_files=train_files,
        train_table=train_table,
        train_columns=columns,
        max_rows=_none_if_zero(max_rows),
        num_negatives=num_negatives,
        window=parse_window(window),
        miner=miner,
        steps=steps,
        batch_size=batch_size,
        mini_batch_size=_none_if_zero(mini_batch_size),
        lr=lr,
        warmup_ratio=warmup_ratio,
        scheduler=scheduler,
        max_seq_length=max_seq_length,
        max_query_length=_none_if_zero(max_query_length),
        alpha=alpha,
        beta=beta,
        kl=kl,
        symmetric_kl=symmetric_kl,
        bidirectional_reverse=bidirectional_reverse,
        scale=scale,
        freeze_layers=freeze_layers,
        seed=seed,
        save_steps=save_steps,
        eval_datasets=_split(eval_datasets, "--eval-datasets"),
        scenarios=_split(scenarios, "--scenarios"),
        eval_max_queries=_none_if_zero(eval_max_queries),
        eval_batch_size=eval_batch_size,
        eval_max_seq_length=_none_if_zero(eval_max_seq_length),
        cache_dir=cache_dir,
        precision=precision,
        significance_resamples=significance_resamples,
        shift=shift,
    )
    outcome = run_pipeline(config, Console(stderr=True))
    stdout = Console(soft_wrap=True)
    if not stdout.is_terminal:  # piped or captured: wide enough for the table, not the default 80 columns
        stdout = Console(soft_wrap=True, width=140)
    stdout.print(rich_table(outcome.results))
    for head in headlines(comparison_rows(outcome.results)):
        stdout.print(head.sentence(), markup=False)
    for item in english_retention(outcome.results):
        stdout.print(item.sentence(), markup=False)
    for table in shift_tables(outcome.results):
        stdout.print(table.sentence(), markup=False)
    reused = f", {len(outcome.reused)} reused" if outcome.reused else ""
    stdout.print(
        f"{len(outcome.computed)} steps computed{reused} in {outcome.wall_seconds / 60:.1f} min; "
        f"report: {outcome.run_dir / 'report.html'}",
        markup=False,
    )
