"""Finished steps of a run, so that running it again reuses them and an interrupted run resumes.

``<run>/steps/<step>.json`` holds ``{"step", "key", "seconds", "finished", "host", "result"}``; the ``key``
hashes the settings the step was made from (``clearir.experiment.keys.step_key``), so a step whose settings
changed is done again. ``<run>/steps.jsonl`` logs every step of every invocation as ``computed`` or
``reused``.
"""

from __future__ import annotations

import json
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from clearir.files import write_json

STEPS_DIR = "steps"
LOG_FILE = "steps.jsonl"


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat()


class Steps:
    """The step records of one run directory."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self.folder = run_dir / STEPS_DIR

    def _path(self, step: str) -> Path:
        return self.folder / f"{step}.json"

    def record(self, step: str) -> dict[str, Any] | None:
        """The record of ``step``, whatever its key; None if there is none (or an unreadable one)."""
        path = self._path(step)
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return None
        return record if isinstance(record, dict) and "key" in record and "result" in record else None

    def finished(self, step: str, key: str) -> dict[str, Any] | None:
        """The record of ``step`` if it finished with settings ``key``; None if not (or if unreadable)."""
        record = self.record(step)
        return record if record is not None and record["key"] == key else None

    def finish(
        self, step: str, key: str, seconds: float, result: dict[str, Any], label: str | None = None
    ) -> dict[str, Any]:
        """Record ``step`` as finished (atomically) and log it as computed (``label``: its name in logs)."""
        record = {
            "step": step,
            "key": key,
            "seconds": round(seconds, 3),
            "finished": now(),
            "host": platform.node(),
            "result": result,
        }
        write_json(self._path(step), record)
        self.log(step, "computed", seconds, label)
        return record

    def log(self, step: str, action: str, seconds: float, label: str | None = None) -> None:
        """Append one line to ``steps.jsonl`` (one short line: an interrupted append loses at most itself)."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        line = {"time": now(), "step": step, "label": label or step, "action": action}
        line["seconds"] = round(seconds, 3)
        with (self.run_dir / LOG_FILE).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


def read_log(run_dir: Path) -> list[dict[str, Any]]:
    """Every complete line of ``steps.jsonl`` (empty if there is none)."""
    path = run_dir / LOG_FILE
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a line cut short by an interrupted append
    return records
