"""Where clearir keeps things: its home (built models, caches) and the data directory."""

from __future__ import annotations

import os
from pathlib import Path

from clearir.errors import ClearirError
from clearir.files import damage

HOME_ENV = "CLEARIR_HOME"
DATA_ENV = "CLEARIR_DATA_DIR"
DEFAULT_MODEL_NAME = "multilingual-e5-small"
DATA_DIR_HELP = (
    "Data directory [default: the first of $CLEARIR_DATA_DIR, ./data, ../shared/data beside the checkout, "
    "$CLEARIR_HOME/data; `clearir data list` shows which]."
)


def home_dir() -> Path:
    """clearir's home: ``$CLEARIR_HOME``, else ``$XDG_CACHE_HOME/clearir``, else ``~/.cache/clearir``."""
    if env := os.environ.get(HOME_ENV):
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache).expanduser() / "clearir"


def models_dir() -> Path:
    return home_dir() / "models"


def default_model_path() -> Path:
    """Where ``clearir model build`` writes the default base model."""
    return models_dir() / DEFAULT_MODEL_NAME


def _checkout_root() -> Path | None:
    """The source checkout clearir runs from (an editable install), or None for an installed package."""
    root = Path(__file__).resolve().parents[2]
    return root if (root / "pyproject.toml").is_file() else None


def data_dir_candidates(override: str | Path | None = None) -> list[tuple[Path, str]]:
    """Where the data directory is looked for, in order, each with the reason it is a candidate.

    ``--data-dir``, ``$CLEARIR_DATA_DIR``, ``./data``, ``../shared/data`` beside the checkout (or beside
    the working directory), ``$CLEARIR_HOME/data`` (where ``clearir data download`` writes by default). An
    explicit choice (the option or the variable) is the only candidate: it is used or refused, never skipped.
    """
    if override:
        return [(Path(override).expanduser(), "--data-dir")]
    if env := os.environ.get(DATA_ENV):
        return [(Path(env).expanduser(), f"${DATA_ENV}")]
    found = [(Path("data"), "./data")]
    roots = [root for root in (_checkout_root(), Path.cwd().resolve()) if root is not None]
    for root in dict.fromkeys(roots):
        found.append((root.parent / "shared" / "data", "../shared/data beside the checkout"))
    found.append((home_dir() / "data", f"${HOME_ENV}/data"))
    return found


def find_data_dir(override: str | Path | None = None) -> tuple[Path, str]:
    """The data directory and how it was found (:func:`data_dir_candidates`); ClearirError if none exists."""
    candidates = data_dir_candidates(override)
    for path, reason in candidates:
        if path.is_dir():
            return path, reason
    if len(candidates) == 1:
        path, reason = candidates[0]
        raise ClearirError(f"data directory {path} ({reason}) does not exist")
    looked = ", ".join(str(path) for path, _ in candidates)
    raise ClearirError(
        f"no data directory found (looked in {looked}); run `clearir data download`, "
        f"or pass --data-dir / set {DATA_ENV}"
    )


def data_dir(override: str | Path | None = None) -> Path:
    """The data directory (see :func:`find_data_dir`)."""
    return find_data_dir(override)[0]


def download_dir(override: str | Path | None = None) -> Path:
    """Where downloads go: ``--data-dir``, ``$CLEARIR_DATA_DIR`` or ``$CLEARIR_HOME/data``."""
    return Path(override or os.environ.get(DATA_ENV) or home_dir() / "data").expanduser()


def resolve_model(model: str | None) -> str:
    """``None`` means the built default model; anything else is a sentence-transformers name or local path.

    A local model directory is checked for damage first (see :func:`clearir.files.damage`)."""
    if model is None:
        path = default_model_path()
        if not (path / "config.json").is_file():
            raise ClearirError(f"the default model is not built at {path}; run `clearir model build`")
        check_model_dir(path)
        return str(path)
    if Path(model).expanduser().is_dir():
        check_model_dir(Path(model).expanduser())
    return model


def check_model_dir(path: Path) -> None:
    """A ClearirError saying how to repair ``path`` if it is a damaged model directory."""
    why = damage(path)
    if why is None:
        return
    if (path / "clearir_build.json").is_file():
        where = "" if path.absolute() == default_model_path().absolute() else f" --out {path}"
        fix = f"rebuild it with `clearir model build --force{where}`"
    elif (path / "clearir_train.json").is_file():
        fix = "train it again with `clearir train` (or `clearir run`, which redoes it)"
    else:
        fix = "restore it from its source"
    raise ClearirError(f"model {path} is damaged ({why}); {fix}")
