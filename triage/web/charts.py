"""Charts drawn on the server as SVG: pure functions turning figures into shapes the templates draw.

The app runs no script and its CSP refuses style attributes, so a chart is plain geometry (SVG
attributes) plus CSS class names whose colours live in app.css. Colour never carries the meaning
alone: every chart has a legend or named bars, a <title> on each bar, totals written above the
bars, and its figures as a table beside it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 28, 56  # the margins around the plot, for tick labels and the axis name
MOST_X_LABELS = 13  # more categories than this and only every n-th is labelled, so labels never overlap
MOST_VALUE_LABELS = 26
HEAT_SHADES = 4

Format = Callable[[float], str]


@dataclass(frozen=True)
class Series:
    """One set of values across the categories, drawn in one colour and named in the legend."""

    name: str
    css_class: str
    values: tuple[float, ...]


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    css_class: str
    title: str  # what the bar shows, in words (a tooltip, and read by screen readers)


@dataclass(frozen=True)
class Tick:
    at: float  # x for category labels, y for value lines
    label: str


@dataclass(frozen=True)
class TextLabel:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Key:
    name: str
    css_class: str


@dataclass(frozen=True)
class Table:
    """The chart's figures for people who cannot see it: the first column names each row."""

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    unit: str  # names the value axis
    bars: tuple[Bar, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    value_labels: tuple[TextLabel, ...]
    legend: tuple[Key, ...]
    table: Table
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def left(self) -> int:
        return LEFT

    @property
    def right(self) -> int:
        return self.width - RIGHT

    @property
    def top(self) -> int:
        return TOP

    @property
    def bottom(self) -> int:
        return self.height - BOTTOM


@dataclass(frozen=True)
class HeatCell:
    count: int
    shade: int  # 0 for none, up to HEAT_SHADES for the largest count (a CSS class)
    diagonal: bool  # the row and the column name the same thing


@dataclass(frozen=True)
class HeatTable:
    """A table of counts shaded by size, with every count written in its cell."""

    title: str
    row_header: str
    column_header: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    cells: tuple[tuple[HeatCell, ...], ...]


def stacked_bars(title: str, description: str, category_name: str, categories: Sequence[str],
                 series: Sequence[Series], unit: str, fmt: Format = lambda v: f"{v:g}") -> BarChart:
    """One bar per category, made of one segment per series (bottom to top in series order),
    its total written above it."""
    totals = [sum(s.values[n] for s in series) for n in range(len(categories))]
    scale = _Scale(max(totals, default=0), whole=True)
    slots = _Slots(len(categories))
    bars: list[Bar] = []
    for n, category in enumerate(categories):
        base = 0.0
        for s in series:
            value = s.values[n]
            if value > 0:
                bars.append(Bar(slots.bar_x(n), scale.y(base + value), slots.bar_width,
                                _round(scale.y(base) - scale.y(base + value)), s.css_class,
                                f"{s.name}, {category}: {fmt(value)}"))
            base += value
    return BarChart(
        title=title, description=description, unit=unit, bars=tuple(bars),
        x_ticks=slots.ticks(categories), y_ticks=scale.ticks(fmt),
        value_labels=_value_labels(slots, scale, totals, [fmt(t) for t in totals]),
        legend=tuple(Key(s.name, s.css_class) for s in series),
        table=Table((category_name, *(s.name for s in series), "Total"),
                    tuple((c, *(fmt(s.values[n]) for s in series), fmt(totals[n])) for n, c in enumerate(categories))),
    )


def bars(title: str, description: str, category_name: str, categories: Sequence[str],
         values: Sequence[float | None], css_classes: Sequence[str], unit: str, fmt: Format,
         details: Sequence[str] = (), details_name: str = "", top: float | None = None) -> BarChart:
    """One bar per category (None draws no bar and says "none"), each in its own colour and named
    below it; `details` adds a column to the table (what each figure is based on)."""
    known = [v for v in values if v is not None]
    scale = _Scale(max([*known, top or 0], default=0), whole=top is None and all(float(v).is_integer() for v in known))
    slots = _Slots(len(categories))
    drawn = [Bar(slots.bar_x(n), scale.y(v), slots.bar_width, _round(scale.y(0) - scale.y(v)), css_classes[n],
                 f"{category}: {fmt(v)}")
             for n, (category, v) in enumerate(zip(categories, values)) if v is not None and v > 0]
    shown = [fmt(v) if v is not None else "none" for v in values]
    headers = (category_name, unit.capitalize(), *((details_name,) if details else ()))
    rows = tuple((c, shown[n], *((details[n],) if details else ())) for n, c in enumerate(categories))
    return BarChart(
        title=title, description=description, unit=unit, bars=tuple(drawn), x_ticks=slots.ticks(categories),
        y_ticks=scale.ticks(fmt), value_labels=_value_labels(slots, scale, [v or 0 for v in values], shown),
        legend=(), table=Table(headers, rows),
    )


def heat_table(title: str, row_header: str, column_header: str, rows: Sequence[str], columns: Sequence[str],
               counts: Mapping[str, Mapping[str, int]]) -> HeatTable:
    """Counts by row and column, each cell shaded in proportion to the largest count."""
    largest = max((counts.get(r, {}).get(c, 0) for r in rows for c in columns), default=0)

    def cell(row: str, column: str) -> HeatCell:
        count = counts.get(row, {}).get(column, 0)
        shade = math.ceil(HEAT_SHADES * count / largest) if count and largest else 0
        return HeatCell(count, shade, row == column)

    return HeatTable(title, row_header, column_header, tuple(rows), tuple(columns),
                     tuple(tuple(cell(r, c) for c in columns) for r in rows))


class _Scale:
    """The value axis: from zero to a round number at or above the largest value."""

    def __init__(self, largest: float, whole: bool, steps: int = 4) -> None:
        if whole:  # small counts still get an axis of `steps` lines, rather than one tall bar
            largest = max(largest, steps)
        self.step = _nice_step(largest / steps if largest > 0 else 1, whole)
        self.top = self.step * max(1, math.ceil(largest / self.step))

    def y(self, value: float) -> float:
        return _round(TOP + (HEIGHT - BOTTOM - TOP) * (1 - value / self.top))

    def ticks(self, fmt: Format) -> tuple[Tick, ...]:
        count = round(self.top / self.step)
        return tuple(Tick(self.y(n * self.step), fmt(n * self.step)) for n in range(count + 1))


class _Slots:
    """The category axis: equal slots across the plot, a bar centred in each."""

    def __init__(self, count: int) -> None:
        self.count = max(1, count)
        self.width = (WIDTH - RIGHT - LEFT) / self.count
        self.bar_width = _round(self.width * 0.7)

    def centre(self, n: int) -> float:
        return _round(LEFT + self.width * (n + 0.5))

    def bar_x(self, n: int) -> float:
        return _round(self.centre(n) - self.bar_width / 2)

    def ticks(self, categories: Sequence[str]) -> tuple[Tick, ...]:
        every = math.ceil(len(categories) / MOST_X_LABELS) or 1
        return tuple(Tick(self.centre(n), c) for n, c in enumerate(categories) if n % every == 0)


def _value_labels(slots: _Slots, scale: _Scale, values: Sequence[float], texts: Sequence[str]) -> tuple[TextLabel, ...]:
    if len(values) > MOST_VALUE_LABELS:
        return ()
    return tuple(TextLabel(slots.centre(n), _round(scale.y(v) - 6), text) for n, (v, text) in enumerate(zip(values, texts)))


def _nice_step(rough: float, whole: bool) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten at or above `rough` (for counts: a whole
    number, at least 1)."""
    power = 10 ** math.floor(math.log10(rough))
    multiples = (1, 2, 5, 10) if whole else (1, 2, 2.5, 5, 10)
    step = next(m * power for m in multiples if m * power >= rough)
    return max(1, math.ceil(step)) if whole else step


def _round(value: float) -> float:
    return round(value, 1)
