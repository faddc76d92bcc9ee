"""Clocks: the real one, an accelerated one for demos (``--speed 3600``: an hour a second) and a
fake one for tests that moves only when told.

Time is a parameter everywhere below the shells; only the shells hold a clock. A shell that must
wake up at a moment of clock time (a retry back-off ending) asks ``real_seconds`` how long to sleep;
a clock that does not move by itself answers None and instead calls the shell's ``subscribe``d
wake-up when it is moved, so a waiting loop never spins and never polls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

Wake = Callable[[], None]


class Clock(Protocol):
    def now(self) -> datetime: ...

    def real_seconds(self, delta: timedelta) -> float | None:
        """How many real seconds pass while ``delta`` passes on this clock; None when this clock
        does not move by itself (wait for a wake-up from ``subscribe`` instead)."""
        ...

    def subscribe(self, wake: Wake) -> None:
        """Call ``wake`` whenever this clock jumps (a fake clock moved by hand)."""
        ...


class RealClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds(self, delta: timedelta) -> float:
        return delta.total_seconds()

    def subscribe(self, wake: Wake) -> None:
        """The real clock never jumps."""


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

    def subscribe(self, wake: Wake) -> None:
        """An accelerated clock moves smoothly; it never jumps."""


@dataclass
class FakeClock:
    """A clock that moves only when told (tests, benchmarks). Moving it wakes every subscriber,
    so a runner waiting for a retry back-off re-checks at once instead of polling."""

    moment: datetime
    _wakers: list[Wake] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def now(self) -> datetime:
        return self.moment

    def real_seconds(self, delta: timedelta) -> float | None:
        return None

    def subscribe(self, wake: Wake) -> None:
        with self._lock:
            self._wakers.append(wake)

    def advance(self, delta: timedelta) -> None:
        self.set(self.moment + delta)

    def set(self, moment: datetime) -> None:
        self.moment = moment
        with self._lock:
            wakers = list(self._wakers)
        for wake in wakers:
            wake()


class SkipClock:
    """The real clock, plus the waits skipped (``andon.materialize``): a retry back-off that
    would keep a one-shot run waiting is jumped over with ``skip_to``, which wakes the
    subscribers as a moved fake clock does. Recorded times stay real-time apart from the jumps."""

    def __init__(self) -> None:
        self._offset = timedelta(0)
        self._wakers: list[Wake] = []
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def real_seconds(self, delta: timedelta) -> float:
        return delta.total_seconds()

    def subscribe(self, wake: Wake) -> None:
        with self._lock:
            self._wakers.append(wake)

    def skip_to(self, moment: datetime) -> None:
        """Move on to ``moment`` at once (nothing when it has passed)."""
        ahead = moment - self.now()
        if ahead <= timedelta(0):
            return
        with self._lock:
            self._offset += ahead
            wakers = list(self._wakers)
        for wake in wakers:
            wake()
