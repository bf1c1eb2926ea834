"""The one model loader: local directories only, the device and token limit asked for, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearir.errors import ClearirError
from clearir.model.load import load_model, model_source, set_max_seq_length
from tests.tiny_model import make_tiny_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("load") / "tiny"
    make_tiny_model().save(str(path))
    return path


def test_loads_a_directory_with_device_and_length(saved: Path) -> None:
    model = load_model(saved, device="cpu", max_seq_length=16)
    assert model.device.type == "cpu" and model.max_seq_length == 16
    assert model.encode(["the city"]).shape == (1, make_tiny_model().get_embedding_dimension())
    assert model_source(saved) == saved.absolute()
    assert load_model(str(saved), device="cpu").max_seq_length == make_tiny_model().max_seq_length


def test_a_directory_that_is_not_a_model_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "not-a-model"
    folder.mkdir()
    (folder / "notes.txt").write_text("x")
    with pytest.raises(ClearirError, match=rf"model path {folder} is not a model directory"):
        load_model(folder)


def test_a_name_not_in_the_local_cache_is_a_clear_error() -> None:
    with pytest.raises(ClearirError, match="cannot load model 'clearir-test/no-such-model'"):
        load_model("clearir-test/no-such-model", device="cpu")


def test_bad_token_limit(saved: Path) -> None:
    model = load_model(saved, device="cpu")
    with pytest.raises(ClearirError, match="--max-seq-length must be between 1 and"):
        set_max_seq_length(model, 0)
    with pytest.raises(ClearirError, match="--max-seq-length must be between 1 and"):
        load_model(saved, device="cpu", max_seq_length=10**5)
