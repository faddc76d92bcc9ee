"""Chart geometry of a model's realised performance (``andon.performance``): a metric per
partition of its performance pipeline (oldest left), a vertical line where the serving version
changed (a promotion or a rollback took effect between two partitions), and the threshold as a
horizontal line with the points past it marked. Numbers only; the templates draw the SVG."""

from __future__ import annotations

from dataclasses import dataclass

from andon.checks.scoring import below


@dataclass(frozen=True, slots=True)
class PartitionDot:
    """A partition's value: where, and whether it is past the threshold (``low``)."""

    x: float
    y: float
    partition: str
    value: float
    version: int
    low: bool
    title: str


@dataclass(frozen=True, slots=True)
class VersionChange:
    """The first partition scored by another version than the one before it."""

    x: float
    version: int
    title: str


@dataclass(frozen=True, slots=True)
class PartitionChart:
    """A realised metric over partitions: its line, dots and version changes, the threshold's y
    (None: no threshold) and label, the lowest and highest value shown, the first and last
    partition, and the y of the plot's top and bottom."""

    metric: str
    width: int
    height: int
    path: str
    dots: list[PartitionDot]
    changes: list[VersionChange]
    threshold_y: float | None
    threshold: str
    low: str
    high: str
    first: str
    last: str
    top: float
    bottom: float


def partition_chart(metric: str, points: list[tuple[str, float, int]],
                    threshold: float | None = None, width: int = 360,
                    height: int = 110) -> PartitionChart:
    """Metric ``metric`` over ``points`` (partition, value, version serving), in partition
    order, with ``threshold`` (a floor, or a ceiling for an error metric) drawn across."""
    points = sorted(points)
    values = [v for _, v, _ in points] + ([threshold] if threshold is not None else [])
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if high == low:
        low, high = low - 1, high + 1
    left, right, top, bottom = 36.0, width - 10.0, 8.0, height - 22.0
    n = len(points)

    def x(i: int) -> float:
        return round((left + right) / 2 if n <= 1 else left + i / (n - 1) * (right - left), 1)

    def y(v: float) -> float:
        return round(top + (high - v) / (high - low) * (bottom - top), 1)

    dots, changes = [], []
    for i, (key, value, version) in enumerate(points):
        past = threshold is not None and below(metric, value, threshold)
        dots.append(PartitionDot(x(i), y(value), key, value, version, past,
                                 f"{key}: {metric} {_num(value)} (version "
                                 f"{version or 'none'} serving)"
                                 + (f", past the threshold {_num(threshold)}"
                                    if past and threshold is not None else "")))
        if i and version != points[i - 1][2]:
            changes.append(VersionChange(x(i), version, f"version {version or 'none'} serving "
                                         f"from {key} (was {points[i - 1][2] or 'none'})"))
    path = " ".join(f"{'M' if i == 0 else 'L'}{d.x},{d.y}" for i, d in enumerate(dots))
    return PartitionChart(metric, width, height, path, dots, changes,
                          None if threshold is None else y(threshold),
                          "" if threshold is None else _num(threshold), _num(low), _num(high),
                          points[0][0] if points else "", points[-1][0] if points else "",
                          top, bottom)


def _num(v: float) -> str:
    return f"{v:.4g}"
