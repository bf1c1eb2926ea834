"""Atomic writes: the content goes to a temporary file (or staging folder) beside the target, then a rename
puts it there; and checks of names and paths that outputs are written to."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from clearir.errors import ClearirError


def write_bytes(path: Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: readers see the old file or the whole new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A unique name opened exclusively (not mkstemp), so the file gets the usual umask permissions.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:
            exc.filename = str(path)  # e.g. "no space left" while writing: name the file
        raise
    return path


def write_text(path: Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: Path, data: Any) -> Path:
    """Write ``data`` as indented UTF-8 JSON (non-ASCII kept as is) to ``path`` atomically."""
    return write_text(path, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def check_name(name: str, what: str) -> str:
    """``name`` if it can be one path part (a results folder, a model name); else a ClearirError naming
    ``what``: an empty name, a path separator, ``.``, ``..`` or a control character would write elsewhere."""
    bad = (
        not name.strip()
        or name in (".", "..")
        or any(sep in name for sep in ("/", "\\", os.sep))
        or any(ord(char) < 32 for char in name)
    )
    if bad:
        raise ClearirError(f"{what} {name!r}: expected a name without path separators, not '', '.' or '..'")
    return name


def check_dir_target(path: Path, what: str) -> Path:
    """``path`` if it is a directory or absent (to be created); else a ClearirError naming ``what``."""
    if path.exists() and not path.is_dir():
        raise ClearirError(f"{what} {path}: exists and is not a directory; expected a directory")
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_stale(target: Path) -> None:
    """Remove staging folders of ``target`` left by processes that died (kill -9, power loss)."""
    for stale in target.parent.glob(f".{target.name}.*"):
        pid = stale.name[len(target.name) + 2 :].split(".")[0]
        if stale.suffix in (".staging", ".old") and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)


@contextlib.contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Write a multi-file output into a fresh staging folder beside ``target``; when the block ends without an
    error the folder replaces ``target`` (the previous content is removed), else it is removed. Readers see
    the previous complete ``target``, or the new complete one, never a part. Staging folders of dead
    processes are removed first."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(target)
    staging = target.parent / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.staging"
    staging.mkdir()
    try:
        yield staging
        if target.exists():
            old = staging.with_suffix(".old")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError) and str(exc.filename or "").startswith(str(staging)):
            exc.filename = str(target) + str(exc.filename)[len(str(staging)) :]  # name the real output
        raise


FILES_MANIFEST = "clearir_files.json"


def sha256_of(path: Path) -> str:
    """The hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 24):
            digest.update(chunk)
    return digest.hexdigest()


def record_files(folder: Path) -> Path:
    """Write ``clearir_files.json`` into ``folder``: the size and SHA-256 of every file in it (written last,
    so that :func:`damage` can tell a complete folder from a damaged one)."""
    files = {
        str(path.relative_to(folder)): {"size": path.stat().st_size, "sha256": sha256_of(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != FILES_MANIFEST
    }
    return write_json(folder / FILES_MANIFEST, {"files": files})


def safetensors_damage(path: Path) -> str | None:
    """Why ``path`` is not a whole safetensors file (a header that does not parse, a size other than the
    header says: truncated or padded), or None. Reads the header only."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(8)
        if len(head) < 8:
            return f"{path.name} is {size} bytes, too short for a safetensors file"
        length = int.from_bytes(head, "little")
        if length > size - 8:
            return f"{path.name} is not a whole safetensors file (header of {length} bytes in {size})"
        try:
            header = json.loads(handle.read(length))
            end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError):
            return f"{path.name} is not a safetensors file (its header is not valid)"
    if size != 8 + length + end:
        return f"{path.name} is {size} bytes, its header describes {8 + length + end}: truncated or damaged"
    return None


_VERIFIED: dict[tuple[str, tuple[tuple[str, int, int], ...]], None] = {}


def damage(folder: Path) -> str | None:
    """Why the model or checkpoint ``folder`` is damaged, or None: a file that ``clearir_files.json``
    records is missing or differs in size or SHA-256, or a ``*.safetensors`` file is not whole. A folder
    found whole is not hashed again in this process while its files' sizes and times stay the same."""
    folder = Path(folder)
    stats = tuple(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )
    key = (str(folder.absolute()), stats)
    if key in _VERIFIED:
        return None
    for path in sorted(folder.rglob("*.safetensors")):
        if why := safetensors_damage(path):
            return why
    manifest = folder / FILES_MANIFEST
    if manifest.is_file():
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
            records = [(name, int(f["size"]), str(f["sha256"])) for name, f in files.items()]
        except (ValueError, TypeError, KeyError, AttributeError):
            return f"{FILES_MANIFEST} is not a file list"
        for name, size, digest in records:
            path = folder / name
            if not path.is_file():
                return f"{name} is missing"
            if path.stat().st_size != size:
                return f"{name} is {path.stat().st_size} bytes, expected {size}"
            if sha256_of(path) != digest:
                return f"{name} does not match its SHA-256 in {FILES_MANIFEST}"
    _VERIFIED[key] = None
    return None
