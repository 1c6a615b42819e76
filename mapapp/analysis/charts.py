"""A small server-side SVG bar chart (no script, no CDN), escaped text only."""

from __future__ import annotations

from html import escape


def bar_chart(
    title: str, bars: list[tuple[str, float, str]], unit: str = "", width: int = 560
) -> str:
    """Horizontal bars ``(label, value, colour)`` as a self-contained SVG document."""
    row, left, top = 26, 230, 34
    height = top + row * max(len(bars), 1) + 12
    peak = max((v for _l, v, _c in bars), default=0) or 1
    span = width - left - 80
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'font-family="system-ui, sans-serif" font-size="13">',
        f"<title>{escape(title)}</title>",
        f'<text x="0" y="18" font-weight="700" font-size="14">{escape(title)}</text>',
    ]
    for i, (label, value, colour) in enumerate(bars):
        y = top + i * row
        w = max(value / peak * span, 1 if value else 0)
        parts.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(label[:34])}</text>"
        )
        parts.append(
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="16" '
            f'fill="{escape(colour)}"/>'
        )
        parts.append(
            f'<text x="{left + w + 6:.1f}" y="{y + 15}">'
            f"{escape(f'{value:,.0f}'.replace(',', ' '))}{escape(unit)}</text>"
        )
    parts.append("</svg>")
    return "\n".join(parts)
