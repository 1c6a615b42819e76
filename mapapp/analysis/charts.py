"""A small server-side SVG bar chart (no script, no CDN), escaped text only."""

from __future__ import annotations

import textwrap
from html import escape

LABEL_CHARS = 30  # per line of a bar's label (two lines at most)


def _label(label: str, x: int, y: int) -> str:
    """A bar's label on up to two lines, right-aligned at ``x``."""
    lines = textwrap.wrap(label, LABEL_CHARS) or [""]
    if len(lines) > 2:
        lines = [
            lines[0],
            textwrap.shorten(" ".join(lines[1:]), LABEL_CHARS, placeholder="…"),
        ]
    first = y + 15 - (7 if len(lines) == 2 else 0)
    spans = "".join(
        f'<tspan x="{x}" y="{first + 14 * i}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return f'<text text-anchor="end"><title>{escape(label)}</title>{spans}</text>'


def bar_chart(
    title: str,
    bars: list[tuple[str, float, str]],
    unit: str = "",
    width: int = 560,
    note: str = "",
    unknown: str = "?",
) -> str:
    """Horizontal bars ``(label, value, colour)`` as a self-contained SVG document;
    ``note`` is a line under the title (what the figures leave out). A value None
    draws no bar and writes ``unknown`` (never a bar of 0)."""
    row, left, top = 32, 230, 34 + (18 if note else 0)
    height = top + row * max(len(bars), 1) + 12
    peak = max((v for _l, v, _c in bars if v is not None), default=0) or 1
    span = width - left - 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-weight="700" font-size="14">{escape(title)}</text>',
    ]
    if note:
        parts.append(f'<text x="0" y="38" font-size="12">{escape(note)}</text>')
    for i, (label, value, colour) in enumerate(bars):
        y = top + i * row
        w = 0 if value is None else max(value / peak * span, 1 if value else 0)
        text = unknown if value is None else f"{value:,.0f}".replace(",", " ") + unit
        parts.append(_label(label, left - 8, y))
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="16" '
            f'fill="{escape(colour)}"/>'
        )
        parts.append(f'<text x="{left + w + 6:.1f}" y="{y + 15}">{escape(text)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)
