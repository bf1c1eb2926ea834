"""The options several ``clearir`` commands share (model, encoding, data directory), a command group's
settings, the comma-separated list syntax, and every command's options generated from a settings dataclass's
fields (default, help and flag: :func:`clearir.fields.setting`), written once."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import MISSING, fields
from pathlib import Path
from typing import Any

import typer

from clearir.config import DATA_DIR_HELP, home_dir
from clearir.errors import ClearirError
from clearir.fields import Kind, field_kind, flag_of, help_of, setting, shown
from clearir.precision import DEFAULT_PRECISION, PRECISION_HELP

DATA_DIR = typer.Option(None, "--data-dir", help=DATA_DIR_HELP)

# The settings several commands' option dataclasses share: name -> (default, help, kind).
_SHARED: dict[str, tuple[Any, str, Kind | None]] = {
    "model": (None, "Model directory or name (default: the built default model).", None),
    "data_dir": (None, DATA_DIR_HELP, None),
    "batch_size": (32, "Texts per forward pass.", None),
    "max_seq_length": (None, "Token limit per text (default: the model's own).", "int"),
    "cache": (True, "Reuse embeddings from the on-disk cache in $CLEARIR_HOME/embeddings.", None),
    "precision": (DEFAULT_PRECISION, f"Encoding precision: {PRECISION_HELP}", None),
}


def shared(name: str) -> Any:
    """The dataclass field of the shared setting ``name`` (``model``, ``data_dir``, ``batch_size``,
    ``max_seq_length``, ``cache``, ``precision``); a field belongs to one class, so each call makes one."""
    default, text, kind = _SHARED[name]
    return setting(default, text, kind=kind)


def embedding_cache(cache: bool) -> Path | None:
    """The embedding cache ``--cache`` turns on: $CLEARIR_HOME/embeddings; None with ``--no-cache``."""
    return home_dir() / "embeddings" if cache else None


def group(help: str) -> typer.Typer:
    """A command group (``clearir model``, ``data``, ``shift``): shows its help when run without a command."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


def split_list(value: str | None, option: str) -> list[str] | None:
    """``"de, hi"`` -> ``["de", "hi"]``; None stays None; an empty list is an error."""
    if value is None:
        return None
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ClearirError(f"{option} is empty; expected a comma-separated list")
    return items


_TYPES = {
    "int": int,
    "count": int,
    "float": float,
    "bool": bool,
    "switch": bool,
    "str": str,
    "window": str,
    "list": str,
    "repeat": list[str],
}


def option(name: str, default: Any, help: str, flag: str, kind: str) -> inspect.Parameter:
    """The keyword parameter ``name`` of a generated command: option ``flag`` for a setting of ``kind``
    (a bool gets its ``--no-`` form unless ``flag`` names both; a switch has none), its default as the
    command line writes it (``MISSING``: required)."""
    if kind == "bool" and "/" not in flag:
        flag = f"{flag}/--no-{flag[2:]}"
    value = ... if default is MISSING else shown(kind, default)
    declared = typer.Option(value, flag, help=help, show_default=value is not None)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=declared, annotation=_TYPES[kind])


def setting_options(
    cls: type,
    defaults: Mapping[str, Any] | None = None,
    helps: Mapping[str, str] | None = None,
    skip: Collection[str] = (),
    *,
    only: Collection[str] | None = None,
    flags: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
) -> list[inspect.Parameter]:
    """One option per field of the settings dataclass ``cls`` (those in ``only`` when given) but those in
    ``skip``, with the field's default, help, flag and kind (:func:`clearir.fields.setting`) unless
    ``defaults``, ``helps``, ``flags`` or ``kinds`` name another."""
    defaults, helps, flags, kinds = defaults or {}, helps or {}, flags or {}, kinds or {}
    params = []
    for f in fields(cls):
        if f.name not in skip and (only is None or f.name in only):
            default, text = defaults.get(f.name, f.default), helps.get(f.name, help_of(f))
            flag, kind = flags.get(f.name, flag_of(f)), kinds.get(f.name, field_kind(cls, f))
            params.append(option(f.name, default, text, flag, kind))
    return params


def generated(command: Callable[..., None], parameters: list[inspect.Parameter]) -> Callable[..., None]:
    """``command`` (taking ``**values``) declaring ``parameters`` as its options to typer."""
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return command
