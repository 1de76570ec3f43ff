"""The staff pages' histograms of engagement: how many participants are in each 10% band, as SVG
built in Python (a course page shows a page of groups, each with its chart; the template language
took most of the page's time building them). Only a group's name is text from people (escaped)."""

from __future__ import annotations

from typing import Any

from django.utils.html import escape
from django.utils.safestring import mark_safe


def histogram_bars(counts: list[int]) -> list[dict[str, Any]]:
    """SVG geometry of a 10-band histogram: 10 bars 30px wide, up to 120px high."""
    tallest = max(counts) or 1
    return [
        {
            "x": 40 + i * 32,
            "height": round(120 * n / tallest),
            "y": 140 - round(120 * n / tallest),
            "count": n,
            "label": f"{i * 10}–{i * 10 + 10}%",
            "start": i * 10,
        }
        for i, n in enumerate(counts)
    ]


def histogram_svg(name: str, bars: list[dict[str, Any]]) -> str:
    """The histogram as SVG, built here rather than in the template: a course has a chart for each
    of its (up to hundreds of) groups, and the template language took most of the page's time.
    Only the group's name is text from people (escaped); the rest are numbers computed here."""
    shapes = []
    for i, b in enumerate(bars):
        fill = "#00703c" if i >= 9 else "#1d70b8"
        shapes.append(
            f'<rect x="{b["x"]}" y="{b["y"]}" width="28" height="{b["height"]}" fill="{fill}">'
            f"<title>{b['label']}: {b['count']}</title></rect>"
        )
        if b["count"]:
            shapes.append(
                f'<text x="{b["x"] + 14}" y="{b["y"] - 3}" font-size="11" text-anchor="middle">{b["count"]}</text>'
            )
        shapes.append(
            f'<text x="{b["x"] + 14}" y="156" font-size="9" text-anchor="middle">{b["start"]}</text>'
        )
    return mark_safe(  # noqa: S308 - numbers only, and the name escaped
        f'<svg role="img" aria-label="Number of participants of {escape(name)} in each 10% band of '
        'engagement" width="100%" viewBox="0 0 380 180" xmlns="http://www.w3.org/2000/svg">'
        '<line x1="36" y1="140" x2="364" y2="140" stroke="#0b0c0c"/>'
        '<line x1="328" y1="10" x2="328" y2="150" stroke="#d4351c" stroke-dasharray="4 3"/>'
        '<text x="324" y="20" font-size="11" fill="#d4351c" text-anchor="end">90%</text>'
        + "".join(shapes)
        + '<text x="200" y="174" font-size="11" text-anchor="middle">engagement (%)</text></svg>'
    )
