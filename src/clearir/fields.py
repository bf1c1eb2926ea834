"""Settings fields written once: a default with its help text, and how a value of the field is written in a
grid file or on the command line (its kind, derived from the field's type).

Every settings model (``TrainConfig``, ``RowsSettings``, ``EvalSettings``, the experiment's settings) declares
its fields with :func:`setting`; the ``clearir run`` options, ``clearir ablate``'s ``--set``/``--vary`` keys
and grid files are derived from them, and :func:`coerce` is the one parser of their values.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any, Literal

from clearir.errors import ClearirError

Kind = Literal["int", "count", "float", "bool", "switch", "str", "window", "list", "repeat"]

EXPECTED: dict[str, str] = {
    "int": "an integer",
    "count": "an integer (0: none)",
    "float": "a number",
    "bool": "true or false",
    "switch": "true or false (on the command line: the flag alone, no --no- form)",
    "str": "a string",
    "window": 'a rank window: [LO, HI] or "LO:HI"',
    "list": 'a list of strings or one comma-separated string, e.g. ["xquad"]',
    "repeat": "a list of strings (on the command line: the option repeated)",
}

# The default of a setting that has none: the field is required (and so is its command-line option).
REQUIRED: Any = dataclasses.MISSING


def setting(default: Any, help: str, *, flag: str | None = None, kind: Kind | None = None) -> Any:
    """A dataclass field with ``default`` (or ``REQUIRED``) and its ``help`` (the CLI's and the docs');
    ``flag`` names its command-line option when it is not ``--<name>``; ``kind`` overrides the kind derived
    from its type."""
    return dataclasses.field(default=default, metadata={"help": help, "flag": flag, "kind": kind})


def field_kind(cls: type, field: dataclasses.Field) -> str:
    """How ``field`` of dataclass ``cls`` is written: from its metadata, else from its type (``int | None``
    is a count where 0 means none, a ``tuple[int, int]`` a window, a ``tuple[str, ...]`` a list)."""
    if field.metadata.get("kind"):
        return field.metadata["kind"]
    hint = typing.get_type_hints(cls)[field.name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    optional = isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union
    if optional and args == [int]:
        return "count"
    if hint is bool:
        return "bool"
    if hint is int:
        return "int"
    if hint is float:
        return "float"
    if typing.get_origin(hint) is tuple:
        return "window" if args == [int, int] else "list"
    return "str"


def help_of(field: dataclasses.Field) -> str:
    return field.metadata.get("help", "")


def flag_of(field: dataclasses.Field) -> str:
    """The command-line option of ``field``, e.g. ``--max-rows``."""
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def coerce(kind: str, value: Any, where: str) -> Any:
    """``value`` (from TOML, a flag or the command line) as a setting of ``kind`` takes it; 0 is None for a
    count, a window is ``LO:HI`` or ``[LO, HI]``, a list is a list or one comma-separated string. ``where``
    (e.g. ``g.toml: [fixed] lr``) starts the error."""
    from clearir.rows.mining import parse_window

    is_int = isinstance(value, int) and not isinstance(value, bool)
    if kind in ("int", "count") and is_int:
        if value < 0:
            raise ClearirError(f"{where}: expected {EXPECTED[kind]} >= 0, got {value!r}")
        return None if kind == "count" and value == 0 else value
    if kind == "float" and (is_int or isinstance(value, float)):
        return float(value)
    if kind in ("bool", "switch") and isinstance(value, bool):
        return value
    if kind == "str" and isinstance(value, str) and value.strip():
        return value.strip()
    if kind == "window" and isinstance(value, str | list | tuple):
        return parse_window(value if isinstance(value, str) else list(value), where)
    if kind in ("list", "repeat"):
        items = value.split(",") if isinstance(value, str) else value
        if isinstance(items, list | tuple) and all(isinstance(item, str) for item in items):
            return tuple(item.strip() for item in items if item.strip())
    raise ClearirError(f"{where}: expected {EXPECTED[kind]}, got {value!r}")


def shown(kind: str, value: Any) -> Any:
    """``value`` as the command line writes it: a list comma-separated, a window ``LO:HI``, None as 0."""
    from clearir.rows.mining import format_window

    if kind == "window":
        return format_window(value)
    if kind == "list":
        return ",".join(value)
    return 0 if value is None and kind == "count" else value
