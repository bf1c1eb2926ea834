"""What every report figure shares (``clearir run``'s and ``clearir ablate``'s): colours, resolution, axes
style, data text made literal, and a figure as PNG bytes (matplotlib's Agg canvas, no pyplot state)."""

from __future__ import annotations

import io

from matplotlib.axes import Axes
from matplotlib.figure import Figure

BASE_COLOR = "#9aa0a6"
LOSS_COLORS = ("#1a73e8", "#e8710a", "#188038", "#9334e6", "#d01884", "#12a4af", "#b06000")
GRID_COLOR = "#e0e0e0"
DPI = 110


def color(i: int) -> str:
    """The i-th series colour (the palette repeats)."""
    return LOSS_COLORS[i % len(LOSS_COLORS)]


def plain(text: str) -> str:
    """Data text for matplotlib: ``$`` would start mathtext."""
    return text.replace("$", r"\$")


def style_axes(ax: Axes, axis: str = "both") -> None:
    """A light grid (on ``axis``) behind the data and no top or right frame."""
    ax.grid(axis=axis, color=GRID_COLOR, linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes, white background, tight bounding box."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight", facecolor="white")
    return buffer.getvalue()
