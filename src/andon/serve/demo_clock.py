"""The demo's clock: fast while the line waits for data, slow while runs execute.

A plain accelerated clock (``andon.live.clock.SpeedClock``) at the demo's speeds makes a run of a
tenth of a real second last hours of simulated time: the planner learns those hours, predicts
every deliverable late and the story drowns in at-risk warnings that no real line would raise.
``StoryClock`` runs at ``speed`` while no run executes and at ``busy_speed`` while one does (or
while a delivered file is on its way into andon), so a run lasts minutes on the simulated clock
whatever ``--speed`` is, and the quiet hours between deliveries still pass in a blink. It never
jumps: a change of pace re-bases it, and it wakes its subscribers (the runner) so that a sleep
computed at the old pace is computed again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from andon.events import Event, PartitionAvailable, RunCancelled, RunFailed, RunStarted, RunSucceeded
from andon.live.clock import Wake

BUSY_SPEED = 300.0  # simulated seconds per real second while a run executes (five minutes)


class StoryClock:
    """Stands at ``start`` until ``begin`` (the line starting up takes real seconds that would
    be a day of the story); then runs ``speed`` times faster than real time while the line is
    idle and ``min(speed, busy_speed)`` times while a run executes (``on_events``, a runner
    listener)."""

    def __init__(self, start: datetime, speed: float, busy_speed: float = BUSY_SPEED) -> None:
        if speed <= 0 or busy_speed <= 0:
            raise ValueError("a clock's speed is positive")
        self.speed, self.busy_speed = speed, min(speed, busy_speed)
        self._base, self._t0 = start, time.monotonic()
        self._pace = 0.0  # standing until begin()
        self._running: set[str] = set()
        self._landing: set[tuple[str, str]] = set()  # (source, partition) landing, not yet seen
        self._cond = threading.Condition()
        self._wakers: list[Wake] = []

    def now(self) -> datetime:
        with self._cond:
            return self._now(time.monotonic())

    def _now(self, mono: float) -> datetime:
        return self._base + timedelta(seconds=(mono - self._t0) * self._pace)

    def real_seconds(self, delta: timedelta) -> float | None:
        """Real seconds for ``delta`` at the present pace (a change of pace wakes the
        subscribers, who ask again); None while the clock stands."""
        with self._cond:
            return delta.total_seconds() / self._pace if self._pace else None

    def begin(self) -> None:
        """Start moving, from the moment the clock stands at."""
        self._repace(lambda: self.busy_speed if self._running or self._landing else self.speed)

    def subscribe(self, wake: Wake) -> None:
        with self._cond:
            self._wakers.append(wake)

    def landing(self, source: str, partition: str) -> None:
        """A file of ``source`` is about to land: go at the busy pace until andon has it (its
        ``partition.available`` committed), so that the real milliseconds the watcher and the
        runner take to see it do not become an hour of the story."""
        with self._cond:
            self._landing.add((source, partition))
        self._repace(self._pace_now)

    @property
    def landings(self) -> int:
        """Files landed (``landing``) that andon has not announced yet."""
        with self._cond:
            return len(self._landing)

    def on_events(self, events: Sequence[Event]) -> None:
        """Runner listener: slow down while a run executes or a file lands, speed up when
        nothing does."""
        with self._cond:
            for ev in events:
                if isinstance(ev, RunStarted):
                    self._running.add(ev.run_id)
                elif isinstance(ev, (RunSucceeded, RunFailed, RunCancelled)):
                    self._running.discard(ev.run_id)
                elif isinstance(ev, PartitionAvailable):
                    self._landing.discard((ev.asset, ev.partition))
        self._repace(self._pace_now)

    def _pace_now(self) -> float:
        if not self._pace:
            return 0.0  # standing until begin()
        return self.busy_speed if self._running or self._landing else self.speed

    def _repace(self, pace_of: Callable[[], float]) -> None:
        with self._cond:
            pace = pace_of()
            if pace == self._pace:
                return
            mono = time.monotonic()
            self._base, self._t0, self._pace = self._now(mono), mono, pace
            self._cond.notify_all()
            wakers = list(self._wakers)
        for wake in wakers:
            wake()

    def sleep_until(self, moment: datetime, stop: threading.Event) -> bool:
        """Sleep until the clock reads ``moment``, following changes of pace; False when
        ``stop`` was set first (it is looked at every tenth of a real second at most)."""
        with self._cond:
            while not stop.is_set():
                left = (moment - self._now(time.monotonic())).total_seconds()
                if left <= 0:
                    return True
                self._cond.wait(min(left / self._pace, 0.1) if self._pace else 0.1)
        return False
