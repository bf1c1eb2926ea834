"""Loading saved training rows and checking them against what the chosen loss needs."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from datasets import Dataset, load_from_disk

from clearir.errors import ClearirError


def load_rows(path: str | Path) -> Dataset:
    """The ``datasets.Dataset`` saved at ``path`` (``clearir data build-train``, ``Dataset.save_to_disk``)."""
    path = Path(path)
    if not path.is_dir():
        raise ClearirError(
            f"--data {path}: no such directory (expected a dataset saved by `clearir data build-train`)"
        )
    state = path / "state.json"
    if state.is_file():
        try:
            saved = json.loads(state.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ClearirError(f"--data {path}: damaged dataset, {state.name} is not JSON ({exc})") from exc
        if isinstance(saved, dict) and saved.get("_data_files") == []:
            raise ClearirError(f"--data {path}: the dataset is empty")  # saved with no shard: unloadable
    try:
        rows = load_from_disk(str(path))
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise ClearirError(
            f"--data {path}: not a saved dataset (expected a directory written by `clearir data build-train` "
            f"or Dataset.save_to_disk): {exc}"
        ) from exc
    if not isinstance(rows, Dataset):
        raise ClearirError(
            f"--data {path}: holds a DatasetDict with splits {list(rows)}; pass one split's directory"
        )
    return rows


def select_columns(rows: Dataset, columns: Sequence[str], *, source: str, loss: str) -> Dataset:
    """Keep ``columns`` (in that order), after checking that each exists and holds non-empty strings."""
    if len(rows) == 0:
        raise ClearirError(f"--data {source}: the dataset is empty")
    if missing := [c for c in columns if c not in rows.column_names]:
        raise ClearirError(
            f"--data {source}: the loss {loss!r} needs columns {list(columns)}; missing {missing} "
            f"(the data has {rows.column_names})"
        )
    rows = rows.select_columns(list(columns))
    for column in columns:
        for i, value in enumerate(rows[column]):
            if not isinstance(value, str) or not value.strip():
                raise ClearirError(
                    f"--data {source}: row {i}, column {column!r}: expected a non-empty text, got {value!r}"
                )
    return rows
