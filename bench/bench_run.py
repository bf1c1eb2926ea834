"""End-to-end benchmark of ``clearir run``: each phase's wall time on a fresh run, then the same run again
(which must reuse every finished step), written to ``bench/out/run.json``.

    python -m bench.bench_run                       # the default run, from scratch
    python -m bench.bench_run --steps 2 --langs hi  # any RunConfig setting as --name value

A fresh run directory and a fresh embedding cache are used, so the times include every encoding.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

from clearir.experiment.pipeline import run_pipeline

from clearir.experiment.preset import RunConfig
from clearir.files import write_json
from clearir.report.results import package_versions

OUT = Path(__file__).resolve().parent / "out"


def _parse_value(current: Any, text: str) -> Any:
    """A command-line value in the type of the setting's default (lists comma-separated; ``none``: None)."""
    if text.lower() == "none":
        return None
    if isinstance(current, tuple):
        items = [item for item in text.split(",") if item]
        return tuple(int(i) for i in items) if current and isinstance(current[0], int) else tuple(items)
    if isinstance(current, bool):
        return text.lower() in ("1", "true", "yes")
    if isinstance(current, int):
        return int(text)
    if isinstance(current, float):
        return float(text)
    return text


def _config(overrides: list[str], run_dir: Path) -> RunConfig:
    config = RunConfig(out=str(run_dir), cache_dir=str(run_dir.parent / f"{run_dir.name}-cache"))
    names = {f.name for f in fields(RunConfig)}
    changes: dict[str, Any] = {}
    for flag, value in zip(overrides[::2], overrides[1::2], strict=True):
        name = flag.removeprefix("--").replace("-", "_")
        if name not in names:
            raise SystemExit(f"unknown setting {flag}; expected one of {sorted(names)}")
        changes[name] = _parse_value(getattr(config, name), value)
    return replace(config, **changes)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--json", default=str(OUT / "run.json"), help="Where to write the result.")
    parser.add_argument("--run-dir", default=str(OUT / "run"), help="Run directory (deleted first).")
    args, overrides = parser.parse_known_args()
    if len(overrides) % 2:
        raise SystemExit(f"expected --setting value pairs, got {overrides}")
    run_dir = Path(args.run_dir)
    config = _config(overrides, run_dir)
    for path in (run_dir, Path(str(config.cache_dir))):
        shutil.rmtree(path, ignore_errors=True)

    first = run_pipeline(config)
    started = time.perf_counter()
    second = run_pipeline(config)
    second_seconds = time.perf_counter() - started

    result = {
        "benchmark": "clearir run end to end",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": package_versions(),
        "config": config.to_dict(),
        "fresh_run": {
            "wall_seconds": round(first.wall_seconds, 1),
            "phases": [
                {"phase": t.phase, "seconds": t.seconds, "reused": t.reused} for t in first.results.timings
            ],
            "computed": first.computed,
        },
        "second_run": {
            "wall_seconds": round(second_seconds, 1),
            "computed": second.computed,
            "reused": second.reused,
        },
        "headlines": json.loads((run_dir / "results.json").read_text())["derived"]["headlines"],
    }
    write_json(Path(args.json), result)
    print(json.dumps({k: result[k] for k in ("fresh_run", "second_run", "headlines")}, indent=2))


if __name__ == "__main__":
    main()
