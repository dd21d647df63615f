"""Small server-rendered SVG charts: no JavaScript, nothing fetched, readable by screen readers.

A chart is an `<svg role="img">` named by its `<title>` and `<desc>`; every bar carries its
own `<title>` (a tooltip) and its value as text. The page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

BAR_COLOUR = "#417690"  # the admin's primary blue
AXIS_COLOUR = "#767676"
TEXT_COLOUR = "#333333"


def _number(value: float, unit: str) -> str:
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text}{unit}"


def _nice_ceiling(value: float) -> float:
    """Return a round number at least `value` whose half is round too, for the axis."""
    step = 1.0
    while step * 10 < value:
        step *= 10
    for multiple in (2, 4, 6, 8, 10):
        if value <= step * multiple:
            return step * multiple
    return step * 10


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[tuple[str, float | int | None]],
    unit: str = "",
    max_value: float | None = None,
    width: int = 720,
    height: int = 240,
) -> SafeString:
    """Return an accessible SVG bar chart of `bars` ((label, value or None for no data)).

    `chart_id` makes the ids of the title and description unique on the page; the axis
    runs from 0 to `max_value` (by default a round number above the largest value).
    """
    left, right, top, bottom = 44, 8, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for _, v in bars if v is not None]
    top_value = max_value or _nice_ceiling(max([*values, 0]))
    slot = plot_w / max(len(bars), 1)
    bar_w = max(slot * 0.6, 1)
    label_every = max(1, -(-len(bars) // 12))  # at most 12 labels along the bottom, so none overlap

    def y(value: float) -> float:
        return top + plot_h - plot_h * min(value, top_value) / top_value

    parts: list[str] = [
        format_html(
            '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" '
            'width="{}" height="{}" role="img" '
            'aria-labelledby="{}-title {}-desc" font-family="sans-serif" font-size="11">'
            '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
            width,
            height,
            width,
            height,
            chart_id,
            chart_id,
            chart_id,
            title,
            chart_id,
            description,
        )
    ]
    # Axis: zero, half and top, with light grid lines.
    for tick in (0, top_value / 2, top_value):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#dddddd"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                left,
                width - right,
                f"{y(tick):.1f}",
                f"{y(tick):.1f}",
                left - 4,
                f"{y(tick) + 4:.1f}",
                AXIS_COLOUR,
                _number(round(tick, 1), unit),
            )
        )
    for i, (label, value) in enumerate(bars):
        x = left + slot * i + (slot - bar_w) / 2
        centre = f"{left + slot * i + slot / 2:.1f}"
        if value is None:
            shown = "no data"
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">–</text>',
                    centre,
                    f"{y(0) - 4:.1f}",
                    AXIS_COLOUR,
                )
            )
        else:
            shown = _number(value, unit)
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}">'
                    "<title>{}: {}</title></rect>"
                    '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                    f"{x:.1f}",
                    f"{y(value):.1f}",
                    f"{bar_w:.1f}",
                    f"{y(0) - y(value):.1f}",
                    BAR_COLOUR,
                    label,
                    shown,
                    centre,
                    f"{y(value) - 3:.1f}",
                    TEXT_COLOUR,
                    shown,
                )
            )
        if i % label_every:
            continue
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                centre,
                height - bottom + 14,
                TEXT_COLOUR,
                label,
            )
        )
    parts.append(
        format_html(
            '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="{}"/>',
            left,
            width - right,
            f"{y(0):.1f}",
            f"{y(0):.1f}",
            AXIS_COLOUR,
        )
    )
    # Every part was built by format_html, so joining them escapes nothing twice.
    return format_html("{}</svg>", format_html_join("", "{}", ((part,) for part in parts)))
