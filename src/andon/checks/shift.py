"""Distribution shift of one numeric column against the previous partitions (pure statistics).

Two measures, both cheap and explainable: the z-score of this partition's mean among the previous
partitions' means, and the population stability index (PSI) of this partition's values in bins
cut at the deciles of the previous partitions' values (0.1: a slight shift, 0.2 and up: a real one).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from andon.checks.context import CheckResult
from andon.checks.tables import number

SHIFT_METHODS = {"zscore": 3.0, "psi": 0.2}  # method -> default threshold
PSI_BINS = 10
PSI_FLOOR = 1e-4  # an empty bin counts as this fraction, so the logarithm stays finite


def _numbers(values: Sequence[Any]) -> list[float]:
    return [x for x in map(number, values) if x is not None]


def mean_std(xs: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (0 for fewer than two values)."""
    mean = sum(xs) / len(xs)
    if len(xs) < 2:
        return mean, 0.0
    return mean, math.sqrt(sum((x - mean) ** 2 for x in xs) / (len(xs) - 1))


def zscore(current: Sequence[float], history: Sequence[Sequence[float]]) -> dict[str, float]:
    """How many standard deviations this partition's mean lies from the previous means."""
    means = [sum(h) / len(h) for h in history]
    base, spread = mean_std(means)
    mean = sum(current) / len(current)
    # identical previous means: any change is a shift, but the number must stay finite
    spread = max(spread, 1e-9 * max(abs(base), 1.0))
    return {"mean": mean, "baseline_mean": base, "baseline_std": spread,
            "z": (mean - base) / spread}


def psi(current: Sequence[float], baseline: Sequence[float], bins: int = PSI_BINS) -> float:
    """Population stability index of ``current`` against ``baseline``."""
    ordered = sorted(baseline)
    cuts = sorted({ordered[min(int(len(ordered) * i / bins), len(ordered) - 1)]
                   for i in range(1, bins)})

    def shares(xs: Sequence[float]) -> list[float]:
        counts = [0] * (len(cuts) + 1)
        for x in xs:
            counts[bisect_right(cuts, x)] += 1
        return [max(c / len(xs), PSI_FLOOR) for c in counts]

    expected, actual = shares(baseline), shares(current)
    return sum((a - e) * math.log(a / e) for a, e in zip(actual, expected))


def shift_of(column: str, current: Sequence[Any], history: Sequence[Sequence[Any]], method: str,
             threshold: float, min_history: int = 3) -> CheckResult:
    """Compare ``current`` values of ``column`` with ``history`` (earlier partitions' values)."""
    now = _numbers(current)
    past = [h for h in (_numbers(values) for values in history) if h]
    if not now:
        return CheckResult(False, {"history": len(past)}, f"{column} has no numeric values")
    if len(past) < max(min_history, 2 if method == "zscore" else 1):
        return CheckResult(True, {"history": len(past)},
                           f"not enough history for a shift check on {column} "
                           f"({len(past)} earlier partition(s), need {min_history})")
    if method == "zscore":
        numbers = zscore(now, past)
        ok = abs(numbers["z"]) <= threshold
        message = (f"{column} mean {numbers['mean']:.4g} is {numbers['z']:+.2f} standard deviations "
                   f"from the previous {len(past)} partitions' ({numbers['baseline_mean']:.4g})")
    else:
        value = psi(now, [x for h in past for x in h])
        numbers = {"psi": value}
        ok = value <= threshold
        message = f"{column} PSI {value:.3f} against the previous {len(past)} partitions"
    numbers.update(history=len(past), threshold=threshold)
    return CheckResult(ok, numbers, message + ("" if ok else f" (above {threshold:g})"))
