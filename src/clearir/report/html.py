"""``report.html``: one self-contained page (inline CSS, figures as base64 data URIs, no scripts) with the
headline, English retention, figures, the full table, fine-tune vs. SHIFT vs. both, training, timing,
configuration and versions.

Every text that comes from data or arguments goes through ``esc`` (``html.escape`` with quotes)."""

from __future__ import annotations

import base64
import html
import json

from clearir.metrics.registry import metric
from clearir.report.compare import (
    comparison_rows,
    english_retention,
    headlines,
    shift_tables,
)
from clearir.report.results import RunResults
from clearir.report.tables import (
    SHIFT_HEADER,
    SHIFT_NOTE,
    delta_quality,
    format_delta,
    format_value,
    scope_label,
    shift_cells,
    shift_title,
)

CSS = """
:root { --ink: #202124; --muted: #5f6368; --line: #e3e5e8; --better: #137333; --worse: #c5221f;
        --bg-better: #e6f4ea; --bg-worse: #fce8e6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 60px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
header .meta { color: var(--muted); margin: 0; }
h2 { font-size: 19px; margin: 34px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
.cards { display: flex; flex-wrap: wrap; gap: 14px; margin-top: 22px; }
.card { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 14px 18px;
        min-width: 220px; flex: 1; box-shadow: 0 1px 2px rgba(0,0,0,.04); }
.card .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 30px; font-weight: 700; margin: 2px 0; }
.card .note { color: var(--muted); font-size: 13px; }
.better { color: var(--better); } .worse { color: var(--worse); } .same { color: var(--muted); }
ul.plain { padding-left: 20px; margin: 0; } ul.plain li { margin: 4px 0; }
figure { background: white; border: 1px solid var(--line); border-radius: 10px; margin: 0 0 16px;
         padding: 12px; text-align: center; }
figure img { max-width: 100%; height: auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 6px; }
.table-wrap { overflow-x: auto; background: white; border: 1px solid var(--line); border-radius: 10px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 5px 10px; text-align: left; white-space: nowrap; }
th { background: #f1f3f4; position: sticky; top: 0; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.group td { border-top: 1px solid #c9ccd1; }
tbody tr:hover { background: #f8f9fa; }
td.delta.better { background: var(--bg-better); } td.delta.worse { background: var(--bg-worse); }
pre { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 12px; overflow-x: auto;
      font-size: 13px; }
.muted { color: var(--muted); }
"""


def esc(value: object) -> str:
    """Any value as HTML text: ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{seconds:.1f} s"


def _cards(results: RunResults) -> str:
    rows = comparison_rows(results)
    cards = []
    for head in headlines(rows):
        quality = "better" if head.mean_delta > 0 else "worse" if head.mean_delta < 0 else "same"
        cards.append(
            f'<div class="card"><div class="label">{esc(head.loss)} · cross-lingual nDCG@10</div>'
            f'<div class="value {quality}">{head.mean_delta:+.3f}</div>'
            f'<div class="note">mean change vs. base over L→en and en→L; '
            f"{head.improved} of {head.total} better</div></div>"
        )
        if head.max_rank_delta is not None:
            quality = "better" if head.max_rank_delta < 0 else "worse" if head.max_rank_delta > 0 else "same"
            cards.append(
                f'<div class="card"><div class="label">{esc(head.loss)} · mixed-pool Max@R</div>'
                f'<div class="value {quality}">{head.max_rank_delta:+.2f}</div>'
                '<div class="note">mean change vs. base, L queries in an en ∪ L pool (lower is better)'
                "</div></div>"
            )
    for item in english_retention(results):
        quality = item.quality
        trained = f" ({esc(item.train_lang)})" if item.train_lang else ""
        cards.append(
            f'<div class="card"><div class="label">English · {esc(item.loss)}{trained}</div>'
            f'<div class="value {quality}">{item.delta:+.3f}</div>'
            f'<div class="note">en→en nDCG@10 {item.base:.3f} → {item.value:.3f} '
            f"on {esc(item.dataset)}: {esc(item.verdict)}</div></div>"
        )
    return f'<section class="cards">{"".join(cards)}</section>' if cards else ""


def _retention(results: RunResults) -> str:
    items = english_retention(results)
    if not items:
        return ""
    lines = "".join(f"<li>{esc(item.sentence())}</li>" for item in items)
    return f'<h2>English retention</h2><ul class="plain">{lines}</ul>'


def _figure(png: bytes | None, alt: str, caption: str) -> str:
    if png is None:
        return ""
    return (
        f'<figure><img src="{_data_uri(png)}" alt="{esc(alt)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _results_table(results: RunResults) -> str:
    rows = comparison_rows(results)
    if not rows:
        return '<p class="muted">No fine-tuned model was compared with the base model.</p>'
    losses = results.losses
    head = "<th>dataset</th><th>language</th><th>direction</th><th>metric</th><th class='num'>base</th>"
    head += "".join(f"<th class='num'>{esc(loss)}</th><th class='num'>Δ</th>" for loss in losses)
    body = []
    previous: tuple[str, str, str] | None = None
    for row in rows:
        spec = metric(row.metric)
        key = (row.dataset, scope_label(row), row.direction)
        new_scope = previous is None or key[:2] != previous[:2]
        new_direction = previous is None or key != previous
        cells = [
            f"<td>{esc(row.dataset) if new_scope else ''}</td>",
            f"<td>{esc(scope_label(row)) if new_scope else ''}</td>",
            f"<td>{esc(row.direction) if new_direction else ''}</td>",
            f"<td>{esc(spec.label)}</td>",
            f"<td class='num'>{esc(format_value(spec, row.base))}</td>",
        ]
        for loss in losses:
            delta = row.by_loss[loss]
            quality = delta_quality(spec, delta.delta)
            title = f" title='p = {delta.p_value:.4f}'" if delta.p_value is not None else ""
            cells.append(f"<td class='num'>{esc(format_value(spec, delta.value))}</td>")
            cells.append(f"<td class='num delta {quality}'{title}>{esc(format_delta(spec, delta))}</td>")
        body.append(f"<tr class='{'group' if new_scope else ''}'>{''.join(cells)}</tr>")
        previous = key
    note = (
        "<p class='muted'>Δ = model − base. Green is better, red is worse (lower is better for Max@R and "
        "English inclination). * marks p &lt; 0.05 in a paired randomization test against the base model.</p>"
    )
    return (
        f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>{note}"
    )


def _shift_section(results: RunResults) -> str:
    """Fine-tune, SHIFT, or both: a table per training language and fine-tuned model (none without SHIFT)."""
    tables = shift_tables(results)
    if not tables:
        return ""
    parts = ["<h2>Fine-tune, SHIFT, or both</h2>"]
    numeric = set(range(2, len(SHIFT_HEADER)))
    for table in tables:
        head = "".join(
            f"<th{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(SHIFT_HEADER)
        )
        body = []
        for row in table.rows:
            spec = metric(row.metric)
            cells = shift_cells(row)
            tds = [f"<td>{esc(c)}</td>" for c in cells[:2]]
            tds += [f"<td class='num'>{esc(c)}</td>" for c in cells[2:6]]
            for diff, text in zip(row.diffs, cells[6:], strict=True):
                quality = delta_quality(spec, None if diff is None else diff.diff)
                title = (
                    f" title='p = {diff.p_value:.4f}, Holm {diff.p_holm:.4f}'"
                    if diff is not None and diff.p_holm is not None
                    else ""
                )
                tds.append(f"<td class='num delta {quality}'{title}>{esc(text)}</td>")
            body.append(f"<tr>{''.join(tds)}</tr>")
        parts.append(
            f"<h3>{esc(shift_title(table))}</h3><div class='table-wrap'><table><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>"
        )
    parts.append(f"<p class='muted'>{esc(SHIFT_NOTE)}</p>")
    return "".join(parts)


def _simple_table(header: list[str], rows: list[list[object]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th{' class=num' if i in numeric else ''}>{esc(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>"
        + "".join(f"<td{' class=num' if i in numeric else ''}>{esc(c)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for row in rows
    )
    return f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def render_html(results: RunResults, pngs: dict[str, bytes]) -> str:
    """The whole page; ``pngs`` are the figures by file name (from ``plots.render_plots``)."""
    models = [[m.name, m.loss or "(base)", m.train_lang or "", m.path] for m in results.models]
    timings = [[t.phase, f"{t.seconds:.1f}", "reused" if t.reused else "", t.detail] for t in results.timings]
    versions = [[name, version] for name, version in results.versions.items()]
    config = json.dumps(results.config, indent=2, ensure_ascii=False, sort_keys=True)
    total = _duration(results.total_seconds)
    meta = f"{esc(results.created)} · total {esc(total)} · {len(results.models)} models"
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>clearir report — {esc(results.name)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>clearir run: {esc(results.name)}</h1><p class='meta'>{meta}</p></header>",
        _cards(results),
        _retention(results),
        "<h2>Figures</h2>",
        _figure(
            pngs.get("ndcg_by_direction.png"),
            "nDCG@10 per language and direction",
            "nDCG@10 per language and direction, base model vs. each loss.",
        ),
        _figure(
            pngs.get("mixed_pool.png"),
            "Max@R and Complete@10 in the mixed pools",
            "Mixed-language pools: Max@R (rank of the worst-ranked gold document) and Complete@10.",
        ),
        "<h2>Results</h2>",
        _results_table(results),
        _shift_section(results),
        "<h2>Training</h2>",
        _figure(pngs.get("loss_curves.png"), "Training loss per component", "Training loss per component."),
        _simple_table(["model", "loss", "trained on", "path"], models),
        "<h2>Timing</h2>",
        _simple_table(["phase", "seconds", "", "detail"], timings, numeric={1}),
        "<h2>Configuration</h2>",
        f"<pre>{esc(config)}</pre>",
        "<h2>Versions</h2>",
        _simple_table(["package", "version"], versions),
        "</main></body></html>",
    ]
    return "\n".join(part for part in parts if part)
