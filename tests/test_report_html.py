"""report.html: escaping of every text from data, and the page as rendered by a real headless Chromium."""

from __future__ import annotations

import base64
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
from PIL import Image

from clearir.report import write_report
from clearir.report.figures import LOSS_COLORS
from clearir.report.html import render_html
from clearir.report.plots import render_plots
from tests.test_report_tables import synthetic_results

NAME = 'run <script>document.title="pwned"</script> & <img src=x onerror="document.title=1">'
LANG = "<script>document.title='lang'</script>&hi"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "headless Chromium is needed for this test: apt-get install -y chromium (.ci/run does this)"
    return path


def _run_chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


class _Page(HTMLParser):
    """What a reader sees: the title, the table cells, the images and any script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.title, self.cells, self.images, self.scripts = "", [], [], 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("title", "td", "th"):
            self._in = tag
            if tag != "title":
                self.cells.append("")
        elif tag == "img":
            self.images.append(dict(attrs))
        elif tag == "script":
            self.scripts += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self._in:
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in in ("td", "th"):
            self.cells[-1] += data


def test_html_escapes_every_text_from_data() -> None:
    results = synthetic_results(name=NAME, lang_label=LANG)
    page = render_html(results, render_plots(results))
    assert "<script" not in page.lower() and 'onerror="' not in page and "<img src=x" not in page
    assert "run &lt;script&gt;document.title=&quot;pwned&quot;&lt;/script&gt; &amp; &lt;img" in page
    assert "&lt;script&gt;document.title=&#x27;lang&#x27;&lt;/script&gt;&amp;hi→en" in page


def test_report_in_headless_chromium(tmp_path: Path) -> None:
    results = synthetic_results(name=NAME, lang_label=LANG)
    write_report(results, tmp_path / "run")
    url = (tmp_path / "run" / "report.html").as_uri()

    dom = _run_chromium(tmp_path, "--dump-dom", url).stdout
    page = _Page()
    page.feed(dom)
    # Neither injected script ran (each would have changed the title), and the page has no script at all.
    assert page.title == f"clearir report — {NAME}"
    assert page.scripts == 0
    # The table shows the numbers and the escaped labels as text.
    cells = [" ".join(c.split()) for c in page.cells]
    assert (
        f"{LANG}→en" in cells and "+0.050*" in cells and "0.650" in cells and "English inclination" in cells
    )
    assert "ar (zero-shot, trained on de)" in cells
    # Three figures, each an embedded PNG.
    assert len(page.images) == 3
    for image in page.images:
        src = image["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")

    shot = tmp_path / "shot.png"
    _run_chromium(tmp_path, "--window-size=1280,5200", f"--screenshot={shot}", url)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (5200, 1280)
    colors, counts = _colors(pixels)
    # Not blank, and the figures were decoded and drawn: the bar colours, which only the PNGs use, cover
    # many pixels.
    assert len(colors) > 100
    for color in LOSS_COLORS[:2]:
        rgb = np.array([int(color[i : i + 2], 16) for i in (1, 3, 5)])
        assert counts[np.abs(colors - rgb).max(axis=1) <= 4].sum() > 5000, color


def _colors(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct RGB colours of an image and how many pixels have each."""
    packed, counts = np.unique(pixels @ np.array([65536, 256, 1]), return_counts=True)
    return np.stack([packed >> 16, (packed >> 8) & 255, packed & 255], axis=1), counts
