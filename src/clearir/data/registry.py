"""The datasets clearir knows, declared as data, and loading one language of one of them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from clearir.config import data_dir as resolve_data_dir
from clearir.data.belebele import BELEBELE_LANGUAGES, belebele_code, iso_code, read_belebele
from clearir.data.parallel import align_keys
from clearir.data.records import Corpus
from clearir.data.squad import KeyScheme, read_squad
from clearir.errors import ClearirError


@dataclass(frozen=True)
class DatasetSpec:
    """Where one dataset's per-language files live, where to get them and how to read them.

    ``file_pattern`` and ``url_template`` take ``{code}``, the language's code in the dataset's own naming
    (the ISO 639-1 code, or the Belebele code for Belebele). ``pivot``: the language whose paragraph keys the
    other languages adopt (MLQA-R, see :func:`clearir.data.parallel.align_keys`).
    """

    name: str
    description: str
    folder: str
    file_pattern: str
    languages: tuple[str, ...]
    url_template: str | None
    license: str
    reader: Literal["squad-position", "squad-question-id", "belebele"]
    pivot: str | None = None

    def code(self, lang: str) -> str:
        """The language's code in this dataset's file names."""
        return belebele_code(lang) if self.reader == "belebele" else lang

    def path(self, root: Path, lang: str) -> Path:
        return root / self.folder / self.file_pattern.format(code=self.code(lang))

    def url(self, lang: str) -> str | None:
        return self.url_template.format(code=self.code(lang)) if self.url_template else None

    def read(self, path: Path, lang: str) -> Corpus:
        """Read one file of this dataset as it is (without the pivot's keys)."""
        if self.reader == "belebele":
            return read_belebele(path, lang)
        keys: KeyScheme = "position" if self.reader == "squad-position" else "question-id"
        return read_squad(path, self.name, lang, keys=keys)


DATASETS: dict[str, DatasetSpec] = {
    "xquad": DatasetSpec(
        name="xquad",
        description="XQuAD: 240 SQuAD v1.1 dev paragraphs, 1,190 questions, professionally translated",
        folder="xquad",
        file_pattern="xquad.{code}.json",
        languages=("ar", "de", "el", "en", "es", "hi", "ro", "ru", "th", "tr", "vi", "zh"),
        url_template="https://raw.githubusercontent.com/google-deepmind/xquad/master/xquad.{code}.json",
        license="CC BY-SA 4.0",
        reader="squad-position",
    ),
    "mlqa": DatasetSpec(
        name="mlqa",
        description="MLQA-R (LAReQA): MLQA dev Wikipedia paragraphs; questions parallel to English by id",
        folder="mlqa-r",
        file_pattern="{code}.json",
        languages=("ar", "de", "en", "es", "hi", "vi", "zh"),
        url_template="https://raw.githubusercontent.com/google-research-datasets/lareqa/354d67d/mlqa-r/{code}.json",
        license="CC BY-SA 3.0",
        reader="squad-question-id",
        pivot="en",
    ),
    "belebele": DatasetSpec(
        name="belebele",
        description="Belebele: 488 FLORES-200 passages, 900 questions (one JSON-lines file per language)",
        folder="belebele",
        file_pattern="{code}.jsonl",
        languages=tuple(iso_code(code) for code in BELEBELE_LANGUAGES),
        url_template=None,
        license="CC BY-SA 4.0",
        reader="belebele",
    ),
}
BELEBELE_SOURCE = "https://dl.fbaipublicfiles.com/belebele/Belebele.zip"


def dataset_spec(dataset: str) -> DatasetSpec:
    """The spec of ``dataset``, else a ClearirError listing the known ones."""
    if dataset not in DATASETS:
        raise ClearirError(f"unknown dataset {dataset!r}; expected one of {', '.join(DATASETS)}")
    return DATASETS[dataset]


def check_language(spec: DatasetSpec, lang: str) -> str:
    """``lang`` as the dataset names it (a Belebele code becomes ISO 639-1 where there is one)."""
    if spec.reader == "belebele":
        return iso_code(belebele_code(lang))
    if lang not in spec.languages:
        raise ClearirError(
            f"unknown language {lang!r} for {spec.name}; expected one of {', '.join(spec.languages)}"
        )
    return lang


def load_corpus(dataset: str, lang: str, data_dir: str | Path | None = None) -> Corpus:
    """One language of one dataset, read from the data directory (cached per process; treat as read-only).

    ``data_dir`` defaults to ``$CLEARIR_DATA_DIR`` (see :func:`clearir.config.data_dir`). MLQA-R paragraphs
    of other languages than English take the keys of their English paragraphs, so English must be present.
    """
    spec = dataset_spec(dataset)
    lang = check_language(spec, lang)
    root = resolve_data_dir(data_dir)
    needed = [lang] if spec.pivot in (None, lang) else [lang, spec.pivot]
    for need in needed:
        path = spec.path(root, need)
        if path.exists() and not path.is_file():
            raise ClearirError(f"{path}: is not a file (expected the {spec.name} {need} file)")
        if not path.is_file():
            why = "" if need == lang else f", which keys the paragraphs of {spec.name} {lang}"
            get = (
                f"run `clearir data download --datasets {spec.name} --langs {need}`"
                if spec.url_template
                else f"unpack {BELEBELE_SOURCE} into {path.parent}"
            )
            raise ClearirError(f"{path}: file not found (expected the {spec.name} {need} file{why}; {get})")
    stamps = tuple(spec.path(root, need).stat().st_mtime_ns for need in needed)
    return _load(spec.name, lang, root, stamps)


@lru_cache(maxsize=64)
def _load(dataset: str, lang: str, root: Path, stamps: tuple[int, ...]) -> Corpus:
    """Read a file; the files' modification times in the cache key make a replaced file be read again."""
    spec = DATASETS[dataset]
    corpus = spec.read(spec.path(root, lang), lang)
    if spec.pivot is None or lang == spec.pivot:
        return corpus
    return align_keys(corpus, load_corpus(dataset, spec.pivot, root))


def available(data_dir: str | Path | None = None) -> dict[str, list[str]]:
    """The datasets with at least one language file in the data directory, and those languages (a path
    that exists but is not a file counts, so that reading it reports it instead of dropping it silently)."""
    root = resolve_data_dir(data_dir)
    found = {
        name: [lang for lang in spec.languages if spec.path(root, lang).exists()]
        for name, spec in DATASETS.items()
    }
    return {name: langs for name, langs in found.items() if langs}
