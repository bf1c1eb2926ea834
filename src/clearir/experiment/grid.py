"""The ablation grid: a spec (a small TOML file and/or flags) expanded to a deterministic, ordered list of
runs, and shards of that list.

A grid file::

    description = "CLEAR vs. InfoNCE, with and without KL"

    [shared]            # every run: base model, evaluation (see SharedSettings)
    eval_max_queries = 300

    [fixed]             # run settings other than clearir run's defaults (see RunSettings)
    steps = 8

    [grid]              # axes: every combination is a run
    langs = ["de", "ar", "de+ar"]
    loss = ["infonce", "clear"]
    kl = [true, false]
    seed = [42, 43]

``[[grid]]`` (an array of tables) gives several such products, joined in order (e.g. an alpha sweep for CLEAR
only); there, a table's axis takes the place of the ``[fixed]`` value of its key, which the other tables keep.
Runs are listed in the order of the grid tables, then of their axes (the last axis varies fastest); runs
identical once irrelevant settings are reset (InfoNCE with and without KL) appear once. Flags add to the file:
``--vary KEY=V1,V2`` replaces an axis (in every grid table), ``--set KEY=VALUE`` a fixed or shared setting;
each value is read as TOML (``true``, ``5e-5``), else as a plain string.

Sharding: ``--shard I/N`` takes every N-th run starting at I, so shards 0/N .. N-1/N cover each run exactly
once. Run ``clearir ablate --grid g.toml --shard 0/2`` on one machine and ``--shard 1/2`` on another, with
the same ``--out`` on shared storage, or copy the directories together afterwards (``cp -rn b/. a/``: step
records, rows, models and evaluations have distinct names); then ``clearir ablate --grid g.toml
--report-only`` writes the report of every finished run.
"""

from __future__ import annotations

import itertools
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from clearir.errors import ClearirError
from clearir.experiment.settings import (
    DEFAULT_RUN,
    RUN_KEYS,
    SHARED_KEYS,
    VARIANTS,
    Run,
    RunSettings,
    SharedSettings,
    canonical,
    check_eval_langs,
    check_run,
    check_shared,
    irrelevant,
    setting_value,
    shift_langs,
)
from clearir.rows.mining import format_window

SECTIONS = ("description", "shared", "fixed", "grid")


@dataclass(frozen=True)
class Plan:
    """An expanded grid: the shared settings, the runs in order, and which settings vary among them."""

    shared: SharedSettings
    runs: tuple[Run, ...]
    source: str
    spec: dict[str, Any]
    description: str = ""

    @property
    def out(self) -> Path:
        return Path(self.shared.out).expanduser().absolute()

    @property
    def train_langs(self) -> tuple[str, ...]:
        """Every training language of the grid, in first-seen order."""
        return tuple(dict.fromkeys(lang for run in self.runs for lang in run.langs))

    @property
    def eval_langs(self) -> tuple[str, ...]:
        """The languages every model is evaluated on: the training languages, then ``eval_langs``."""
        return tuple(dict.fromkeys((*self.train_langs, *self.shared.eval_langs)))

    def model_langs(self, run: Run | None, shift: bool = False) -> tuple[str, ...]:
        """The languages ``run``'s model is evaluated on (the base model's for None): every evaluated
        language, or with ``eval_scope`` own the run's training languages (a multilingual run's also
        ``eval_langs``); with ``shift``, those SHIFT vectors can be fitted for."""
        if run is None or self.shared.eval_scope == "all":
            langs = self.eval_langs
        else:
            zero_shot = self.shared.eval_langs if len(run.langs) > 1 else ()
            langs = tuple(dict.fromkeys((*run.langs, *zero_shot)))
        if not shift:
            return langs
        fitted = shift_langs(self.shared)
        return tuple(lang for lang in langs if lang in fitted)

    @cached_property
    def varying(self) -> tuple[str, ...]:
        """The run settings with more than one value among the runs they matter for, in settings order."""
        return tuple(key for key in RUN_KEYS if len(self.values(key)) > 1)

    def values(self, key: str) -> list[Any]:
        """The distinct values of ``key`` among runs where it matters, in run order."""
        return list(
            dict.fromkeys(getattr(r.settings, key) for r in self.runs if key not in irrelevant(r.settings))
        )

    def label(self, settings: RunSettings, seed: bool = True) -> str:
        """A short name from the varying settings, e.g. ``de · clear · kl=off · seed=43`` (a CLEAR variant
        only where it is on: ``symmetric_kl``)."""
        skip = set(irrelevant(settings)) | (set() if seed else {"seed"})
        skip |= {k for k in VARIANTS if not getattr(settings, k)}
        parts = [format_setting(k, getattr(settings, k)) for k in self.varying if k not in skip]
        return " · ".join(parts) or "default"

    @property
    def shifts(self) -> tuple[bool, ...]:
        """Whether each evaluation of a model is plain or with SHIFT: plain, then SHIFT when it is on."""
        return (False, True) if self.shared.shift else (False,)

    def name(self, run: Run) -> str:
        """The run's name in logs and the models report: loss and languages, then the other varying
        settings, e.g. ``clear-de``, ``clear-de-seed=43``."""
        rest = self.label(run.settings).split(" · ")
        parts = [run.settings.loss, run.settings.langs]
        parts += [p for p in rest if p not in parts and p != "default"]
        return "-".join(parts)

    def shard(self, index: int, count: int) -> list[Run]:
        """Shard ``index`` of ``count``: every ``count``-th run from ``index``."""
        return [run for position, run in enumerate(self.runs) if position % count == index]


def format_setting(key: str, value: Any) -> str:
    if key in ("langs", "loss"):
        return str(value)
    if key in VARIANTS and value is True:
        return key
    if isinstance(value, bool):
        return f"{key}={'on' if value else 'off'}"
    if key == "window":
        return f"window={format_window(value)}"
    return f"{key}={value:g}" if isinstance(value, float) else f"{key}={value}"


def parse_shard(text: str) -> tuple[int, int]:
    """``"I/N"`` as ``(I, N)`` with ``0 <= I < N``."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ClearirError(
            f"--shard {text!r}: expected I/N, e.g. 0/2 (shard I of N, counted from 0)"
        ) from None
    if not 0 <= index < count:
        raise ClearirError(f"--shard {text!r}: expected 0 <= I < N, e.g. 0/2 and 1/2")
    return index, count


def load_plan(
    grid_file: str | Path | None = None,
    vary: Sequence[str] = (),
    set_: Sequence[str] = (),
    out: str | None = None,
    model: str | None = None,
) -> Plan:
    """The plan of ``grid_file`` (optional), with the ``--vary``/``--set`` flags, ``--out`` and ``--model``
    applied on top."""
    source = str(grid_file) if grid_file is not None else "flags"
    doc = _read_toml(Path(grid_file)) if grid_file is not None else {}
    return plan_from_doc(doc, source, vary, set_, out, model)


def plan_from_doc(
    doc: dict[str, Any],
    source: str,
    vary: Sequence[str] = (),
    set_: Sequence[str] = (),
    out: str | None = None,
    model: str | None = None,
) -> Plan:
    """The plan of a grid document (a grid file's TOML as a dict; ``source`` names it in errors)."""
    for key in doc:
        if key not in SECTIONS:
            raise ClearirError(
                f"{source}: unknown top-level key {key!r}; expected some of {', '.join(SECTIONS)}"
            )
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise ClearirError(f"{source}: description: expected a string, got {description!r}")
    shared = _settings_table(doc.get("shared", {}), SHARED_KEYS, f"{source}: [shared]")
    fixed = _settings_table(doc.get("fixed", {}), RUN_KEYS, f"{source}: [fixed]")
    grids = _grid_tables(doc.get("grid", {}), source)
    # One [grid] table may not repeat a [fixed] key; a [[grid]] table overrides it (see the module doc).
    single = grids and isinstance(doc.get("grid", {}), dict)
    if single and (both := sorted(set(grids[0]) & set(fixed))):
        raise ClearirError(f"{source}: {both[0]!r} is both in [fixed] and in [grid]; keep one")

    _apply_set(set_, shared, fixed, grids)
    _apply_vary(vary, fixed, grids)
    if out is not None:
        shared["out"] = out
    if model is not None:
        shared["model"] = model

    shared_settings = SharedSettings(**shared)
    check_shared(shared_settings, f"{source}: [shared]")
    runs = _expand(fixed, grids or [{}], source)
    spec = {
        "source": source,
        "shared": {k: _jsonable(v) for k, v in shared.items()},
        "fixed": {k: _jsonable(v) for k, v in fixed.items()},
        "grid": [{k: [_jsonable(v) for v in axis] for k, axis in table.items()} for table in grids],
    }
    plan = Plan(shared_settings, tuple(runs), source, spec, description)
    check_eval_langs(shared_settings, plan.eval_langs, plan.train_langs, f"{source}: evaluated languages")
    return plan


def _apply_set(
    flags: Sequence[str], shared: dict[str, Any], fixed: dict[str, Any], grids: list[dict[str, list[Any]]]
) -> None:
    """``--set KEY=VALUE``: a shared setting, or a fixed run setting (replacing an axis of that key)."""
    for flag in flags:
        key, value = _flag(flag, "--set")
        where = f"--set {key}"
        if key in SHARED_KEYS:
            shared[key] = setting_value(key, value, where)
        elif key in RUN_KEYS:
            fixed[key] = setting_value(key, value, where)
            for table in grids:
                table.pop(key, None)
        else:
            raise ClearirError(
                f"{where}: unknown setting; expected one of {', '.join(RUN_KEYS + SHARED_KEYS)}"
            )


def _apply_vary(flags: Sequence[str], fixed: dict[str, Any], grids: list[dict[str, list[Any]]]) -> None:
    """``--vary KEY=V1,V2``: an axis in every grid table (replacing a fixed value of that key)."""
    for flag in flags:
        key, value = _flag(flag, "--vary")
        if key not in RUN_KEYS:
            hint = " (shared by every run: use --set)" if key in SHARED_KEYS else ""
            raise ClearirError(
                f"--vary {key}: not a run setting{hint}; expected one of {', '.join(RUN_KEYS)}"
            )
        axis = _axis(key, [_value(item) for item in str(value).split(",")], f"--vary {key}")
        fixed.pop(key, None)
        if not grids:
            grids.append({})
        for table in grids:
            table[key] = axis


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ClearirError(f"--grid {path}: no such file") from None
    except OSError as exc:
        raise ClearirError(f"--grid {path}: cannot read it ({exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ClearirError(f"{path}: not valid TOML: {exc}") from exc


def _settings_table(table: Any, known: tuple[str, ...], where: str) -> dict[str, Any]:
    if not isinstance(table, dict):
        raise ClearirError(f"{where}: expected a table of settings, got {table!r}")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ClearirError(f"{where}: unknown key {key!r}; expected one of {', '.join(known)}")
        out[key] = setting_value(key, value, f"{where} {key}")
    return out


def _grid_tables(grid: Any, source: str) -> list[dict[str, list[Any]]]:
    tables = [grid] if isinstance(grid, dict) else grid
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ClearirError(f"{source}: grid: expected a [grid] table or [[grid]] tables, got {grid!r}")
    out = []
    for number, table in enumerate(tables, start=1):
        where = f"{source}: [grid]" if isinstance(grid, dict) else f"{source}: [[grid]] #{number}"
        axes = {}
        for key, values in table.items():
            if key not in RUN_KEYS:
                hint = " (shared by every run: put it under [shared])" if key in SHARED_KEYS else ""
                raise ClearirError(
                    f"{where}: unknown key {key!r}{hint}; expected one of {', '.join(RUN_KEYS)}"
                )
            window_pair = key == "window" and bool(values) and not isinstance(values[0], list | str)
            if not isinstance(values, list) or window_pair:
                raise ClearirError(
                    f"{where} {key}: expected a list of values, e.g. {key} = [..., ...]; "
                    "put a single value under [fixed]"
                )
            axes[key] = _axis(key, values, f"{where} {key}")
        if table or not isinstance(grid, dict):
            out.append(axes)
    return out


def _axis(key: str, values: list[Any], where: str) -> list[Any]:
    if not values:
        raise ClearirError(f"{where}: expected at least one value")
    axis = [setting_value(key, value, where) for value in values]
    if len(set(axis)) != len(axis):
        raise ClearirError(f"{where}: values must not repeat, got {values!r}")
    return axis


def _flag(text: str, flag: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key or not value.strip():
        raise ClearirError(
            f"{flag} {text!r}: expected KEY=VALUE" + ("[,VALUE...]" if flag == "--vary" else "")
        )
    return key, _value(value) if flag == "--set" else value


def _value(text: str) -> Any:
    """A flag value as TOML reads it (``true``, ``42``, ``5e-5``, ``[50, 100]``), else the plain string."""
    try:
        return tomllib.loads(f"v = {text.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        return text.strip()


def _expand(fixed: dict[str, Any], grids: list[dict[str, list[Any]]], source: str) -> list[Run]:
    base = replace(DEFAULT_RUN, **fixed)
    runs: dict[str, Run] = {}
    for table in grids:
        keys = list(table)
        for combo in itertools.product(*(table[k] for k in keys)):
            chosen = dict(zip(keys, combo, strict=True))
            settings = canonical(replace(base, **chosen))
            shown = ", ".join(f"{k}={_jsonable(v)}" for k, v in chosen.items()) or "the fixed settings"
            check_run(settings, f"{source}: run with {shown}")
            run = Run(settings)
            runs.setdefault(run.id, run)
    return list(runs.values())


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value
