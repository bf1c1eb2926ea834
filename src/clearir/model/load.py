"""The one way clearir loads a SentenceTransformer: from a local directory or a locally cached name, never
from the hub, in float32 (bf16 is autocast at use, see :mod:`clearir.precision`)."""

from __future__ import annotations

from pathlib import Path

from sentence_transformers import SentenceTransformer

from clearir.config import resolve_model
from clearir.errors import ClearirError

# A directory holding one of these is a sentence-transformers or a Hugging Face model directory.
MODEL_FILES = ("modules.json", "config.json")


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def model_source(model: str | Path | None) -> Path | None:
    """The local directory ``model`` (a path, a name, ``None`` for the default) names, if it is one."""
    name = resolve_model(None if model is None else str(model))
    path = Path(name).expanduser()
    if path.exists() and not path.is_dir():
        raise ClearirError(f"model path {path} is a file; expected a model directory")
    if not path.exists() and _looks_like_path(name):
        raise ClearirError(
            f"model path {path} does not exist; expected a sentence-transformers model directory"
        )
    if path.is_dir() and not any((path / file).is_file() for file in MODEL_FILES):
        raise ClearirError(
            f"model path {path} is not a model directory: it has no {' or '.join(MODEL_FILES)}; expected a "
            "sentence-transformers or Hugging Face model directory"
        )
    return path.absolute() if path.exists() else None


def load_model(
    model: str | Path | None, *, device: str | None = None, max_seq_length: int | None = None
) -> SentenceTransformer:
    """A SentenceTransformer from a local directory or a locally cached name; ``None``: the default model.

    ``device``: where to put it (default: sentence-transformers' choice, a GPU if there is one);
    ``max_seq_length``: truncate inputs there (default: the model's own). Files are only read locally; a
    path that is not a model directory, or a name not in the local cache, is a ClearirError naming it.
    """
    name = resolve_model(None if model is None else str(model))
    source = model_source(model)
    try:
        loaded = SentenceTransformer(
            str(source) if source is not None else name, device=device, local_files_only=True
        )
    except (OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClearirError(f"cannot load model {name!r}: {first}") from exc
    if max_seq_length is not None:
        set_max_seq_length(loaded, max_seq_length)
    return loaded


def set_max_seq_length(model: SentenceTransformer, max_seq_length: int) -> None:
    """Truncate inputs at ``max_seq_length`` tokens (1 .. the tokenizer's limit)."""
    limit = getattr(model.tokenizer, "model_max_length", None)
    limit = limit if isinstance(limit, int) and limit < 10**6 else None
    if max_seq_length < 1 or (limit is not None and max_seq_length > limit):
        raise ClearirError(
            f"--max-seq-length must be between 1 and {limit or 'the model limit'}, got {max_seq_length}"
        )
    model.max_seq_length = max_seq_length
