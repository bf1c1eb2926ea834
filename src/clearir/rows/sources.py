"""Where training rows come from: parallel (question, paragraph) records from any source.

A source gives the pivot-language paragraphs negatives are mined from (the pool) and, per target language, its
questions paired with their pivot-language questions (same id). The pivot (bridge) language is English by
default, the paper's; a registry dataset may take any other of its languages (its files are parallel by
question id), the user's files and tables only English. Three kinds:

- a registry dataset (``mlqa``, ``xquad``; XQuAD's held-out articles leave the pool, see
  :mod:`clearir.rows.split`);
- SQuAD v1.1 files, English and one or more target languages, joined by question id
  (``--train-files en=PATH,de=PATH``);
- a table of English queries, English passages and target-language queries (``--train-table PATH``,
  columns renamed with ``--columns``; see :mod:`clearir.data.table`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clearir.config import data_dir as resolve_data_dir
from clearir.data.parallel import parallel_pairs
from clearir.data.records import Paragraph, Question
from clearir.data.registry import dataset_spec, load_corpus
from clearir.data.squad import read_squad
from clearir.data.table import parse_columns, read_parallel_table
from clearir.errors import ClearirError
from clearir.rows.split import XQUAD_HELDOUT_FRACTION, heldout_articles

TRAIN_DATASETS = ("mlqa", "xquad")
DEFAULT_DATASET = "mlqa"
DEFAULT_PIVOT = "en"
FILES = "files"
TABLE = "table"
TRAIN_FILES_SYNTAX = (
    "LANG=PATH pairs separated by commas, en and at least one target language, "
    "e.g. en=train.en.json,de=train.de.json"
)
_LANG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass
class ParallelData:
    """The records rows are built from: ``paragraphs`` is the pivot language's pool (in order);
    ``pairs[lang]`` holds ``(target question, pivot question)`` pairs in the source's order, including
    questions whose pivot paragraph is not in the pool (they are counted as held out); ``unpaired[lang]``
    counts the target questions without a pivot question (none for English: every target question has one);
    ``split`` describes a held-out split."""

    paragraphs: list[Paragraph]
    pairs: dict[str, list[tuple[Question, Question]]]
    split: dict[str, Any] | None = None
    unpaired: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TrainSource:
    """One source of training rows: ``dataset`` (registry), ``files`` (``(lang, path)``, English first) or
    ``table`` (a path, with ``columns``: roles renamed as ``(role, column)``)."""

    dataset: str | None = None
    files: tuple[tuple[str, str], ...] = ()
    table: str | None = None
    columns: tuple[tuple[str, str], ...] = field(default=())

    @property
    def name(self) -> str:
        """The dataset name in reports and paragraph ids: the registry name, ``files`` or ``table``."""
        return self.dataset or (FILES if self.files else TABLE)

    def options(self) -> dict[str, Any]:
        """How the source was given, for the build report (a registry dataset: its name only)."""
        if self.files:
            return {"dataset": FILES, "train_files": dict(self.files)}
        if self.table is not None:
            return {"dataset": TABLE, "table": self.table, "columns": dict(self.columns)}
        return {"dataset": self.dataset}

    def check_langs(self, langs: Sequence[str] | None) -> list[str]:
        """``langs`` checked against what the source is known to hold without reading it; default: every
        target language of the files. Empty for a table without ``langs`` (all of its languages)."""
        langs = list(langs or [])
        if self.dataset is not None:
            targets = [lang for lang in dataset_spec(self.dataset).languages if lang != "en"]
            if not langs:
                raise ClearirError("--langs: expected at least one target language")
            for lang in langs:
                if lang not in targets:
                    raise ClearirError(
                        f"--langs: unknown language {lang!r} for {self.dataset}; expected some of "
                        f"{', '.join(targets)}"
                    )
        if len(set(langs)) < len(langs):
            raise ClearirError(
                f"--langs {','.join(langs)}: a language is repeated; expected distinct languages"
            )
        if "en" in langs:
            raise ClearirError("--langs: en is the English side of every row; expected target languages")
        if self.files:
            targets = [lang for lang, _ in self.files if lang != "en"]
            for lang in langs:
                if lang not in targets:
                    raise ClearirError(
                        f"--langs: language {lang!r} has no file in --train-files; expected some of "
                        f"{', '.join(targets)}"
                    )
            return langs or targets
        return langs

    def check_pivot(self, pivot: str, langs: Sequence[str], option: str = "--pivot") -> None:
        """``pivot`` can bridge ``langs`` (as :meth:`check_langs` returns them): a language of the registry
        dataset other than the trained ones; English for the user's files or table. ``option`` names the
        setting in the message (``--pivot``, or a grid's ``pivot``)."""
        if self.dataset is None:
            if pivot != DEFAULT_PIVOT:
                given = "--train-files" if self.files else "--train-table"
                raise ClearirError(
                    f"{option} {pivot}: {given} is joined through English, the only pivot of your own data; "
                    f"expected {option} en (or a registry dataset: {', '.join(TRAIN_DATASETS)})"
                )
            return
        known = dataset_spec(self.dataset).languages
        if pivot not in known:
            raise ClearirError(
                f"{option} {pivot!r}: not a language of {self.dataset}; expected one of {', '.join(known)}"
            )
        if pivot in langs:
            raise ClearirError(
                f"{option} {pivot}: is also a training language ({','.join(langs)}); expected a bridge "
                f"language other than the trained ones (default: {DEFAULT_PIVOT})"
            )

    def load(
        self, langs: list[str], data_dir: str | Path | None = None, pivot: str = DEFAULT_PIVOT
    ) -> tuple[ParallelData, list[str]]:
        """Read the source: its records and the target languages to build (``langs`` as
        :meth:`check_langs` returns them; empty for a table: all of its languages), bridged by ``pivot``
        (checked by :meth:`check_pivot`)."""
        if self.dataset is not None:
            return _registry(self.dataset, langs, data_dir, pivot), langs
        if self.files:
            paths = dict(self.files)
            english = read_squad(paths["en"], FILES, "en")
            pairs = {
                lang: parallel_pairs(read_squad(paths[lang], FILES, lang), english, strict=True)
                for lang in langs
            }
            return ParallelData(english.paragraphs, pairs), langs
        table = read_parallel_table(
            str(self.table), dict(self.columns), lang=langs[0] if len(langs) == 1 else None
        )
        for lang in langs:
            if lang not in table.pairs:
                raise ClearirError(
                    f"{table.source}: no rows in language {lang!r} (--langs); the table holds "
                    f"{', '.join(table.pairs)}"
                )
        chosen = langs or list(table.pairs)
        return ParallelData(table.english, {lang: table.pairs[lang] for lang in chosen}), chosen


def _registry(dataset: str, langs: list[str], data_dir: str | Path | None, pivot: str) -> ParallelData:
    """A registry dataset bridged by ``pivot``. Every target question has an English one (strict join); with
    another pivot, target questions without a pivot question (MLQA-R's languages hold different subsets of
    the English questions) are left out and counted. XQuAD's held-out articles are named by the English
    titles, and leave the pool in any pivot (its paragraphs share their keys across languages)."""
    english = load_corpus(dataset, "en", data_dir)
    bridge = english if pivot == DEFAULT_PIVOT else load_corpus(dataset, pivot, data_dir)
    paragraphs, split = bridge.paragraphs, None
    if dataset == "xquad":
        heldout = heldout_articles(p.title for p in english.paragraphs)
        heldout_keys = {p.key for p in english.paragraphs if p.title in heldout}
        paragraphs = [p for p in bridge.paragraphs if p.key not in heldout_keys]
        split = {
            "heldout_fraction": XQUAD_HELDOUT_FRACTION,
            "heldout_articles": sorted(heldout),
            "train_articles": sorted({p.title for p in english.paragraphs if p.title not in heldout}),
        }
    pairs, unpaired = {}, {}
    for lang in langs:
        corpus = load_corpus(dataset, lang, data_dir)
        pairs[lang] = parallel_pairs(corpus, bridge, strict=pivot == DEFAULT_PIVOT)
        unpaired[lang] = len(corpus.questions) - len(pairs[lang])
    return ParallelData(paragraphs, pairs, split, unpaired)


def registry_data_dir(source: TrainSource, data_dir: str | Path | None) -> str | None:
    """The data directory a registry source reads (for the report); None for files and tables."""
    return str(resolve_data_dir(data_dir)) if source.dataset is not None else None


def train_source(
    dataset: str | None = None,
    train_files: str | None = None,
    train_table: str | None = None,
    columns: str | None = None,
) -> TrainSource:
    """The source the options name (their command-line syntax); default: the ``mlqa`` registry dataset."""
    given = [flag for flag, value in (("--dataset", dataset), ("--train-files", train_files),
                                      ("--train-table", train_table)) if value is not None]  # fmt: skip
    if len(given) > 1:
        raise ClearirError(f"{' and '.join(given)}: expected one source of training data")
    if columns is not None and train_table is None:
        raise ClearirError("--columns: names the columns of --train-table; expected it with --train-table")
    if train_files is not None:
        return TrainSource(files=parse_train_files(train_files))
    if train_table is not None:
        if not train_table.strip():
            raise ClearirError("--train-table is empty; expected a table file or datasets directory")
        return TrainSource(table=train_table, columns=tuple(parse_columns(columns).items()))
    dataset = DEFAULT_DATASET if dataset is None else dataset
    if dataset not in TRAIN_DATASETS:
        raise ClearirError(
            f"--dataset {dataset!r}: expected one of {', '.join(TRAIN_DATASETS)} (parallel QA data)"
        )
    return TrainSource(dataset=dataset)


def settings_source(
    train_dataset: str, train_files: str | None, train_table: str | None, train_columns: str | None
) -> TrainSource:
    """The source a run's row settings name (``clearir run``, a grid): the user's files or table when given
    (``train_dataset`` then stays at its default, mlqa), else the registry dataset ``train_dataset``."""
    own = train_files is not None or train_table is not None
    dataset = None if own and train_dataset == DEFAULT_DATASET else train_dataset
    return train_source(dataset, train_files, train_table, train_columns)


def own_data_settings(train_files: str | None, train_table: str | None, train_columns: str | None) -> list:
    """The own-data settings as a step key takes them: nothing for a registry source (its keys stay)."""
    given = [train_files, train_table, train_columns]
    return [given] if any(value is not None for value in given) else []


def parse_train_files(value: str, option: str = "--train-files") -> tuple[tuple[str, str], ...]:
    """``"en=a.json,de=b.json"`` -> ``(("en", "a.json"), ("de", "b.json"))``, English first."""
    files: dict[str, str] = {}
    for part in value.split(","):
        lang, sep, path = (item.strip() for item in part.partition("="))
        if not sep or not path or not _LANG.match(lang):
            raise ClearirError(
                f"{option} {value!r}: {part.strip()!r} is not LANG=PATH; expected {TRAIN_FILES_SYNTAX}"
            )
        if lang in files:
            raise ClearirError(
                f"{option} {value!r}: language {lang!r} is given twice; expected {TRAIN_FILES_SYNTAX}"
            )
        files[lang] = path
    if "en" not in files or len(files) < 2:
        missing = "no en file" if "en" not in files else "no target-language file"
        raise ClearirError(f"{option} {value!r}: {missing}; expected {TRAIN_FILES_SYNTAX}")
    return (("en", files.pop("en")), *files.items())
