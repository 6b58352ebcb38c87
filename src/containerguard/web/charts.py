"""Server-rendered SVG charts: lines over days, horizontal bars, and columns per day.

Every text that reaches the SVG (titles, labels, tactic names from rules) is escaped here and the
result is :class:`markupsafe.Markup`, so templates print it without ``|safe``. Colours come from CSS
classes (``s-critical``…), so there is no inline style (the Content-Security-Policy forbids it).
Each chart is ``role="img"`` with a ``<title>`` and a ``<desc>``; pages put the numbers in a table
beside it as the text alternative.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 480
HEIGHT = 210
_LEFT, _RIGHT, _TOP, _BOTTOM = 46, 10, 30, 24


@dataclass(frozen=True)
class Series:
    """One line: its name (legend), CSS class suffix, and one value per label (None: no data)."""

    name: str
    css: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Bar:
    """One bar: label, CSS class suffix and value."""

    label: str
    css: str
    value: int


def nice_max(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times 10^k at or above ``value`` (1 for nothing)."""
    if value <= 0:
        return 1.0
    step = 10.0 ** math.floor(math.log10(value))
    return next(float(m * step) for m in (1, 2, 2.5, 5, 10) if m * step >= value)


def compact(value: float, percent: bool = False) -> str:
    """``12``, ``2.5``, ``340k``, ``1.2M`` (``80%`` for percentages)."""
    if percent:
        return f"{value:.0f}%"
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if abs(value) >= size:
            shown = value / size
            return f"{shown:.1f}{unit}".replace(".0" + unit, unit)
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


def _open(ident: str, title: str, desc: str, height: int) -> list[str]:
    i = escape(ident)
    return [f'<svg class="chart-svg" viewBox="0 0 {WIDTH} {height}" role="img" '
            f'aria-labelledby="{i}-t {i}-d" xmlns="http://www.w3.org/2000/svg">',
            f'<title id="{i}-t">{escape(title)}</title>', f'<desc id="{i}-d">{escape(desc)}</desc>']


def _legend(series: Sequence[Series]) -> list[str]:
    parts, x = [], _LEFT
    for s in series:
        parts.append(f'<rect class="key s-{escape(s.css)}" x="{x}" y="6" width="12" height="12" rx="2"/>'
                     f'<text x="{x + 16}" y="16">{escape(s.name)}</text>')
        x += 24 + 7 * len(s.name)
    return parts


def _y_axis(top: float, plot_h: float, ceiling: float, percent: bool) -> list[str]:
    parts = []
    for k in range(5):
        value = ceiling * k / 4
        y = top + plot_h * (1 - k / 4)
        parts.append(f'<line class="gridline" x1="{_LEFT}" x2="{WIDTH - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f'{escape(compact(value, percent))}</text>')
    return parts


def _x_labels(labels: Sequence[str], xs: Sequence[float], height: int) -> list[str]:
    if not labels:
        return []
    shown = sorted({0, len(labels) // 2, len(labels) - 1})
    anchors = {0: "start", len(labels) - 1: "end"}
    return [f'<text class="axis" x="{xs[i]:.1f}" y="{height - 6}" text-anchor="{anchors.get(i, "middle")}">'
            f'{escape(labels[i])}</text>' for i in shown]


def line_chart(ident: str, title: str, labels: Sequence[str], series: Sequence[Series], *, percent: bool = False,
               area: bool = False, desc: str = "", height: int = HEIGHT) -> Markup:
    """Lines over ``labels`` (days), one per series; ``area`` fills under the first; ``percent``
    fixes the scale at 0 to 100 %."""
    known = [v for s in series for v in s.values if v is not None]
    ceiling = 100.0 if percent else nice_max(max(known, default=0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    step = plot_w / max(1, len(labels) - 1)
    xs = [_LEFT + i * step for i in range(len(labels))]

    def y(value: float) -> float:
        return _TOP + plot_h * (1 - min(value, ceiling) / ceiling)

    parts = _open(ident, title, desc or title, height) + _legend(series) + _y_axis(_TOP, plot_h, ceiling, percent)
    for n, s in enumerate(series):
        runs: list[list[tuple[float, float]]] = [[]]
        for x, v in zip(xs, s.values, strict=False):
            if v is None:
                runs.append([])
            else:
                runs[-1].append((x, y(v)))
        for run in (r for r in runs if r):
            points = " ".join(f"{px:.1f},{py:.1f}" for px, py in run)
            if area and n == 0 and len(run) > 1:
                base = _TOP + plot_h
                parts.append(f'<polygon class="area s-{escape(s.css)}" '
                             f'points="{run[0][0]:.1f},{base:.1f} {points} {run[-1][0]:.1f},{base:.1f}"/>')
            if len(run) == 1:
                parts.append(f'<circle class="dot s-{escape(s.css)}" cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="3"/>')
            else:
                parts.append(f'<polyline class="line s-{escape(s.css)}" points="{points}"/>')
    parts += _x_labels(labels, xs, height)
    parts.append("</svg>")
    return Markup("".join(parts))


def column_chart(ident: str, title: str, labels: Sequence[str], values: Sequence[int], css: str = "accent", *,
                 desc: str = "", height: int = HEIGHT) -> Markup:
    """One column per label (e.g. alerts per day)."""
    ceiling = nice_max(max(values, default=0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, height - _TOP - _BOTTOM
    slot = plot_w / max(1, len(values))
    parts = _open(ident, title, desc or title, height) + _y_axis(_TOP, plot_h, ceiling, False)
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * min(value, ceiling) / ceiling
        parts.append(f'<rect class="bar s-{escape(css)}" x="{_LEFT + i * slot + slot * 0.15:.1f}" '
                     f'y="{_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}">'
                     f'<title>{escape(label)}: {value:,}</title></rect>')
    parts += _x_labels(labels, [_LEFT + (i + 0.5) * slot for i in range(len(labels))], height)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(ident: str, title: str, bars: Sequence[Bar], *, desc: str = "") -> Markup:
    """Horizontal bars with their label on the left and value on the right."""
    row, label_w, value_w = 24, 150, 56
    height = 10 + row * max(1, len(bars))
    ceiling = max((b.value for b in bars), default=0) or 1
    span = WIDTH - label_w - value_w
    parts = _open(ident, title, desc or title, height)
    for i, b in enumerate(bars):
        top = 6 + i * row
        w = span * b.value / ceiling
        label = b.label if len(b.label) <= 22 else b.label[:21] + "…"
        shown = max(w, 1.0 if b.value else 0.0)  # a non-zero count stays visible
        parts.append(f'<text x="{label_w - 8}" y="{top + 14}" text-anchor="end">{escape(label)}</text>'
                     f'<rect class="bar s-{escape(b.css)}" x="{label_w}" y="{top + 2}" width="{shown:.1f}" '
                     f'height="{row - 8}" rx="2"/>'
                     f'<text class="value" x="{label_w + w + 6:.1f}" y="{top + 14}">{b.value:,}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
