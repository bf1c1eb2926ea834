"""Atomic writes: the content goes to a temporary file (or staging folder) beside the target, then a rename
puts it there; and checks of names and paths that outputs are written to."""

from __future__ import annotations

import contextlib
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
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
