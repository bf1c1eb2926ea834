"""A report as plain content (sections of paragraphs, lists, tables, figures and preformatted text), rendered
as markdown and as a self-contained HTML page; every text is escaped by the renderer."""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

from clearir.report.html import CSS, esc
from clearir.report.tables import md_escape


@dataclass(frozen=True)
class Cell:
    """A table cell: plain text (escaped by the renderer) and ``better``/``worse``/``same`` colouring."""

    text: str
    quality: str = ""


@dataclass(frozen=True)
class Block:
    """A piece of a section: ``p`` (text), ``list`` (items), ``table`` (header, rows; numbers right-aligned
    in the columns ``numeric``), ``figure`` (a PNG by file name, caption in ``text``) or ``pre``."""

    kind: str
    text: str = ""
    items: tuple[Cell, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    numeric: tuple[int, ...] = ()


# A section: its title ("" for none) and its blocks.
Section = tuple[str, list[Block]]


def markdown(heading: str, sections: Sequence[Section]) -> str:
    """The sections as markdown under ``# heading``; every text is escaped (``md_escape``)."""
    lines = [f"# {md_escape(heading)}"]
    for title, blocks in sections:
        if title:
            lines += ["", f"## {md_escape(title)}"]
        for block in blocks:
            lines.append("")
            if block.kind == "p":
                lines.append(md_escape(block.text))
            elif block.kind == "list":
                lines += [f"- {md_escape(item.text)}" for item in block.items] or ["- none"]
            elif block.kind == "table":
                lines.append("| " + " | ".join(md_escape(h) for h in block.header) + " |")
                lines.append(
                    "|"
                    + "|".join("---:" if i in block.numeric else "---" for i in range(len(block.header)))
                    + "|"
                )
                lines += ["| " + " | ".join(md_escape(c.text) for c in row) + " |" for row in block.rows]
            elif block.kind == "figure":
                lines.append(f"![{md_escape(block.text)}]({block.header[0]})")
            else:
                fence = "`" * max(3, 1 + max((len(r) for r in re.findall("`+", block.text)), default=0))
                lines += [fence, block.text, fence]
    return "\n".join(lines) + "\n"


def _html_table(block: Block) -> str:
    def cls(i: int, cell: Cell | None = None) -> str:
        names = ["num"] if i in block.numeric else []
        if cell is not None and cell.quality in ("better", "worse"):
            names += ["delta", cell.quality]
        return f" class='{' '.join(names)}'" if names else ""

    head = "".join(f"<th{cls(i)}>{esc(h)}</th>" for i, h in enumerate(block.header))
    body = "".join(
        "<tr>" + "".join(f"<td{cls(i, c)}>{esc(c.text)}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in block.rows
    )
    return f"<div class='table-wrap'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def html_page(heading: str, sections: Sequence[Section], pngs: dict[str, bytes]) -> str:
    """The sections as one self-contained page in ``clearir run``'s style (CSS inline, figures ``pngs`` as
    data URIs, no scripts); every text goes through ``esc``."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(heading)}</title>",
        f"<style>{CSS}</style></head><body><main>",
        f"<header><h1>{esc(heading)}</h1></header>",
    ]
    for title, blocks in sections:
        if title:
            parts.append(f"<h2>{esc(title)}</h2>")
        for block in blocks:
            if block.kind == "p":
                parts.append(f"<p>{esc(block.text)}</p>")
            elif block.kind == "list":
                items = "".join(f"<li class='{c.quality}'>{esc(c.text)}</li>" for c in block.items)
                parts.append(f"<ul class='plain'>{items}</ul>")
            elif block.kind == "table":
                parts.append(_html_table(block))
            elif block.kind == "figure":
                data = base64.b64encode(pngs[block.header[0]]).decode("ascii")
                parts.append(
                    f"<figure><img src='data:image/png;base64,{data}' alt='{esc(block.text)}'>"
                    f"<figcaption>{esc(block.text)}</figcaption></figure>"
                )
            else:
                parts.append(f"<pre>{esc(block.text)}</pre>")
    parts.append("</main></body></html>")
    return "\n".join(parts)
