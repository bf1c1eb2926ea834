"""Training rows of one step of ``clearir run`` or ``clearir ablate``, from their row settings."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from clearir.rows.build import build_rows, save_rows
from clearir.rows.sources import settings_source


class RowSettings(Protocol):
    """The row settings that ``RunConfig`` and an ablation run's settings share."""

    train_dataset: str
    train_files: str | None
    train_table: str | None
    train_columns: str | None
    num_negatives: int
    window: tuple[int, int]
    miner: str
    seed: int
    max_rows: int | None


def write_rows(
    settings: RowSettings, langs: Sequence[str], out: Path, data_dir: Path | str | None, model: Path
) -> int:
    """Build the rows for ``langs`` into ``out`` (``model`` mines when the miner is dense); the row count."""
    rows, report = build_rows(
        settings_source(
            settings.train_dataset, settings.train_files, settings.train_table, settings.train_columns
        ),
        list(langs),
        num_negatives=settings.num_negatives,
        window=settings.window,
        miner=settings.miner,
        seed=settings.seed,
        max_rows=settings.max_rows,
        data_dir=data_dir,
        model=str(model),
    )
    save_rows(rows, report, out, overwrite=True)
    return len(rows)
