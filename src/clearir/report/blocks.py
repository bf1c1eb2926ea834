"""The report toolkit: a report as plain content (sections of paragraphs, lists, tables, figures, cards and
preformatted text) rendered as markdown (``markdown``), as one self-contained HTML page (``html_page``:
inline CSS, figures as data URIs, no scripts) and for the terminal (``terminal``, ``rich_table``). Both
``clearir run`` and ``clearir ablate`` build their reports from these blocks; every text is escaped by the
renderer (``md_escape``, ``esc``; rich ``Text``, never parsed as markup)."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rich.console import Group
from rich.table import Table
from rich.text import Text


@dataclass(frozen=True)
class Cell:
    """A table cell or list item: plain text, ``better``/``worse``/``same`` colouring, a ``title`` the
    HTML page shows on hover (e.g. the p-value), and in a heatmap the ``shade`` (0 to 1) of its colour."""

    text: str
    quality: str = ""
    title: str = ""
    shade: float | None = None


@dataclass(frozen=True)
class Block:
    """A piece of a section.

    ``p`` (text), ``note`` (a muted paragraph), ``subheading`` (text), ``list`` (items), ``table`` (header,
    rows; numbers right-aligned in the columns ``numeric``; ``groups``: the rows that start a group),
    ``heatmap`` (a table whose cells are coloured by their ``shade``: green, red or grey for
    ``better``/``worse``/``same``, blue otherwise; ``*`` in a cell marks it significant; a table in
    markdown and the terminal),
    ``figure`` (a PNG by file name in ``header[0]``, caption in ``text``), ``pre`` (text; ``lang`` names its
    language) or
    ``cards`` (rows of label, value, note: a visual summary of what the sections say in words, shown on the
    HTML page only)."""

    kind: str
    text: str = ""
    items: tuple[Cell, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    numeric: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    lang: str = ""


# A section: its title ("" for none) and its blocks.
Section = tuple[str, list[Block]]


def md_escape(text: str) -> str:
    """Text from data made literal in markdown (also in a table cell): no raw HTML, no formatting."""
    for char, repl in (("\\", "\\\\"), ("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, repl)
    for char in "|`*_":
        text = text.replace(char, "\\" + char)
    return " ".join(text.split())


def esc(value: object) -> str:
    """Any value as HTML text: ``&``, ``<``, ``>`` and quotes escaped."""
    return html.escape(str(value), quote=True)


def _md_table(block: Block) -> list[str]:
    def cell(i: int, text: str) -> str:
        # A numeric column holds numbers the report formatted: its ``*`` marks stay marks.
        return md_escape(text).replace("\\*", "*") if i in block.numeric else md_escape(text)

    lines = ["| " + " | ".join(md_escape(h) for h in block.header) + " |"]
    lines.append(
        "|" + "|".join("---:" if i in block.numeric else "---" for i in range(len(block.header))) + "|"
    )
    return lines + [
        "| " + " | ".join(cell(i, c.text) for i, c in enumerate(row)) + " |" for row in block.rows
    ]


def markdown(heading: str, sections: Sequence[Section]) -> str:
    """The sections as markdown under ``# heading``; every text is escaped (``md_escape``)."""
    lines = [f"# {md_escape(heading)}"]
    for title, blocks in sections:
        if title:
            lines += ["", f"## {md_escape(title)}"]
        lines += markdown_lines(blocks)
    return "\n".join(lines) + "\n"


def markdown_lines(blocks: Sequence[Block]) -> list[str]:
    """Blocks as markdown lines, each block after a blank line (cards are left out)."""
    lines: list[str] = []
    for block in blocks:
        if block.kind != "cards":
            lines.append("")
        if block.kind in ("p", "note"):
            lines.append(md_escape(block.text))
        elif block.kind == "subheading":
            lines.append(f"**{md_escape(block.text)}**")
        elif block.kind == "list":
            lines += [f"- {md_escape(item.text)}" for item in block.items] or ["- none"]
        elif block.kind in ("table", "heatmap"):
            lines += _md_table(block)
        elif block.kind == "figure":
            lines.append(f"![{md_escape(block.text)}]({block.header[0]})")
        elif block.kind == "pre":
            fence = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", block.text)), default=0))
            lines += [fence + block.lang, block.text, fence]
    return lines


CSS = """
:root { --ink: #202124; --muted: #5f6368; --line: #e3e5e8; --better: #137333; --worse: #c5221f;
        --bg-better: #e6f4ea; --bg-worse: #fce8e6; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #f6f7f9; }
main { max-width: 1180px; margin: 0 auto; padding: 28px 28px 60px; }
header h1 { margin: 0 0 4px; font-size: 26px; }
h2 { font-size: 19px; margin: 34px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 16px; margin: 20px 0 8px; }
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
.heatmap table { width: auto; } .heatmap td.heat { text-align: center; min-width: 3.6em; }
.heatmap td.sig { font-weight: 700; outline: 2px solid #202124; outline-offset: -3px; }
pre { background: white; border: 1px solid var(--line); border-radius: 10px; padding: 12px; overflow-x: auto;
      font-size: 13px; }
.muted { color: var(--muted); }
"""


def _html_table(block: Block) -> str:
    def attrs(i: int, cell: Cell | None = None) -> str:
        names = ["num"] if i in block.numeric else []
        if cell is not None and cell.quality in ("better", "worse", "same"):
            names += ["delta", cell.quality]
        title = f" title='{esc(cell.title)}'" if cell is not None and cell.title else ""
        return (f" class='{' '.join(names)}'" if names else "") + title

    head = "".join(f"<th{attrs(i)}>{esc(h)}</th>" for i, h in enumerate(block.header))
    body = "".join(
        ("<tr class='group'>" if r in block.groups else "<tr>")
        + "".join(f"<td{attrs(i, c)}>{esc(c.text)}</td>" for i, c in enumerate(row))
        + "</tr>"
        for r, row in enumerate(block.rows)
    )
    return f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


# Heatmap hues (RGB) by cell quality: better, worse, the same, anything else (a value, not a change).
HEAT_COLORS = {"better": (19, 115, 51), "worse": (197, 34, 31), "same": (95, 99, 104), "": (8, 69, 148)}


def heat_color(cell: Cell) -> tuple[int, int, int]:
    """The background of a heatmap cell: its hue blended with white by its ``shade`` (0: white)."""
    r, g, b = HEAT_COLORS.get(cell.quality, HEAT_COLORS[""])
    shade = min(max(cell.shade or 0.0, 0.0), 1.0)

    def blend(channel: int) -> int:
        return round(255 + (channel - 255) * shade)

    return blend(r), blend(g), blend(b)


def _html_heatmap(block: Block) -> str:
    """A table with a row label, then cells on their ``heat_color`` (white text on dark cells); a cell
    whose text ends in ``*`` is significant (bold, outlined)."""

    def cell(c: Cell) -> str:
        title = f" title='{esc(c.title)}'" if c.title else ""
        if c.shade is None:
            return f"<td class='num heat'{title}>{esc(c.text)}</td>"
        r, g, b = heat_color(c)
        ink = "#ffffff" if (c.shade or 0.0) > 0.55 else "#202124"
        sig = " sig" if c.text.endswith("*") else ""
        style = f"background:rgb({r},{g},{b});color:{ink}"
        return f"<td class='num heat{sig}' style='{style}'{title}>{esc(c.text)}</td>"

    numeric = " class='num'"
    head = "".join(f"<th{numeric if i else ''}>{esc(h)}</th>" for i, h in enumerate(block.header))
    body = "".join(
        f"<tr><th>{esc(row[0].text)}</th>" + "".join(cell(c) for c in row[1:]) + "</tr>" for row in block.rows
    )
    return (
        f"<div class='table-wrap heatmap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        "</table></div>"
    )


def _html_cards(block: Block) -> str:
    cards = "".join(
        f"<div class='card'><div class='label'>{esc(label.text)}</div>"
        f"<div class='value {esc(value.quality)}'>{esc(value.text)}</div>"
        f"<div class='note'>{esc(note.text)}</div></div>"
        for label, value, note in block.rows
    )
    return f"<section class='cards'>{cards}</section>" if cards else ""


def _html_block(block: Block, pngs: dict[str, bytes]) -> str:
    if block.kind == "p":
        return f"<p>{esc(block.text)}</p>"
    if block.kind == "note":
        return f"<p class='muted'>{esc(block.text)}</p>"
    if block.kind == "subheading":
        return f"<h3>{esc(block.text)}</h3>"
    if block.kind == "list":
        items = "".join(f"<li class='{esc(c.quality)}'>{esc(c.text)}</li>" for c in block.items)
        return f"<ul class='plain'>{items}</ul>"
    if block.kind == "table":
        return _html_table(block)
    if block.kind == "heatmap":
        return _html_heatmap(block)
    if block.kind == "cards":
        return _html_cards(block)
    if block.kind == "figure":
        data = base64.b64encode(pngs[block.header[0]]).decode("ascii")
        return (
            f"<figure><img src='data:image/png;base64,{data}' alt='{esc(block.text)}'>"
            f"<figcaption>{esc(block.text)}</figcaption></figure>"
        )
    return f"<pre>{esc(block.text)}</pre>"


def html_page(heading: str, sections: Sequence[Section], pngs: dict[str, bytes], title: str = "") -> str:
    """The sections as one self-contained page (CSS inline, figures ``pngs`` as data URIs, no scripts) under
    ``heading``, with ``title`` (default: ``heading``) as the page title; every text goes through ``esc``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title or heading)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>{esc(heading)}</h1></header>",
    ]
    for section_title, blocks in sections:
        if section_title:
            parts.append(f"<h2>{esc(section_title)}</h2>")
        parts += [part for block in blocks if (part := _html_block(block, pngs))]
    parts.append("</main></body></html>")
    return "\n".join(parts)


# Terminal styles of the cell qualities.
STYLES = {"better": "bold green", "worse": "bold red", "same": "dim"}


def rich_table(block: Block, title: str = "", caption: str = "") -> Table:
    """A ``table`` block for the terminal: numeric columns right-aligned, a line between groups, cells
    coloured by quality; every text a ``Text`` (never parsed as rich markup)."""
    table = Table(title=Text(title) if title else None, caption=caption or None, header_style="bold")
    for i, name in enumerate(block.header):
        table.add_column(Text(name), justify="right" if i in block.numeric else "left")
    for r, row in enumerate(block.rows):
        if r in block.groups:
            table.add_section()
        table.add_row(*(Text(c.text, style=STYLES.get(c.quality, "")) for c in row))
    return table


def terminal(heading: str, sections: Sequence[Section]) -> Group:
    """The sections for the terminal (figures by file name; cards left out, as in markdown)."""
    parts: list[Text | Table] = [Text(heading, style="bold")]
    for section_title, blocks in sections:
        if section_title:
            parts.append(Text(f"\n{section_title}", style="bold underline"))
        for block in blocks:
            if block.kind in ("p", "pre"):
                parts.append(Text(block.text))
            elif block.kind in ("note", "subheading"):
                parts.append(Text(block.text, style="dim" if block.kind == "note" else "bold"))
            elif block.kind == "list":
                parts += [Text(f"- {c.text}", style=STYLES.get(c.quality, "")) for c in block.items]
            elif block.kind in ("table", "heatmap"):
                parts.append(rich_table(block))
            elif block.kind == "figure":
                parts.append(Text(f"[figure {block.header[0]}: {block.text}]", style="dim"))
    return Group(*parts)
