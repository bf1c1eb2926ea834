"""End-to-end benchmark of ``clearir run``: each phase's wall time on a fresh run, then the same run again
(which must reuse every finished step), written to ``bench/out/run.json``.

    python -m bench.bench_run                       # the default run, from scratch
    python -m bench.bench_run --steps 2 --langs hi  # any clearir run option as --name value

A fresh run directory and a fresh embedding cache are used, so the times include every encoding.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import time
import tomllib
from pathlib import Path
from typing import Any

from clearir.experiment.models_report import write_models_report
from clearir.experiment.preset import AXES, RUN_GRID, run_plan
from clearir.experiment.runner import run_experiment
from clearir.experiment.settings import RUN_KEYS, SHARED_KEYS
from clearir.files import write_json
from clearir.report.results import package_versions

OUT = Path(__file__).resolve().parent / "out"
_FLAGS = {flag.removeprefix("--"): key for key, flag in AXES.items()}


def _value(text: str) -> Any:
    """A value as TOML reads it (``true``, ``42``, ``5e-5``), else the plain string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _plan(overrides: list[str], run_dir: Path) -> Any:
    """``clearir run``'s plan with ``--setting value`` overrides (the axes ``--langs``/``--losses``
    comma-separated)."""
    axes = dict(RUN_GRID)
    fixed: dict[str, Any] = {}
    shared: dict[str, Any] = {"out": str(run_dir), "cache_dir": str(run_dir.parent / f"{run_dir.name}-cache")}
    for flag, text in zip(overrides[::2], overrides[1::2], strict=True):
        name = flag.removeprefix("--").replace("-", "_")
        if flag.removeprefix("--") in _FLAGS:
            axes[_FLAGS[flag.removeprefix("--")]] = tuple(text.split(","))
        elif name in RUN_KEYS:
            fixed[name] = _value(text)
        elif name in SHARED_KEYS:
            shared[name] = _value(text)
        else:
            raise SystemExit(f"unknown setting {flag}; expected one of {sorted(RUN_KEYS + SHARED_KEYS)}")
    return run_plan(axes, fixed, shared)


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
    plan = _plan(overrides, run_dir)
    for path in (run_dir, Path(str(plan.shared.cache_dir))):
        shutil.rmtree(path, ignore_errors=True)

    first = run_experiment(plan, command="clearir run")
    write_models_report(plan, first)
    started = time.perf_counter()
    second = run_experiment(plan, command="clearir run")
    write_models_report(plan, second)
    second_seconds = time.perf_counter() - started

    result = {
        "benchmark": "clearir run end to end",
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "versions": package_versions(),
        "config": plan.spec,
        "fresh_run": {
            "wall_seconds": round(first.seconds, 1),
            "phases": [{"phase": t.phase, "seconds": t.seconds, "reused": t.reused} for t in first.timings],
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
