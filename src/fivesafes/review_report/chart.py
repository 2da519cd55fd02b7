"""Bar charts drawn by hand: an inline SVG for HTML and a text chart for markdown.

No plotting library: a review report is a small, dated document that must render
the same everywhere, so the chart is a few escaped SVG elements.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 330
BAR_WIDTH = 300
VALUE_WIDTH = 50


@dataclass(frozen=True)
class Bar:
    """One bar: its label, value and fill colour."""

    label: str
    value: int
    colour: str = "#4a6fa5"


def bar_length(value: int, largest: int, width: int = BAR_WIDTH) -> int:
    """Pixels for ``value`` when ``largest`` fills ``width``; any positive value shows."""
    if value <= 0 or largest <= 0:
        return 0
    return max(1, round(width * value / largest))


def svg_bar_chart(bars: Sequence[Bar], title: str) -> str:
    """A horizontal bar chart as a self-contained, accessible SVG element."""
    largest = max((b.value for b in bars), default=0)
    height = GAP + len(bars) * (BAR_HEIGHT + GAP)
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" '
        f'font-size="13"><title>{escape(title)}</title>'
    ]
    for index, bar in enumerate(bars):
        y = GAP + index * (BAR_HEIGHT + GAP)
        middle = y + BAR_HEIGHT / 2 + 4
        length = bar_length(bar.value, largest)
        parts.append(
            f'<text x="{LABEL_WIDTH - 8}" y="{middle}" text-anchor="end">{escape(bar.label)}</text>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length}" height="{BAR_HEIGHT}" '
            f'fill="{escape(bar.colour)}"><title>{escape(bar.label)}: {bar.value}</title></rect>'
            f'<text x="{LABEL_WIDTH + length + 6}" y="{middle}">{bar.value}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def text_bar_chart(bars: Sequence[Bar], width: int = 40) -> str:
    """The same chart in monospaced text, for markdown and terminals."""
    largest = max((b.value for b in bars), default=0)
    label_width = max((len(b.label) for b in bars), default=0)
    lines = []
    for bar in bars:
        blocks = "█" * bar_length(bar.value, largest, width)
        drawn = f"{blocks} {bar.value}" if blocks else str(bar.value)
        lines.append(f"{bar.label.ljust(label_width)} | {drawn}")
    return "\n".join(lines)
