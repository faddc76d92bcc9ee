"""The demo's stories: the recurring failure (``FlakyExport``), the customers' shift
(``ModelStory``), the people who read the line's last outputs (``register_readers``) and the
waste the audit finds (``waste_summary``).

The recurring failure: the shop's order export arrives cut short on two days.

On each of those days ``clean_orders`` fails for good (the file stays cut short through its
retries), the on-call person asks the shop for the day again an hour later and the complete
file lands (the watcher announces it, andon re-makes the day from it). The first time, they also
write down what they did in the operations manual (``manual.resolved``, submitted through the
engine as any other request), so the second failure's hint shows the known fix.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from datetime import timedelta

from andon.audit.findings import Finding
from andon.events import CordPulled, CordRecovered, Event, RunFailed, RunSucceeded
from andon.serve.demo_clock import StoryClock
from andon.serve.up import Line

log = logging.getLogger("andon.serve.demo")

FLAKY_SOURCE = "raw_orders"
FLAKY_PIPELINE = "clean_orders"
NOTICED_AFTER = timedelta(hours=1)  # from the failure to the re-delivered export, simulated
RESOLUTION_NOTE = ("the shop's order export job was restarted mid-write and left the file cut "
                   "short; asked shop-backend to export the day again, and andon re-made it "
                   "from the complete file")
RESOLUTION_LINK = "https://wiki.example.com/runbooks/shop-order-export"
# who reads the outputs no run reads (people, and the board's model page): they register as
# consumers, as a real line's readers would, so the audit does not count them as data no one uses
READERS = {"report": "controlling@example.com", "buy_tomorrow_performance": "ml-monitoring"}
ENTRY_WAIT_S = 30.0  # for the failure's manual entry to be readable (it is, once committed)


class OnCall:
    """A person of the story on call for one kind of committed event: the runner's listener
    (``on_events``) queues each event ``wanted`` says is theirs, and the story's thread
    (``run``) answers each one ``after`` later on the story's clock with ``respond``. ``owed``:
    an answer is still to come (the demo is not over while one is)."""

    after = timedelta(0)

    def __init__(self, line: Line, clock: StoryClock) -> None:
        self.line, self.clock = line, clock
        self._seen: queue.Queue[Event] = queue.Queue()
        self._owed = 0
        self._lock = threading.Lock()

    @property
    def owed(self) -> bool:
        with self._lock:
            return self._owed > 0

    def wanted(self, ev: Event) -> bool:
        raise NotImplementedError

    def respond(self, ev: Event) -> None:
        raise NotImplementedError

    def on_events(self, events: Sequence[Event]) -> None:
        """Runner listener: queue this person's events."""
        for ev in events:
            if self.wanted(ev):
                with self._lock:
                    self._owed += 1
                self._seen.put(ev)

    def run(self) -> None:
        """The story's thread: until the line stops."""
        stop = self.line.stop_event
        while not stop.is_set():
            try:
                ev = self._seen.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                if not self.clock.sleep_until(self.clock.now() + self.after, stop):
                    return
                self.respond(ev)
            finally:
                with self._lock:
                    self._owed -= 1


class FlakyExport(OnCall):
    """Watches for ``clean_orders`` failing for good on ``days`` (partition keys) and plays the
    on-call person: re-delivers the export (``deliver(key)``) and resolves the first time.
    ``resolved`` is set once the resolution was submitted (the feed waits for it before it
    lands the next cut-short export); ``owed``: a re-delivery is still to come."""

    after = NOTICED_AFTER

    def __init__(self, line: Line, clock: StoryClock, days: Sequence[str],
                 deliver: Callable[[str], object]) -> None:
        super().__init__(line, clock)
        self.days, self.deliver = list(days), deliver
        self.resolved = threading.Event()

    def wanted(self, ev: Event) -> bool:
        """The flaky days' final failures (no retry left)."""
        return (isinstance(ev, RunFailed) and ev.pipeline == FLAKY_PIPELINE
                and ev.partition in self.days
                and self.line.project.graph.final_attempt(ev.pipeline, ev.attempt))

    def respond(self, ev: Event) -> None:
        assert isinstance(ev, RunFailed)
        try:
            if not self.resolved.is_set():
                self._resolve(ev)
        except Exception:  # the demo goes on: the manual misses a note, nothing else
            log.exception("the demo could not resolve the order export's failure")
        finally:
            self.resolved.set()
        self.deliver(ev.partition)

    def _resolve(self, failed: RunFailed) -> None:
        svc, clock = self.line.service, self.line.clock
        deadline = time.monotonic() + ENTRY_WAIT_S
        while True:
            entry = next((e.id for e in svc.manual.entries(clock.now())
                          if any(o.run_id == failed.run_id for o in e.occurrences)), None)
            if entry is not None or time.monotonic() > deadline:
                break
            if self.line.stop_event.wait(0.1):
                return
        if entry is None:
            raise LookupError(f"no manual entry holds run {failed.run_id}")
        self.line.runner.submit(svc.manual.resolve_event(
            entry, RESOLUTION_NOTE, clock.now(), link=RESOLUTION_LINK, by="demo")).result(30)


class ModelStory:
    """What the demo's customer shift did to the model, from the committed events: the cords
    its drift check pulled (and whether each recovered), and the realised AUC per day."""

    def __init__(self, model: str, performance: str) -> None:
        self.model, self.performance = model, performance
        self.cords: dict[str, bool] = {}  # cord id -> recovered
        self.auc: dict[str, float] = {}  # day -> realised AUC
        self._lock = threading.Lock()

    def on_events(self, events: Sequence[Event]) -> None:
        with self._lock:
            for ev in events:
                if isinstance(ev, CordPulled) and ev.by.startswith(f"check:{self.model}."):
                    self.cords.setdefault(ev.cord_id, False)
                elif isinstance(ev, CordRecovered) and ev.cord_id in self.cords:
                    self.cords[ev.cord_id] = True
                elif isinstance(ev, RunSucceeded) and ev.pipeline == self.performance \
                        and "auc" in ev.metrics:
                    self.auc[ev.partition] = ev.metrics["auc"]

    def summary(self, shift_day: str) -> str:
        with self._lock:
            cords, auc = dict(self.cords), dict(sorted(self.auc.items()))
        settled = sum(cords.values())
        told = (f"customers changed on {shift_day}: the features drifted red "
                f"{len(cords)} time(s), each pulling the andon cord on the serving version of "
                f"{self.model} (its scoring and report halted until a retrained version was "
                f"promoted; {settled} of {len(cords)} recovered)")
        if auc:
            told += "; realised AUC by day: " + ", ".join(f"{d[5:]} {v:.2f}"
                                                        for d, v in auc.items())
        return told


def register_readers(line: Line) -> None:
    """Register ``READERS`` as consumers of their data sets (each itself, through the engine,
    as `andon subscribe` would), for as long as the access desk allows."""
    access, now = line.service.access, line.clock.now()
    for asset, reader in READERS.items():
        line.runner.submit(access.subscribe(asset, reader, None, now, reader, None)).result(30)


def waste_summary(findings: Sequence[Finding], currency: str, url: str) -> str:
    """The demo's closing line on its waste: how many findings of which kinds (in the audit's
    order), their estimated cost a month, and where the board lists them."""
    kinds = list(dict.fromkeys(f.kind for f in findings))
    cost = sum(f.cost for f in findings)
    return (f"waste: {len(findings)} finding{'s' * (len(findings) != 1)} (kinds "
            f"{', '.join(kinds) or 'none'}), est. {cost:.2f} {currency} a month; the audit: "
            f"{url}/audit")
