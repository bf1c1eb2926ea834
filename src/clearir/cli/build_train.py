"""``clearir data build-train``: CLEAR training rows (hard negatives, negative queries) from parallel QA: a
registry dataset, the user's SQuAD files or the user's table. Its options are generated from the rows
settings (``RowsSettings``), the training's ``num_negatives`` and ``seed`` (``TrainConfig``: the rows are
built for it, with its defaults) and this command's own (``BuildTrainOptions``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.console import Console

from clearir.cli.options import generated, setting_options, shared
from clearir.data.table import TABLE_FORMATS
from clearir.fields import REQUIRED, setting
from clearir.rows.build import build_rows, save_rows
from clearir.rows.mining import MINERS, WINDOW_SYNTAX, parse_window
from clearir.rows.settings import RowsSettings
from clearir.rows.sources import TRAIN_DATASETS, TRAIN_FILES_SYNTAX, train_source
from clearir.training.config import TrainConfig


@dataclass(frozen=True)
class BuildTrainOptions:
    """``clearir data build-train``'s own options: where the rows go and what they are built for."""

    out: str = setting(REQUIRED, "Output directory (a datasets save_to_disk directory).")
    langs: str | None = setting(
        None,
        "Comma-separated target languages; several are mixed "
        "(default: every language of --train-files or --train-table; required for --dataset).",
    )
    model: str | None = setting(
        None, "Model for --miner dense, a name or path [default: the built base model]."
    )
    data_dir: str | None = shared("data_dir")
    jsonl: bool = setting(False, "Also write the rows as JSON lines (rows.jsonl).", kind="switch")
    overwrite: bool = setting(False, "Replace a non-empty --out directory.", kind="switch")


# The rows settings as this command words them: one build, a source given alone ("--dataset" only when no
# file or table is), no cap on the rows unless asked.
_ROWS_HELP = {
    "train_dataset": f"Registry dataset, {' or '.join(TRAIN_DATASETS)}; xquad uses its train articles only "
    "(default: mlqa, unless --train-files or --train-table is given).",
    "train_files": f"Your SQuAD v1.1 files joined by question id: {TRAIN_FILES_SYNTAX}.",
    "train_table": f"Your table ({TABLE_FORMATS}) with columns en_query, en_passage, lang_query "
    "(optional: lang_passage, lang, id).",
    "pivot": "Bridge language: the rows' query, positive and hard-negative passages are in it (another "
    "language of --dataset, not one of --langs; your own files and tables: en only).",
    "window": f"Rank window to mine from: {WINDOW_SYNTAX} (0-based, HI excluded).",
    "miner": f"Retriever that ranks the negatives: {', '.join(MINERS)}.",
    "max_rows": "Cap on rows per language [default: no cap].",
}
_ROWS_DEFAULTS = {"train_dataset": None, "max_rows": None}
# The order --help has always listed them in.
_ORDER = ("out", "langs", "train_dataset", "train_files", "train_table", "train_columns", "pivot",
          "num_negatives", "window", "miner", "seed", "max_rows", "model", "data_dir", "jsonl",
          "overwrite")  # fmt: skip


def build_train(**values: Any) -> None:
    """Build CLEAR training rows; the report is printed and saved as OUT/build_report.json."""
    out, langs, jsonl, overwrite = (values.pop(name) for name in ("out", "langs", "jsonl", "overwrite"))
    languages = None if langs is None else [part.strip() for part in langs.split(",") if part.strip()]
    source = train_source(
        *(values.pop(name) for name in ("train_dataset", "train_files", "train_table", "train_columns"))
    )
    console = Console()
    with console.status("building rows"):
        # The rest are build_rows' keywords: pivot, num_negatives, miner, seed, max_rows, model, data_dir.
        rows, report = build_rows(source, languages, window=parse_window(values.pop("window")), **values)
        path = save_rows(rows, report, out, jsonl=jsonl, overwrite=overwrite)
    console.print(report.table())
    console.print(f"{report.num_rows} rows saved to {path}")


_OPTIONS = {
    p.name: p
    for p in (
        *setting_options(BuildTrainOptions),
        *setting_options(
            RowsSettings,
            _ROWS_DEFAULTS,
            _ROWS_HELP,
            flags={"train_dataset": "--dataset"},
            kinds={"max_rows": "int"},
        ),
        *setting_options(
            TrainConfig,
            helps={"seed": "Random seed; the same seed gives the same rows."},
            only=("num_negatives", "seed"),
        ),
    )
}
generated(build_train, [_OPTIONS[name] for name in _ORDER])
