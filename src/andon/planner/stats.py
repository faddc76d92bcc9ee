"""Run durations and source arrivals learned from history; declared values before there is any.

Recent observations weigh more (exponential decay); p50 and p90 come from the weighted sample.
"""

from __future__ import annotations

import random
from bisect import bisect_right
from collections import deque
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DURATION = 600.0  # seconds, when nothing is declared or observed
HISTORY = 50
DECAY = 0.9  # weight of an observation one step older


def _weighted_quantile(values: list[float], q: float) -> float:
    """Quantile of ``values`` (oldest first) where the newest weighs most."""
    n = len(values)
    pairs = sorted((v, DECAY ** (n - 1 - i)) for i, v in enumerate(values))
    total = sum(w for _, w in pairs)
    acc = 0.0
    for v, w in pairs:
        acc += w
        if acc >= q * total:
            return v
    return pairs[-1][0]


@dataclass
class Series:
    """A pipeline's (or source's) recent observations in seconds."""

    declared: float | None = None
    values: deque[float] = field(default_factory=lambda: deque(maxlen=HISTORY))
    _cache: tuple[float, float] | None = None
    _cum: list[float] | None = field(default=None, repr=False)  # the draws' cumulative weights

    def add(self, seconds: float) -> None:
        self.values.append(max(seconds, 0.0))
        self._cache = None
        self._cum = None

    def draw(self, rng: random.Random, above: float = -float("inf")) -> float | None:
        """One of the observations at random, the newest weighing most (the weights of the
        quantiles), among those greater than ``above`` (a draw given what is known already: a
        run that has been going on this long, a source not landed yet); the p50 stands for the
        observations when there are none; None when no value is greater than ``above``."""
        if not self.values:
            typical = self.quantiles()[0]
            return typical if typical > above else None
        if self._cum is None:
            n, acc, cum = len(self.values), 0.0, []
            for i in range(n):
                acc += DECAY ** (n - 1 - i)
                cum.append(acc)
            self._cum = cum
        vals, cum = self.values, self._cum
        if above == -float("inf"):
            return vals[min(bisect_right(cum, rng.random() * cum[-1]), len(vals) - 1)]
        fit = [(v, cum[i] - (cum[i - 1] if i else 0.0)) for i, v in enumerate(vals) if v > above]
        if not fit:
            return None
        return rng.choices([v for v, _ in fit], [w for _, w in fit])[0]

    def quantiles(self) -> tuple[float, float]:
        """(p50, p90) in seconds."""
        if self._cache is None:
            if self.values:
                vals = list(self.values)
                self._cache = (_weighted_quantile(vals, 0.5), _weighted_quantile(vals, 0.9))
            else:
                base = self.declared if self.declared is not None else DEFAULT_DURATION
                self._cache = (base, base)
        return self._cache


@dataclass
class Stats:
    """Durations per pipeline and arrival offsets (after the partition end) per source."""

    durations: dict[str, Series] = field(default_factory=dict)
    arrivals: dict[str, Series] = field(default_factory=dict)
    # pipeline -> (p50, p90): the what-if days ask for a duration millions of times a re-plan
    _planned: dict[str, tuple[float, float]] = field(default_factory=dict, repr=False)
    version: int = field(default=0, repr=False)  # moves with every change of a duration

    @classmethod
    def declared(cls, durations: dict[str, float | None],
                 arrivals: dict[str, float | None]) -> Stats:
        return cls({k: Series(v) for k, v in durations.items()},
                   {k: Series(v) for k, v in arrivals.items()})

    def _series(self, pipeline: str) -> Series:
        found = self.durations.get(pipeline)
        if found is None:
            found = self.durations[pipeline] = Series()
        return found

    def _quantiles(self, pipeline: str) -> tuple[float, float]:
        found = self._planned[pipeline] = self._series(pipeline).quantiles()
        return found

    def duration(self, pipeline: str) -> float:
        """The planning duration (p50, seconds) of a pipeline's next run."""
        found = self._planned.get(pipeline)
        return (found or self._quantiles(pipeline))[0]

    def duration_p90(self, pipeline: str) -> float:
        found = self._planned.get(pipeline)
        return (found or self._quantiles(pipeline))[1]

    def observe_duration(self, pipeline: str, seconds: float) -> None:
        self._series(pipeline).add(seconds)
        self._planned.pop(pipeline, None)
        self.version += 1

    def arrival(self, source: str) -> tuple[float, float] | None:
        """(p50, p90) seconds after the partition end at which ``source`` lands, if known."""
        series = self.arrivals.get(source)
        if series is None or (series.declared is None and not series.values):
            return None
        return series.quantiles()

    def observe_arrival(self, source: str, seconds_after_end: float) -> None:
        self.arrivals.setdefault(source, Series()).add(seconds_after_end)

    def summary(self) -> dict[str, dict[str, list[float]]]:
        """What was learned, as JSON-ready data: the recent observations (at most ``HISTORY``
        per pipeline and source), without the declared values (the definitions give those)."""
        return {"durations": {k: list(s.values) for k, s in self.durations.items() if s.values},
                "arrivals": {k: list(s.values) for k, s in self.arrivals.items() if s.values}}

    def restore(self, data: Any) -> None:
        """Take the observations of a ``summary`` (replacing those held); ValueError when the
        data is not a summary."""
        if not isinstance(data, dict):
            raise ValueError("a summary of statistics is an object")
        for kind, table in (("durations", self.durations), ("arrivals", self.arrivals)):
            for name, values in dict(data.get(kind, {})).items():
                if not isinstance(name, str) or not isinstance(values, list) or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
                    raise ValueError(f"{kind} of {name!r}: a list of seconds is expected")
                series = table.setdefault(name, Series())
                series.values.clear()
                series.values.extend(float(v) for v in values[-HISTORY:])
                series._cache = series._cum = None
        self._planned.clear()
        self.version += 1
