"""Charts as inline SVG, drawn by matplotlib (no JavaScript, no CDN: the page works offline
and the same SVG/PNG goes into the Prefect artifact). Each function takes plain numbers and
returns an ``<svg>`` element as text."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

COLORS = ("#2f6db5", "#e07b39", "#3a9a5b", "#b5443a", "#7b5bb5", "#8a8a8a")
STYLE: Any = {
    "svg.fonttype": "none",  # text stays text: selectable, small, the page's font
    "svg.hashsalt": "journeykit",  # stable ids: the same data draws the same SVG
    "font.family": "sans-serif",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    with mpl.rc_context(STYLE):
        figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def png(svg_figure: Figure) -> bytes:
    """The same figure as PNG bytes (for the Prefect artifact)."""
    buffer = io.BytesIO()
    svg_figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return buffer.getvalue()


def _x(days: Sequence[date]) -> Any:
    """Dates for an x axis (matplotlib converts them; its stubs want numbers)."""
    return list(days)


def _figure(width: float, height: float) -> Figure:
    with mpl.rc_context(STYLE):
        return Figure(figsize=(width, height), layout="constrained")


def funnel_figure(rows: Sequence[tuple[str, int, int, int]]) -> Figure:
    """rows: (node, entered, sent, converted), in journey order."""
    figure = _figure(7, 0.3 * max(3, len(rows)) + 0.8)
    with mpl.rc_context(STYLE):
        axes = figure.subplots()
        labels = [r[0] for r in rows]
        ys = list(range(len(rows)))
        height = 0.27
        for offset, index, name, color in (
            (-height, 1, "entered", COLORS[0]),
            (0.0, 2, "sent", COLORS[1]),
            (height, 3, "converted", COLORS[2]),
        ):
            axes.barh(
                [y + offset for y in ys], [r[index] for r in rows], height, label=name, color=color
            )
        axes.set_yticks(ys, labels)
        axes.invert_yaxis()
        axes.set_xlabel("enrollments / messages")
        axes.legend(loc="lower right", frameon=False)
        axes.set_title("Funnel per node", loc="left")
    return figure


def daily_figure(
    days: Sequence[date], conversions: Sequence[int], revenue: dict[str, Sequence[int]]
) -> Figure:
    """Conversions per day, and revenue per day in each currency (one panel each: amounts in
    different currencies are never added or drawn on one scale)."""
    panels = 1 + len(revenue)
    figure = _figure(7, 1.9 * panels)
    with mpl.rc_context(STYLE):
        axes = figure.subplots(panels, 1, sharex=True, squeeze=False)[:, 0]
        axes[0].bar(_x(days), list(conversions), color=COLORS[2], width=0.8)
        axes[0].set_ylabel("conversions")
        axes[0].set_title("Attributed conversions and revenue per day", loc="left")
        for index, (currency, cents) in enumerate(sorted(revenue.items()), start=1):
            axes[index].bar(_x(days), [c / 100 for c in cents], color=COLORS[index % 6], width=0.8)
            axes[index].set_ylabel(f"revenue ({currency})")
        figure.autofmt_xdate()
    return figure


def arms_figure(split: str, arms: Sequence[tuple[str, float, float, float, int]]) -> Figure:
    """arms: (name, rate, low, high, customers): the rate with its confidence interval."""
    figure = _figure(5, 0.45 * max(2, len(arms)) + 0.9)
    with mpl.rc_context(STYLE):
        axes = figure.subplots()
        ys = list(range(len(arms)))
        for y, (_, rate, low, high, _n) in zip(ys, arms, strict=True):
            axes.errorbar(
                [rate * 100],
                [y],
                xerr=[[(rate - low) * 100], [(high - rate) * 100]],
                fmt="o",
                capsize=4,
                color=COLORS[y % 6],
            )
        axes.set_yticks(ys, [f"{a[0]} (n={a[4]})" for a in arms])
        axes.set_ylim(-0.7, len(arms) - 0.3)
        axes.set_xlim(left=0)
        axes.set_xlabel("conversion (%) with confidence interval")
        axes.set_title(f"A/B arms: {split}", loc="left")
    return figure


def bars_figure(title: str, labels: Sequence[str], values: Sequence[float], unit: str) -> Figure:
    """Horizontal bars, largest first as given."""
    figure = _figure(7, 0.3 * max(3, len(labels)) + 0.8)
    with mpl.rc_context(STYLE):
        axes = figure.subplots()
        ys = list(range(len(labels)))
        axes.barh(ys, list(values), color=COLORS[0])
        axes.set_yticks(ys, list(labels))
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.set_title(title, loc="left")
    return figure


def series_figure(title: str, days: Sequence[date], series: dict[str, Sequence[int]]) -> Figure:
    """Counts per day, one line per series (a trend)."""
    figure = _figure(7, 2.4)
    with mpl.rc_context(STYLE):
        axes = figure.subplots()
        for index, (name, values) in enumerate(series.items()):
            axes.plot(_x(days), list(values), marker="o", label=name, color=COLORS[index % 6])
        axes.set_title(title, loc="left")
        axes.legend(frameon=False)
        figure.autofmt_xdate()
    return figure


def stacked_figure(title: str, labels: Sequence[str], stacks: dict[str, Sequence[int]]) -> Figure:
    """Horizontal stacked bars: one bar per label, one segment per stack name."""
    figure = _figure(7, 0.5 * max(2, len(labels)) + 0.9)
    with mpl.rc_context(STYLE):
        axes = figure.subplots()
        ys = list(range(len(labels)))
        left = [0] * len(labels)
        for index, (name, values) in enumerate(stacks.items()):
            axes.barh(ys, list(values), left=left, label=name, color=COLORS[(index + 2) % 6])
            left = [a + b for a, b in zip(left, values, strict=True)]
        axes.set_yticks(ys, list(labels))
        axes.invert_yaxis()
        axes.legend(frameon=False, loc="lower right")
        axes.set_title(title, loc="left")
    return figure


def svg(figure: Figure) -> str:
    return _svg(figure)
