"""The option shapes several ``clearir`` commands share (model, encoding, data directory, a command group's
settings), the comma-separated list syntax, and the options generated from a settings model's fields
(``clearir run``, ``clearir train``), written once."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from dataclasses import MISSING, fields
from typing import Any

import typer

from clearir.config import DATA_DIR_HELP
from clearir.errors import ClearirError
from clearir.fields import field_kind, flag_of, help_of, shown
from clearir.precision import DEFAULT_PRECISION, PRECISION_HELP

MODEL = typer.Option(None, "--model", help="Model directory or name (default: the built default model).")
DATA_DIR = typer.Option(None, "--data-dir", help=DATA_DIR_HELP)
BATCH_SIZE = typer.Option(32, "--batch-size", help="Texts per forward pass.")
MAX_SEQ_LENGTH = typer.Option(
    None, "--max-seq-length", help="Token limit per text (default: the model's own)."
)
CACHE = typer.Option(
    True, "--cache/--no-cache", help="Reuse embeddings from the on-disk cache in $CLEARIR_HOME/embeddings."
)
PRECISION = typer.Option(DEFAULT_PRECISION, "--precision", help=f"Encoding precision: {PRECISION_HELP}")


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


_TYPES = {"int": int, "count": int, "float": float, "bool": bool, "str": str, "window": str, "list": str}


def option(name: str, default: Any, help: str, flag: str, kind: str) -> inspect.Parameter:
    """The keyword parameter ``name`` of a generated command: option ``flag`` for a setting of ``kind``
    (a bool gets its ``--no-`` form unless ``flag`` names both), its default as the command line writes it
    (``MISSING``: required)."""
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
) -> list[inspect.Parameter]:
    """One option per field of the settings dataclass ``cls`` but those in ``skip``, with the field's default,
    help and flag (:func:`clearir.fields.setting`) unless ``defaults`` or ``helps`` name another."""
    defaults, helps = defaults or {}, helps or {}
    params = []
    for f in fields(cls):
        if f.name not in skip:
            default, text = defaults.get(f.name, f.default), helps.get(f.name, help_of(f))
            params.append(option(f.name, default, text, flag_of(f), field_kind(cls, f)))
    return params


def generated(command: Callable[..., None], parameters: list[inspect.Parameter]) -> Callable[..., None]:
    """``command`` (taking ``**values``) declaring ``parameters`` as its options to typer."""
    command.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    return command
