"""Clocks: the real one, and an accelerated one for demos (``--speed 3600``: an hour a second).

Time is a parameter everywhere below the shells; only the shells hold a clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_seconds(self, delta: timedelta) -> float:
        """How many real seconds pass while ``delta`` passes on this clock."""
        ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds(self, delta: timedelta) -> float:
        return delta.total_seconds()


@dataclass
class SpeedClock:
    """Starts at ``start`` and runs ``speed`` times faster than real time."""

    start: datetime
    speed: float
    _t0: float = field(default_factory=time.monotonic)

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self._t0) * self.speed)

    def real_seconds(self, delta: timedelta) -> float:
        return delta.total_seconds() / self.speed


@dataclass
class FakeClock:
    """A clock that moves only when told (tests, benchmarks)."""

    moment: datetime

    def now(self) -> datetime:
        return self.moment

    def real_seconds(self, delta: timedelta) -> float:
        return 0.0

    def advance(self, delta: timedelta) -> None:
        self.moment += delta
