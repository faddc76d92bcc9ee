"""The live plan's forecast off the runner thread, for large graphs: in a forked child.

A forecast of 1,000 pipelines list-schedules some 700 nodes, tens of milliseconds of the runner's
thread after every event (issue 17, item 5: the runner's planning per step stays under 20 ms
at its 99th percentile). A thread would share the interpreter lock with the runner; a process
needs the engine's state, which is large and changes at every step. A fork has it at once and
for free (the child's memory is the parent's, copied on write): at a step where the plan is
stale and no forecast is under way, ``ForkedPlan.replan`` forks, and the child runs the very
``LivePlan.replan`` on its copy of the state, the statistics and the at-risk book as they stood,
words every reason and walks every critical path (the schedule's nodes stay in the child), and
writes all of it back on a pipe. A later step reads what has arrived (never waiting) and, once
the child is done, takes its forecast and book and returns its events to record (stamped with
the moment they are recorded). What happened meanwhile marks the plan moved, so the next
forecast follows. A child that fails, or still has no answer after ``HUNG`` seconds (a fork
copies locks other threads held; the child's code takes none of its own, but a library's could),
is ended and leaves that forecast to the runner's thread, as for small graphs.

Small graphs (up to ``LARGE`` pipelines, the bound of jit's rollout), a platform without
``fork``, and a forecast at rest are unchanged: synchronous, deterministic under a fake clock.
"""

from __future__ import annotations

import dataclasses
import gc
import logging
import os
import pickle
import signal
import time
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from andon.events import Event
from andon.model.graph import Graph
from andon.planner.forecast import Forecast
from andon.planner.live import LivePlan
from andon.planner.policies import Jit, Planner
from andon.planner.state import PlanningState

log = logging.getLogger("andon.live.forecaster")
LARGE = Jit.plan_at_once  # pipelines: above it the forecast runs in a child process
POLL = 0.01  # seconds of the clock between looks at a forecast under way (a look is cheap)
CHUNK = 1 << 16
HUNG = 2.0  # wall seconds: a child still forecasting then is killed (a lock it found held)


def live_plan(graph: Graph, planner: Planner) -> LivePlan:
    """The runner's live plan for ``graph``: forecasting in a forked child above ``LARGE``
    pipelines where the platform forks, on the runner's thread otherwise."""
    if len(graph.pipelines) > LARGE and hasattr(os, "fork"):
        return ForkedPlan(graph, planner)
    return LivePlan(graph, planner)


class ForkedPlan(LivePlan):
    """A ``LivePlan`` whose forecasts run in a forked child, one at a time."""

    def __init__(self, graph: Graph, planner: Planner) -> None:
        super().__init__(graph, planner)
        self._child: tuple[int, int] | None = None  # (pid, the pipe's reading end)
        self._look = 0.0  # the clock's next moment to look for the child's answer (epoch s)
        self._got = bytearray()
        self._forked_at = 0.0  # time.monotonic() at the fork
        self.forked = 0  # forecasts done in a child
        self.failed = 0  # children that gave no forecast (done on the runner's thread then)

    @property
    def wake(self) -> datetime | None:
        """As ``LivePlan.wake``; while a child forecasts, the next look for its answer only
        (the plan's own timers wait for it: a moment already past would wake the runner at once,
        again and again, until the child is done)."""
        if self._child is None:
            return super().wake
        return datetime.fromtimestamp(self._look, UTC)

    def stale(self, events: Iterable[Event], now: datetime, idle: bool = False) -> bool:
        """As ``LivePlan.stale``; while a child forecasts, whether its answer has arrived (or
        the moment to look came)."""
        moved = super().stale(events, now, idle)
        if self._child is None:
            return moved
        return self._read() or now.timestamp() >= self._look

    def replan(self, state: PlanningState, now: datetime) -> list[Event]:
        """Take the child's forecast when it is done (its events, to record); else, when none is
        under way, fork one (nothing to record yet)."""
        if not self.enabled:
            return []
        if self._child is not None:
            if self._read():
                return self._take(state, now)
            if time.monotonic() - self._forked_at < HUNG:
                self._look = now.timestamp() + POLL
                return []
            self.close()
            self.failed += 1
            log.error("the forecast's child gave no answer in %g s; forecasting on the runner's "
                      "thread", HUNG)
            return super().replan(state, now)
        try:
            self._fork(state, now)
        except OSError:
            log.exception("could not fork the forecast; forecasting on the runner's thread")
            return super().replan(state, now)
        return []

    def settle(self, timeout: float) -> bool:
        """Wait until the child under way is done (for tests and benchmarks, never the
        runner); False when ``timeout`` seconds passed first."""
        if self._child is None:
            return True
        import select

        deadline = time.monotonic() + timeout
        while not self._read():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            select.select([self._child[1]], [], [], left)
        return True

    def close(self) -> None:
        """End a child still forecasting (the runner stops)."""
        if self._child is not None:
            pid, fd = self._child
            self._child = None
            os.close(fd)
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass

    # -- the child -------------------------------------------------------------------------------

    def _fork(self, state: PlanningState, now: datetime) -> None:
        read, write = os.pipe()
        with warnings.catch_warnings():  # Python 3.12+ warns of forking with threads: the child
            warnings.simplefilter("ignore", DeprecationWarning)  # takes no lock, runs pure code
            pid = os.fork()
        if pid == 0:  # the child: forecast, write it back, leave without any cleanup
            code = 1
            try:
                os.close(read)
                for sig in (signal.SIGINT, signal.SIGTERM):  # not the shell's handlers: it ends
                    signal.signal(sig, signal.SIG_DFL)
                gc.disable()  # it lives a few milliseconds: nothing to collect
                payload = pickle.dumps(self._forecast(state, now), pickle.HIGHEST_PROTOCOL)
                view = memoryview(payload)
                while view:
                    view = view[os.write(write, view):]
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        os.set_blocking(read, False)
        self._child, self._look, self._got = (pid, read), now.timestamp() + POLL, bytearray()
        self._forked_at = time.monotonic()
        self._moved = False  # what moves the plan from now on is not in the child's forecast

    def _forecast(self, state: PlanningState, now: datetime) -> dict[str, Any]:
        """In the child: ``LivePlan.replan``, with every text and path made."""
        events = LivePlan.replan(self, state, now)
        fc = self.latest
        assert fc is not None
        worded = Forecast(fc.now, tuple(dataclasses.replace(d, why=d.reason, path=d.critical_path)
                                        for d in fc.deliverables), fc.wake)
        return {"forecast": worded, "events": events, "open": self.open, "count": self.count,
                "planned": self.planned, "missed": self.missed, "due": self._due}

    # -- the parent ------------------------------------------------------------------------------

    def _read(self) -> bool:
        """Read what the child wrote so far; whether it is done (it closed the pipe)."""
        assert self._child is not None
        fd = self._child[1]
        while True:
            try:
                chunk = os.read(fd, CHUNK)
            except BlockingIOError:
                return False
            if not chunk:
                return True
            self._got += chunk

    def _take(self, state: PlanningState, now: datetime) -> list[Event]:
        assert self._child is not None
        pid, fd = self._child
        self._child = None
        os.close(fd)
        _, status = os.waitpid(pid, 0)
        try:
            if status != 0:
                raise ValueError(f"the forecast's child ended with status {status}")
            answer = pickle.loads(bytes(self._got))
        except Exception:
            self.failed += 1
            log.exception("the forecast's child failed; forecasting on the runner's thread")
            return super().replan(state, now)
        finally:
            self._got = bytearray()
        self.forked += 1
        fc: Forecast = answer["forecast"]
        self.latest, self._forecast_at = fc, fc.now
        self.open, self.count = answer["open"], answer["count"]
        self.planned, self.missed, self._due = answer["planned"], answer["missed"], answer["due"]
        return [dataclasses.replace(ev, at=now) for ev in answer["events"]]
