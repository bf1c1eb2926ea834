"""Where clearir keeps things: its home (built models, caches) and the data directory."""

from __future__ import annotations

import os
from pathlib import Path

from clearir.errors import ClearirError
from clearir.files import damage

HOME_ENV = "CLEARIR_HOME"
DATA_ENV = "CLEARIR_DATA_DIR"
DEFAULT_MODEL_NAME = "multilingual-e5-small"


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


def data_dir(override: str | Path | None = None) -> Path:
    """The data directory: ``override`` (``--data-dir``), else ``$CLEARIR_DATA_DIR``, else ``./data``."""
    raw = override or os.environ.get(DATA_ENV) or "data"
    path = Path(raw).expanduser()
    if not path.is_dir():
        source = "--data-dir" if override else (DATA_ENV if os.environ.get(DATA_ENV) else "default ./data")
        raise ClearirError(
            f"data directory {path} ({source}) does not exist; set {DATA_ENV} or pass --data-dir, "
            "or run `clearir data download`"
        )
    return path


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
