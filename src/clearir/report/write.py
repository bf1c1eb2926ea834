"""Write a run's whole report into its directory, every file atomically."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from clearir.files import write_bytes, write_json, write_text
from clearir.report.compare import comparison_rows, english_retention, headlines, shift_tables
from clearir.report.html import render_html
from clearir.report.plots import render_plots
from clearir.report.results import RunResults
from clearir.report.summary import summary_markdown

RESULTS_FILE = "results.json"
SUMMARY_FILE = "summary.md"
HTML_FILE = "report.html"


def results_document(results: RunResults) -> dict[str, Any]:
    """``results.json``: the raw facts plus the derived views (deltas, English retention, headline,
    fine-tune vs. SHIFT vs. both)."""
    rows = comparison_rows(results)
    derived = {
        "comparisons": [asdict(r) for r in rows],
        "english_retention": [
            {
                **asdict(r),
                "delta": r.delta,
                "relative": r.relative,
                "verdict": r.verdict,
                "sentence": r.sentence(),
            }
            for r in english_retention(results)
        ],
        "headlines": [asdict(h) for h in headlines(rows)],
        "fine_tune_shift_or_both": [asdict(t) for t in shift_tables(results)],
    }
    return {**results.to_dict(), "derived": derived}


def write_report(results: RunResults, out_dir: Path) -> dict[str, Path]:
    """Write the figures (PNG), ``summary.md``, ``report.html`` and ``results.json`` into ``out_dir``.

    Returns the written paths by file name."""
    written: dict[str, Path] = {}
    pngs = render_plots(results)
    for name, png in pngs.items():
        written[name] = write_bytes(out_dir / name, png)
    written[SUMMARY_FILE] = write_text(out_dir / SUMMARY_FILE, summary_markdown(results, list(pngs)))
    written[HTML_FILE] = write_text(out_dir / HTML_FILE, render_html(results, pngs))
    written[RESULTS_FILE] = write_json(out_dir / RESULTS_FILE, results_document(results))
    return written
