"""The data directory search: --data-dir, $CLEARIR_DATA_DIR, ./data, ../shared/data, $CLEARIR_HOME/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from clearir import config
from clearir.config import download_dir, find_data_dir
from clearir.errors import ClearirError
from tests.cli_runner import run


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty world: a checkout at tmp/repo (the working directory), a home at tmp/home, no variable set."""
    repo, home = tmp_path / "repo", tmp_path / "home"
    repo.mkdir()
    monkeypatch.chdir(repo)
    monkeypatch.setattr(config, "_checkout_root", lambda: repo)
    monkeypatch.delenv("CLEARIR_DATA_DIR", raising=False)
    monkeypatch.setenv("CLEARIR_HOME", str(home))
    return tmp_path


def _make(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def test_search_order(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = _make(world / "home" / "data")
    assert find_data_dir() == (home, "$CLEARIR_HOME/data")
    shared = _make(world / "shared" / "data")
    assert find_data_dir()[0].resolve() == shared.resolve()
    assert find_data_dir()[1] == "../shared/data beside the checkout"
    _make(world / "repo" / "data")
    assert find_data_dir() == (Path("data"), "./data")
    env = _make(world / "env")
    monkeypatch.setenv("CLEARIR_DATA_DIR", str(env))
    assert find_data_dir() == (env, "$CLEARIR_DATA_DIR")
    option = _make(world / "option")
    assert find_data_dir(str(option)) == (option, "--data-dir")


def test_an_explicit_choice_is_never_skipped(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make(world / "home" / "data")
    with pytest.raises(ClearirError, match=r"data directory .*missing \(--data-dir\) does not exist"):
        find_data_dir(str(world / "missing"))
    monkeypatch.setenv("CLEARIR_DATA_DIR", str(world / "gone"))
    with pytest.raises(ClearirError, match=r"gone \(\$CLEARIR_DATA_DIR\) does not exist"):
        find_data_dir()


def test_none_found_says_where_it_looked_and_what_to_do(world: Path) -> None:
    with pytest.raises(ClearirError) as info:
        find_data_dir()
    message = str(info.value)
    assert "no data directory found" in message and "clearir data download" in message
    for place in ("data", str(world / "shared" / "data"), str(world / "home" / "data")):
        assert place in message


def test_downloads_go_to_the_home_by_default(world: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert download_dir() == world / "home" / "data"
    monkeypatch.setenv("CLEARIR_DATA_DIR", str(world / "env"))
    assert download_dir() == world / "env"
    assert download_dir(str(world / "x")) == world / "x"


def test_data_where_and_list_name_the_directory_used(
    world: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    code, out, err = run(["data", "where"], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: no data directory found") and err.count("\n") == 1
    (world / "shared").mkdir()
    (world / "shared" / "data").symlink_to(data_dir)
    code, out, _ = run(["data", "where"], monkeypatch, capsys)
    assert code == 0 and out.strip().endswith("\t../shared/data beside the checkout")
    code, out, _ = run(["data", "list"], monkeypatch, capsys)
    assert code == 0 and "(../shared/data beside the checkout)" in out and "xquad" in out
