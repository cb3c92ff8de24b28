"""Small SVG charts drawn on the server, so the console needs no charting library."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

__all__ = ["OUTCOME_COLOURS", "column_chart", "stacked_bars"]

OUTCOME_COLOURS = {"self_served": "#2e7d32", "ticketed": "#f9a825", "escalated": "#1f6feb", "abandoned": "#b0bec5"}


def stacked_bars(rows: Sequence[tuple[str, dict[str, int]]], colours: dict[str, str], width: int = 560) -> str:
    """One horizontal bar per row, split by key; each bar as long as the row's total."""
    label_width, bar_height, gap = 110, 22, 8
    longest = max((sum(values.values()) for _, values in rows), default=0) or 1
    scale = (width - label_width - 50) / longest
    height = len(rows) * (bar_height + gap) + gap
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img">']
    for n, (label, values) in enumerate(rows):
        y = gap + n * (bar_height + gap)
        parts.append(f'<text x="0" y="{y + 15}">{escape(label)}</text>')
        x = float(label_width)
        for key, colour in colours.items():
            w = values.get(key, 0) * scale
            if w:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_height}" fill="{colour}">'
                    f"<title>{escape(key)}: {values[key]}</title></rect>"
                )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(values.values())}</text>')
    parts.append("</svg>")
    return "".join(parts)


def column_chart(points: Sequence[tuple[str, float]], width: int = 560, height: int = 180) -> str:
    """One column per point (a day, say), labelled below, its value above."""
    if not points:
        return ""
    top = max(value for _, value in points) or 1
    base, space = height - 24, width / len(points)
    bar = min(40.0, space * 0.7)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img">',
        f'<line class="axis" x1="0" x2="{width}" y1="{base}" y2="{base}"/>',
    ]
    for n, (label, value) in enumerate(points):
        h = (base - 16) * value / top
        x = n * space + (space - bar) / 2
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}">'
            f"<title>{escape(label)}: {value:g}</title></rect>"
        )
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{base - h - 4:.1f}" text-anchor="middle">{value:g}</text>')
        parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
