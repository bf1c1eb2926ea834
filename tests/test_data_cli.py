"""``clearir data list`` and ``clearir data download`` through the real entry point, and their errors."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from clearir.data.download import fetch, plan
from clearir.data.registry import DATASETS
from clearir.errors import ClearirError
from tests.cli_runner import run


def assert_one_error_line(code: int, err: str, *parts: str) -> None:
    assert code == 2
    assert err.startswith("error: ") and err.endswith("\n") and err.count("\n") == 1, err
    for part in parts:
        assert part in err, err


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path, data_dir: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving copies of the official files: (base URL, served folder)."""
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(data_dir / "xquad" / "xquad.de.json", served)
    for lang in ("de", "en"):
        shutil.copy(data_dir / "mlqa-r" / f"{lang}.json", served / f"mlqa-{lang}.json")
    (served / "xquad.es.json").write_text('{"data": [{"title": "only a title"}]}', encoding="utf-8")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietHandler, directory=str(served)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", served
    httpd.shutdown()
    httpd.server_close()


def _point_urls_at(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    monkeypatch.setitem(
        DATASETS, "xquad", replace(DATASETS["xquad"], url_template=base + "/xquad.{code}.json")
    )
    monkeypatch.setitem(DATASETS, "mlqa", replace(DATASETS["mlqa"], url_template=base + "/mlqa-{code}.json"))


def test_list_shows_the_real_data(data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    code, out, err = run(["data", "list", "--data-dir", str(data_dir)], monkeypatch, capsys)
    assert (code, err) == (0, "")
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in out.splitlines() if line.strip()}
    assert rows[("xquad", "th")] == ["240", "1,190", "1,190", "xquad/xquad.th.json"]
    assert rows[("mlqa", "en")] == ["978", "1,148", "-", "mlqa-r/en.json"]
    assert rows[("mlqa", "de")] == ["456", "512", "512", "mlqa-r/de.json"]
    assert sum(key[0] in ("xquad", "mlqa") for key in rows) == 19


def test_download_fetches_verifies_and_skips_present_files(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    base, served = server
    _point_urls_at(monkeypatch, base)
    out_dir = tmp_path / "out"
    args = ["data", "download", "--datasets", "xquad,mlqa", "--langs", "de", "--data-dir", str(out_dir)]
    code, out, err = run(args, monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert "3 downloaded, 0 already present" in out
    assert (out_dir / "xquad" / "xquad.de.json").read_bytes() == (served / "xquad.de.json").read_bytes()
    # MLQA-R German brings English, whose paragraphs key the German ones.
    assert (out_dir / "mlqa-r" / "en.json").read_bytes() == (served / "mlqa-en.json").read_bytes()
    files = sorted(str(p.relative_to(out_dir)) for p in out_dir.rglob("*") if p.is_file())
    assert files == ["mlqa-r/de.json", "mlqa-r/en.json", "xquad/xquad.de.json"]
    assert sorted(p.name for p in out_dir.rglob("*") if p.is_dir()) == ["mlqa-r", "xquad"]

    code, out, _ = run(args, monkeypatch, capsys)
    assert code == 0 and "0 downloaded, 3 already present" in out
    code, out, _ = run([*args, "--force"], monkeypatch, capsys)
    assert code == 0 and "3 downloaded, 0 already present" in out

    code, out, _ = run(["data", "list", "--data-dir", str(out_dir)], monkeypatch, capsys)
    assert code == 0 and "mlqa-r/de.json" in out and "1,190" in out


def test_download_rejects_a_file_that_does_not_parse(
    server: tuple[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _point_urls_at(monkeypatch, server[0])
    out_dir = tmp_path / "out"
    code, _, err = run(
        ["data", "download", "--datasets", "xquad", "--langs", "es", "--data-dir", str(out_dir)],
        monkeypatch,
        capsys,
    )
    assert_one_error_line(
        code, err, "/xquad.es.json, but it is not a valid xquad file", "missing key data[0].paragraphs"
    )
    assert list((out_dir / "xquad").iterdir()) == []  # neither the file nor the staging folder is left
    code, _, err = run(
        ["data", "download", "--datasets", "xquad", "--langs", "ru", "--data-dir", str(out_dir)],
        monkeypatch,
        capsys,
    )
    assert_one_error_line(code, err, f"cannot download {server[0]}/xquad.ru.json: HTTP 404")


def test_plan_picks_each_datasets_languages() -> None:
    assert [(s.name, lang) for s, lang in plan(["xquad", "mlqa"], ["el", "hi"])] == [
        ("xquad", "el"),
        ("xquad", "hi"),
        ("mlqa", "en"),
        ("mlqa", "hi"),
    ]
    assert [lang for _, lang in plan(["mlqa"], ["en"])] == ["en"]
    assert len(plan()) == 12 + 7


def test_download_without_network_fails_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    _point_urls_at(monkeypatch, "http://127.0.0.1:9")
    out_dir = tmp_path / "out"
    code, _, err = run(
        ["data", "download", "--datasets", "xquad", "--data-dir", str(out_dir)], monkeypatch, capsys
    )
    assert_one_error_line(
        code, err, "cannot download http://127.0.0.1:9/xquad.ar.json:", "check the network connection"
    )
    assert not (out_dir / "xquad" / "xquad.ar.json").exists()


def test_download_times_out_on_a_silent_server(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog) but never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/xquad.{{code}}.json"
        with pytest.raises(
            ClearirError, match=r"^cannot download http://127\.0\.0\.1:\d+/xquad\.de\.json: .*timed out"
        ):
            fetch(replace(DATASETS["xquad"], url_template=url), "de", tmp_path, timeout=0.5)
    assert list((tmp_path / "xquad").iterdir()) == []


def test_bad_options_fail_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    download = ["data", "download", "--data-dir", str(tmp_path)]
    code, _, err = run([*download, "--datasets", "squad"], monkeypatch, capsys)
    assert_one_error_line(code, err, "unknown dataset 'squad'; expected one of xquad, mlqa, belebele")
    code, _, err = run([*download, "--datasets", "mlqa", "--langs", "de,el"], monkeypatch, capsys)
    assert_one_error_line(
        code, err, "unknown language 'el' for mlqa; expected one of ar, de, en, es, hi, vi, zh"
    )
    code, _, err = run([*download, "--datasets", " , "], monkeypatch, capsys)
    assert_one_error_line(code, err, "no dataset given; expected some of xquad, mlqa")
    code, _, err = run([*download, "--datasets", "belebele"], monkeypatch, capsys)
    assert_one_error_line(
        code, err, "belebele has no per-language download; unpack https://dl.fbaipublicfiles.com"
    )
    code, _, err = run(["data", "list", "--data-dir", str(tmp_path / "nowhere")], monkeypatch, capsys)
    assert_one_error_line(code, err, "nowhere (--data-dir) does not exist")
    assert list(tmp_path.iterdir()) == []


def _one_question(qa: dict) -> str:
    return json.dumps({"data": [{"title": "x", "paragraphs": [{"context": "c", "qas": [qa]}]}]})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '{"data": [\n  {"title": "x",,\n',
            "xquad.de.json: invalid JSON at line 2, column 17: Expecting property",
        ),
        (
            _one_question({"id": "1"}),
            "xquad.de.json: not SQuAD v1.1 format: missing key data[0].paragraphs[0].qas[0].question",
        ),
        (
            _one_question({"id": "1", "question": "?"}),
            "xquad.de.json: 1 of 1 questions have no parallel partner (same question id) in ",
        ),
    ],
)
def test_list_reports_bad_files_in_one_line(
    text: str, message: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    (tmp_path / "xquad").mkdir()
    shutil.copy(data_dir / "xquad" / "xquad.en.json", tmp_path / "xquad")
    (tmp_path / "xquad" / "xquad.de.json").write_text(text, encoding="utf-8")
    code, _, err = run(["data", "list", "--data-dir", str(tmp_path)], monkeypatch, capsys)
    assert_one_error_line(code, err, message)


def test_console_entry_point_exits_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from clearir.cli.main import main; main()",
            "data",
            "list",
            "--data-dir",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("error: data directory "), proc.stderr
