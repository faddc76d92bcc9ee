"""Two of the demo's stories, played by the people around the line (the feed's other actors:
``andon.serve.demo_story.FlakyExport`` is the recurring failure).

``LateExport``: on the first day the shop's order export hangs. The planner sees the source
overdue and flags the morning's deliverables at risk (the scores first, over two hours before
they are due: they are about 1h50m of work after the orders land, as the example declares); the
warning reaches the export's owner (shop-backend), who restarts the export, and the file lands
``RESTART_TAKES`` later: in time, so the deliverables come back on plan. If no warning ever
comes, the export still lands at ``LATEST`` after the day ends (a late line, but not one that
waits forever).

``BadRates``: on the third day treasury's FX file lands with a decimal point lost (GBP at 117
EUR). The blocking range check on ``fx_rates`` fails and pulls the andon cord: everything
downstream of that day halts, red on the board. The on-call person notices, resolves the cord
(through the engine, as ``andon cord resolve`` does) and asks treasury for the day again; the
corrected file is announced, passes its checks, the cord is released and the halted partitions
run by themselves.

Each story is a runner listener (``on_events``) plus a thread (``run``); ``owed`` says whether it
will still deliver something (the demo's ``--exit-when-done`` waits for it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from andon.events import CordPulled, DeliverableAtRisk, Event
from andon.serve.demo_clock import StoryClock
from andon.serve.demo_story import OnCall
from andon.serve.up import Line

log = logging.getLogger("andon.serve.demo")

LATE_SOURCE = "raw_orders"
RESTART_TAKES = timedelta(minutes=5)  # from the at-risk warning to the restarted export landing
LATEST = timedelta(hours=6)  # after the day ends: the export lands by then, warned or not
BAD_SOURCE = "fx_rates"
BAD_NOTICED = timedelta(minutes=45)  # from the cord to the on-call person resolving it
BAD_NOTE = ("treasury's FX export lost the decimal point of one rate (GBP 117 instead of 1.17); "
            "asked treasury to send the day again")


class LateExport:
    """Holds back source ``LATE_SOURCE`` of day ``key`` (the feed skips it) and lands it
    ``RESTART_TAKES`` after the first at-risk warning for that day, or at ``LATEST``."""

    def __init__(self, line: Line, clock: StoryClock, key: str, end: datetime,
                 deliver: Callable[[str], object]) -> None:
        self.line, self.clock, self.key, self.deliver = line, clock, key, deliver
        self.latest = end + LATEST
        self._warned = threading.Event()
        self._done = threading.Event()

    @property
    def owed(self) -> bool:
        return not self._done.is_set()

    def on_events(self, events: Sequence[Event]) -> None:
        """Runner listener: the first at-risk warning for the day's deliverables. From then on
        the export is on its way (the clock keeps the busy pace until it has landed: the
        milliseconds this thread takes to wake must not become an hour of the story)."""
        if not self._warned.is_set() and any(
                isinstance(ev, DeliverableAtRisk) and ev.partition == self.key for ev in events):
            self.clock.landing(LATE_SOURCE, self.key)
            self._warned.set()

    def run(self) -> None:
        """The story's thread: wait for the warning (or ``LATEST``), then land the export."""
        stop, clock = self.line.stop_event, self.clock
        try:
            while not stop.is_set():  # a change of the clock's pace is caught within 0.2 s
                left = clock.real_seconds(self.latest - clock.now())
                if (left is not None and left <= 0) or self._warned.wait(
                        0.2 if left is None else min(left, 0.2)):
                    break
            land = min(self.latest, clock.now() + RESTART_TAKES) if self._warned.is_set() \
                else self.latest
            if clock.sleep_until(land, stop):
                self.deliver(self.key)
        finally:
            self._done.set()


class BadRates(OnCall):
    """Lands ``BAD_SOURCE`` of day ``key`` bad (``deliver(key, bad=True)``, by the feed); when the
    cord its check pulls is committed, resolves it ``BAD_NOTICED`` later and lands the corrected
    file (``deliver(key, bad=False)``)."""

    after = BAD_NOTICED

    def __init__(self, line: Line, clock: StoryClock, key: str,
                 deliver: Callable[[str, bool], object]) -> None:
        super().__init__(line, clock)
        self.key, self.deliver = key, deliver

    def wanted(self, ev: Event) -> bool:
        return isinstance(ev, CordPulled) and ev.asset == BAD_SOURCE and ev.partition == self.key

    def respond(self, ev: Event) -> None:
        assert isinstance(ev, CordPulled)
        svc = self.line.service
        try:
            self.line.runner.submit(svc.cord_resolve(
                ev.cord_id, BAD_NOTE, self.clock.now(), by="demo")).result(30)
        except Exception:  # the demo goes on: the re-delivery alone is seen, not fixed
            log.exception("the demo could not resolve cord %s", ev.cord_id)
        self.deliver(self.key, False)
