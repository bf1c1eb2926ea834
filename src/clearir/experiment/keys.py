"""What a finished step was made from: stable hashes of settings and of a base model's identity. They hold
no machine-specific path, so steps made on different machines can be put together."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from clearir.model.build import read_manifest


def step_key(*parts: Any) -> str:
    """A short stable hash of a step's settings (JSON of ``parts``): what a finished step was made from."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def model_key(path: Path) -> str:
    """A base model's identity: a clearir build's source hash, else a hash of the directory's files."""
    built = read_manifest(path)
    if built:
        return step_key("model", built.get("source_sha256"), built.get("converter_version"))
    digest = hashlib.sha256()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(file.relative_to(path)).encode() + b"\x00")
        with file.open("rb") as handle:
            while chunk := handle.read(1 << 24):
                digest.update(chunk)
    return step_key("model", digest.hexdigest())
