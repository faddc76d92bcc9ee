"""Chart geometry for the board: a time axis, step lines (pool use, queue), a Gantt of
deliveries and a line per check measurement, each a small frozen record. Numbers only; the
templates draw the SVG (and escape every label)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from andon.model.timefmt import tick_label

if TYPE_CHECKING:
    from andon.web.pageviews import Delivery, PathStep

WIDTH = 1180  # drawn at this width, scaled down by the page when it is narrower
LABEL = 190  # room for the row labels of the Gantt
ROW = 28  # a deliverable: first plan, prediction and actual run
SUB = 15  # a step of its critical path
GAP = 6  # between deliverables
MIN_SPAN = timedelta(hours=4)  # the Gantt's time axis at least


@dataclass(frozen=True, slots=True)
class Tick:
    """A tick of a time axis: where, its label and how the label is anchored (start, middle,
    end: kept inside the chart)."""

    x: float
    label: str
    anchor: str


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar from ``x``, ``w`` wide."""

    x: float
    w: float


@dataclass(frozen=True, slots=True)
class StepChart:
    """A level over time as a step line: its SVG ``path``, the axis's ticks, the y of the
    baseline, of the top value ``top`` and of the capacity (None: no capacity line), and of
    the tick labels."""

    width: int
    height: int
    path: str
    ticks: list[Tick]
    base: float
    top: int
    y_top: float
    capacity_y: float | None
    label_y: int


@dataclass(frozen=True, slots=True)
class GanttStep:
    """A step of a deliverable's critical path as a thin row: its bar (a run's), the x of its
    finish (a source's arrival, drawn as a diamond) and of its latest finish."""

    step: PathStep
    y: int
    label: str
    bar: Bar | None
    at_x: float | None
    latest_x: float | None


@dataclass(frozen=True, slots=True)
class GanttRow:
    """A deliverable as a row: the plan as first made, the current prediction when it moved,
    the actual run, the due time, and a row per upstream step of its critical path."""

    item: Delivery
    y: int
    label: str
    first: Bar | None
    planned: Bar | None
    actual: Bar | None
    due_x: float
    steps: list[GanttStep]


@dataclass(frozen=True, slots=True)
class Gantt:
    """The rows of the deliveries' Gantt over its time axis, and the x of now (None: off the
    axis)."""

    width: int
    height: int
    rows: list[GanttRow]
    ticks: list[Tick]
    now_x: float | None
    label_w: int


@dataclass(frozen=True, slots=True)
class Dot:
    """A partition's value of a check's measurement, and whether the check passed."""

    x: float
    y: float
    key: str
    value: float
    passed: bool


@dataclass(frozen=True, slots=True)
class SeriesChart:
    """A measurement of a check over partitions: its line, its dots, the lowest and highest
    value (as labels) and the first and last partition."""

    width: int
    height: int
    path: str
    dots: list[Dot]
    low: str
    high: str
    first: str
    last: str


class TimeAxis:
    """Maps moments in [start, end] onto [left, right] pixels, with hourly ticks."""

    def __init__(self, start: datetime, end: datetime, left: float, right: float) -> None:
        self.start, self.end = start, max(end, start + timedelta(minutes=1))
        self.left, self.right = left, right

    def x(self, moment: datetime | None) -> float:
        if moment is None:
            return self.left
        span = (self.end - self.start).total_seconds()
        frac = (moment - self.start).total_seconds() / span
        return round(self.left + min(max(frac, 0.0), 1.0) * (self.right - self.left), 1)

    def ticks(self, most: int = 12) -> list[Tick]:
        hours = (self.end - self.start).total_seconds() / 3600
        step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 48, 168) if hours / s <= most)
        tick = self.start.replace(minute=0, second=0, microsecond=0)
        while tick.hour % step and step < 24:
            tick += timedelta(hours=1)
        out = []
        while tick <= self.end:
            if tick >= self.start:
                label = tick_label(tick)
                x = self.x(tick)
                anchor = "end" if x > self.right - 20 else "start" if x < self.left + 20 else \
                    "middle"
                out.append(Tick(x, label, anchor))
            tick += timedelta(hours=step)
        return out


def step_chart(points: list[tuple[datetime, int]], start: datetime, end: datetime,
               capacity: int | None = None, height: int = 110) -> StepChart:
    """A step line of a level over time (pool slots in use, runs queued), with a capacity line."""
    axis = TimeAxis(start, end, 36, WIDTH - 8)
    top = max([capacity or 0, *(v for _, v in points), 1])
    plot_h = height - 28

    def y(v: float) -> float:
        return round(6 + plot_h - v / top * plot_h, 1)

    path = []
    level = 0
    for i, (moment, value) in enumerate(points):
        x = axis.x(moment)
        path.append(f"{'M' if i == 0 else 'L'}{x},{y(level if i else value)}")
        path.append(f"L{x},{y(value)}")
        level = value
    path.append(f"L{axis.x(end)},{y(level)}")
    return StepChart(WIDTH, height, " ".join(path), axis.ticks(), y(0), top, y(top),
                     y(capacity) if capacity is not None else None, height - 6)


def gantt(items: list[Delivery], day: datetime, end: datetime, now: datetime) -> Gantt:
    """Rows of bars over the stretch of time they cover: per deliverable the plan as first made,
    the current prediction when it moved, the actual run and the due time; under it a thin row
    per upstream step of its critical path (a bar per run, a diamond per source arrival, a tick
    at the step's latest finish)."""
    moments = [m for i in items
               for m in (i.start_t, i.finish_t, i.first_start_t, i.first_finish_t,
                         i.actual_start, i.actual_end, i.due_t,
                         *(t for s in i.path for t in (s.start_t, s.finish_t, s.latest_t)))
               if m is not None]
    start, stop = _window([*moments, now], day, end)
    axis = TimeAxis(start, stop, LABEL, WIDTH - 10)
    rows = []
    y = 22
    for i in items:
        top = y
        y += ROW
        steps = []
        for s in i.path[:-1]:  # the last step is the deliverable itself
            steps.append(GanttStep(s, y, f"{s.name} {short_key(s.partition)}",
                                   _bar(axis, s.start_t, s.finish_t) if s.kind == "run" else None,
                                   axis.x(s.finish_t) if s.finish_t else None,
                                   axis.x(s.latest_t) if s.latest_t else None))
            y += SUB
        y += GAP
        rows.append(GanttRow(i, top, f"{i.pipeline} {short_key(i.partition)}",
                             _bar(axis, i.first_start_t, i.first_finish_t),
                             _bar(axis, i.start_t, i.finish_t) if i.moved else None,
                             _bar(axis, i.actual_start, i.actual_end), axis.x(i.due_t), steps))
    return Gantt(WIDTH, y + 8, rows, axis.ticks(),
                 axis.x(now) if start <= now <= stop else None, LABEL)


def _window(moments: list[datetime], day: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The stretch of time the Gantt shows: what it draws (and now), on whole hours, at least
    ``MIN_SPAN`` long, and no more than a day either side of today (something planned far
    away must not squeeze the day into a few pixels)."""
    first = max(min(moments), day - timedelta(days=1))
    last = min(max(moments), end + timedelta(days=1))
    start = first.replace(minute=0, second=0, microsecond=0)
    stop = last.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    short = MIN_SPAN - (stop - start)
    if short > timedelta(0):  # widen around the middle, on whole hours
        before = timedelta(hours=short // timedelta(hours=1) // 2)
        start, stop = start - before, start - before + MIN_SPAN
    return start, stop


def _bar(axis: TimeAxis, start: datetime | None, finish: datetime | None) -> Bar | None:
    if start is None or finish is None:
        return None
    return Bar(axis.x(start), round(max(axis.x(finish) - axis.x(start), 2), 1))


def short_key(key: str) -> str:
    """A partition key for a narrow label: a date's year left out (``01-05``, ``01-05T03``)."""
    return key[5:] if len(key) > 5 and key[:4].isdigit() and key[4] == "-" else key


def series_chart(points: list[tuple[str, float, bool]], height: int = 90) -> SeriesChart:
    """A measurement of a check over partitions: a line with a dot per partition (failed dots
    marked)."""
    width = 360
    values = [v for _, v, _ in points]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    n = len(points)

    def x(i: int) -> float:
        return round(30 + (i / max(n - 1, 1)) * (width - 40), 1)

    def y(v: float) -> float:
        return round(8 + (high - v) / (high - low) * (height - 30), 1)

    dots = [Dot(x(i), y(v), k, v, ok) for i, (k, v, ok) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{d.x},{d.y}" for i, d in enumerate(dots))
    return SeriesChart(width, height, path, dots, _num(low), _num(high), points[0][0],
                       points[-1][0])


def _num(v: float) -> str:
    return f"{v:.4g}"


@dataclass(frozen=True, slots=True)
class VersionDot:
    """A model version's value of a metric, whether that version serves, and its title."""

    x: float
    y: float
    version: int
    value: float
    serving: bool
    title: str


@dataclass(frozen=True, slots=True)
class Marker:
    """A promotion as a vertical line at the version it put into service (a rollback is drawn
    apart), with its title: the version, by whom and why."""

    x: float
    version: int
    rollback: bool
    title: str


@dataclass(frozen=True, slots=True)
class VersionChart:
    """A metric over a model's versions (oldest left): its line, a dot per version that logged
    it, a marker per promotion, the lowest and highest value (as labels), the first and last
    version of the axis, and the y of the plot's top and bottom (the markers' ends)."""

    metric: str
    width: int
    height: int
    path: str
    dots: list[VersionDot]
    markers: list[Marker]
    low: str
    high: str
    first: int
    last: int
    top: float
    bottom: float


def version_chart(metric: str, points: list[tuple[int, float]], span: tuple[int, int],
                  serving: int = 0, promotions: list[tuple[int, bool, str, str]] | None = None,
                  width: int = 360, height: int = 110) -> VersionChart:
    """Metric ``metric`` over the versions ``span`` (first, last; every chart of a model shares
    it): a dot per (version, value) of ``points`` (in any order; a version that did not log
    the metric has none), joined oldest to newest, the ``serving`` version's dot marked, and a
    marker per promotion (version, rollback, by, reason) inside the span. A single version sits
    in the middle; equal values in the middle band."""
    first, last = span
    points = sorted(points)
    values = [v for _, v in points] or [0.0]
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 1, high + 1
    left, right, top, bottom = 36.0, width - 10.0, 8.0, height - 22.0

    def x(version: int) -> float:
        if last == first:
            return round((left + right) / 2, 1)
        return round(left + (version - first) / (last - first) * (right - left), 1)

    def y(v: float) -> float:
        return round(top + (high - v) / (high - low) * (bottom - top), 1)

    dots = [VersionDot(x(n), y(v), n, v, n == serving,
                       f"version {n}: {metric} {_num(v)}" + (" (serving)" if n == serving else ""))
            for n, v in points]
    path = " ".join(f"{'M' if i == 0 else 'L'}{d.x},{d.y}" for i, d in enumerate(dots))
    markers = [Marker(x(n), n, back,
                      f"{'rolled back to' if back else 'promoted'} version {n} by {by or '-'}"
                      + (f": {reason}" if reason else ""))
               for n, back, by, reason in promotions or [] if first <= n <= last]
    return VersionChart(metric, width, height, path, dots, markers, _num(low), _num(high),
                        first, last, top, bottom)
