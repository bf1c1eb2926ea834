"""Fetching the official data files: each one verified with its reader before it is renamed into place."""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

from clearir.config import download_dir
from clearir.data.registry import BELEBELE_SOURCE, DatasetSpec, dataset_spec
from clearir.errors import ClearirError

DEFAULT_DATASETS = ("xquad", "mlqa")


def target_dir(data_dir: str | Path | None = None) -> Path:
    """Where downloads go (:func:`clearir.config.download_dir`); created if missing."""
    root = download_dir(data_dir)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ClearirError(f"{root}: cannot create the data directory ({exc.strerror})") from exc
    return root


def plan(
    datasets: Sequence[str] = DEFAULT_DATASETS, langs: Sequence[str] | None = None
) -> list[tuple[DatasetSpec, str]]:
    """The (dataset, language) files to fetch: all languages of each dataset, or those of ``langs`` it has.

    A language none of the datasets has is an error; MLQA-R always brings English, which keys the others.
    """
    if not datasets:
        raise ClearirError(f"no dataset given; expected some of {', '.join(DEFAULT_DATASETS)}")
    specs = [dataset_spec(name) for name in datasets]
    for spec in specs:
        if spec.url_template is None:
            raise ClearirError(
                f"{spec.name} has no per-language download; "
                f"unpack {BELEBELE_SOURCE} into <data-dir>/{spec.folder}"
            )
    if langs is not None:
        for lang in langs:
            if not any(lang in spec.languages for spec in specs):
                raise ClearirError(
                    f"unknown language {lang!r} for {', '.join(datasets)}; expected one of "
                    f"{', '.join(sorted({code for spec in specs for code in spec.languages}))}"
                )
    todo: list[tuple[DatasetSpec, str]] = []
    for spec in specs:
        wanted = set(spec.languages if langs is None else langs) & set(spec.languages)
        if spec.pivot and wanted:
            wanted.add(spec.pivot)
        todo += [(spec, lang) for lang in spec.languages if lang in wanted]
    return todo


def fetch(spec: DatasetSpec, lang: str, root: Path, timeout: float = 60.0) -> Path:
    """Download one file into ``root``, check that it parses, then rename it into place."""
    url = spec.url(lang)
    final = spec.path(root, lang)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".download-", dir=final.parent))
    except OSError as exc:
        raise ClearirError(f"{final.parent}: cannot write downloads there ({exc.strerror})") from exc
    try:
        part = staging / final.name
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, part.open("wb") as out:
                shutil.copyfileobj(response, out)
        except urllib.error.HTTPError as exc:
            raise ClearirError(f"cannot download {url}: HTTP {exc.code} {exc.reason}") from exc
        except urllib.error.URLError as exc:
            raise ClearirError(
                f"cannot download {url}: {exc.reason}; check the network connection, "
                f"or copy the files into {final.parent} by hand"
            ) from exc
        except (TimeoutError, OSError) as exc:
            raise ClearirError(f"cannot download {url}: {exc}; check the network connection") from exc
        try:
            spec.read(part, lang)
        except ClearirError as exc:
            raise ClearirError(f"downloaded {url}, but it is not a valid {spec.name} file: {exc}") from exc
        try:
            os.replace(part, final)
        except OSError as exc:
            raise ClearirError(f"{final}: cannot write ({exc.strerror})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def download(
    datasets: Sequence[str] = DEFAULT_DATASETS,
    langs: Sequence[str] | None = None,
    data_dir: str | Path | None = None,
    force: bool = False,
    on_file: Callable[[Path, bool], None] | None = None,
) -> list[Path]:
    """Fetch the files of :func:`plan` that are missing (all of them with ``force``); returns their paths.

    ``on_file(path, fetched)`` is called after each file, ``fetched`` False for one already present.
    """
    root = target_dir(data_dir)
    paths = []
    for spec, lang in plan(datasets, langs):
        path = spec.path(root, lang)
        fetched = force or not path.is_file()
        if fetched:
            fetch(spec, lang, root)
        paths.append(path)
        if on_file is not None:
            on_file(path, fetched)
    return paths
