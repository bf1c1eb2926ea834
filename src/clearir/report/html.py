"""``report.html``: the run report's sections (:mod:`clearir.report.summary`) as one self-contained page
(inline CSS, figures as base64 data URIs, no scripts); every text is escaped by the renderer
(:func:`clearir.report.blocks.html_page`)."""

from __future__ import annotations

from clearir.report.blocks import html_page
from clearir.report.results import RunResults
from clearir.report.summary import heading, report_sections


def render_html(results: RunResults, pngs: dict[str, bytes]) -> str:
    """The whole page; ``pngs`` are the figures by file name (from ``plots.render_plots``)."""
    return html_page(
        heading(results), report_sections(results, list(pngs)), pngs, title=f"clearir report — {results.name}"
    )
