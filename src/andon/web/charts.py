"""Chart geometry for the board: a time axis, step lines (pool use, queue), a Gantt of
deliveries and a line per check measurement. Numbers only; the templates draw the SVG (and
escape every label)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

WIDTH = 1180  # drawn at this width, scaled down by the page when it is narrower
LABEL = 190  # room for the row labels of the Gantt
ROW = 26


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

    def ticks(self, most: int = 12) -> list[dict[str, Any]]:
        hours = (self.end - self.start).total_seconds() / 3600
        step = next(s for s in (1, 2, 3, 4, 6, 12, 24, 48, 168) if hours / s <= most)
        tick = self.start.replace(minute=0, second=0, microsecond=0)
        while tick.hour % step and step < 24:
            tick += timedelta(hours=1)
        out = []
        while tick <= self.end:
            if tick >= self.start:
                label = tick.strftime("%m-%d") if tick.hour == 0 else tick.strftime("%H:%M")
                x = self.x(tick)
                anchor = "end" if x > self.right - 20 else "start" if x < self.left + 20 else \
                    "middle"
                out.append({"x": x, "label": label, "anchor": anchor})
            tick += timedelta(hours=step)
        return out


def step_chart(points: list[tuple[datetime, int]], start: datetime, end: datetime,
               capacity: int | None = None, height: int = 110) -> dict[str, Any]:
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
    return {"width": WIDTH, "height": height, "path": " ".join(path), "ticks": axis.ticks(),
            "base": y(0), "top": top, "y_top": y(top),
            "capacity_y": y(capacity) if capacity is not None else None,
            "label_y": height - 6}


def gantt(items: list[dict[str, Any]], day: datetime, end: datetime, now: datetime
          ) -> dict[str, Any]:
    """Rows of planned and actual bars with the due time and now, over the day (widened to show
    every bar)."""
    moments = [m for i in items for m in (i["start_t"], i["finish_t"], i["actual_start"],
                                          i["actual_end"], i["due_t"]) if m is not None]
    start = min([day, *moments]) if moments else day
    stop = max([end, *moments]) if moments else end
    if stop - start > timedelta(days=3):  # something planned far away: keep the day readable
        start, stop = max(start, day - timedelta(days=1)), min(stop, end + timedelta(days=1))
    axis = TimeAxis(start, stop, LABEL, WIDTH - 10)
    rows = []
    for n, i in enumerate(items):
        top = 22 + n * ROW
        planned = None
        if i["start_t"] and i["finish_t"]:
            planned = {"x": axis.x(i["start_t"]),
                       "w": max(axis.x(i["finish_t"]) - axis.x(i["start_t"]), 2)}
        actual = None
        if i["actual_start"]:
            actual = {"x": axis.x(i["actual_start"]),
                      "w": max(axis.x(i["actual_end"]) - axis.x(i["actual_start"]), 2)}
        rows.append({**i, "y": top, "planned": planned, "actual": actual,
                     "due_x": axis.x(i["due_t"])})
    return {"width": WIDTH, "height": 30 + len(items) * ROW, "rows": rows,
            "ticks": axis.ticks(), "now_x": axis.x(now) if start <= now <= stop else None,
            "label_w": LABEL}


def series_chart(points: list[tuple[str, float, bool]], height: int = 90) -> dict[str, Any]:
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

    dots = [{"x": x(i), "y": y(v), "key": k, "value": v, "passed": ok}
            for i, (k, v, ok) in enumerate(points)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{d['x']},{d['y']}" for i, d in enumerate(dots))
    return {"width": width, "height": height, "path": path, "dots": dots,
            "low": _num(low), "high": _num(high), "first": points[0][0], "last": points[-1][0]}


def _num(v: float) -> str:
    return f"{v:.4g}"
