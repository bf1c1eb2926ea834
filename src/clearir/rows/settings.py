"""How a run's training rows are made: source, pivot, rows per language, mining window and miner (the settings
``clearir run`` and ``clearir ablate`` take; ``num_negatives`` and ``seed`` are the training's)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clearir.data.table import COLUMNS_SYNTAX, TABLE_FORMATS
from clearir.fields import setting
from clearir.rows.build import build_rows, save_rows
from clearir.rows.mining import DEFAULT_WINDOW, MINERS, WINDOW_SYNTAX
from clearir.rows.sources import (
    DEFAULT_DATASET,
    DEFAULT_PIVOT,
    TRAIN_DATASETS,
    TRAIN_FILES_SYNTAX,
    TrainSource,
    settings_source,
)

OWN_DATA: tuple[str, ...] = ("train_files", "train_table", "train_columns")


@dataclass(frozen=True)
class RowsSettings:
    """The training rows of a run (``clearir data build-train``'s options)."""

    train_dataset: str = setting(
        DEFAULT_DATASET, f"Parallel QA data the rows are built from: {', '.join(TRAIN_DATASETS)}."
    )
    train_files: str | None = setting(None, f"Train on your SQuAD files instead: {TRAIN_FILES_SYNTAX}.")
    train_table: str | None = setting(None, f"Train on your table instead: {TABLE_FORMATS}.")
    train_columns: str | None = setting(
        None,
        f"Column names of --train-table, as {COLUMNS_SYNTAX} (default: the role names).",
        flag="--columns",
    )
    pivot: str = setting(
        DEFAULT_PIVOT,
        "Bridge language of the rows: its query, passages and hard negatives (default English, the paper's; "
        "another language of the dataset, not a trained one).",
    )
    max_rows: int | None = setting(500, "Training rows per language (0: all).")
    window: tuple[int, int] = setting(
        DEFAULT_WINDOW, f"Rank window the hard negatives are mined from: {WINDOW_SYNTAX}."
    )
    miner: str = setting("bm25", f"Negative miner: {', '.join(MINERS)} (dense: the base model).")

    @property
    def source(self) -> TrainSource:
        return settings_source(self.train_dataset, self.train_files, self.train_table, self.train_columns)

    @property
    def own_data(self) -> bool:
        return any(getattr(self, name) is not None for name in OWN_DATA)


def write_rows(
    settings: RowsSettings,
    langs: Sequence[str],
    num_negatives: int,
    seed: int,
    out: Path,
    data_dir: Path | str | None,
    model: Path,
) -> int:
    """Build the rows for ``langs`` into ``out`` (``model`` mines when the miner is dense); the row count."""
    rows, report = build_rows(
        settings.source,
        list(langs),
        num_negatives=num_negatives,
        window=settings.window,
        miner=settings.miner,
        seed=seed,
        max_rows=settings.max_rows,
        data_dir=data_dir,
        model=str(model),
        pivot=settings.pivot,
    )
    save_rows(rows, report, out, overwrite=True)
    return len(rows)
