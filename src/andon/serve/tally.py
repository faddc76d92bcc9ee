"""Progress of a one-shot ``materialize``: runs done of those queued so far, failures, and an
estimate of the time left from the planner's learned durations (``andon.planner.stats``)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from andon.events import Event, RunCancelled, RunFailed, RunQueued, RunSucceeded

Ended = RunSucceeded | RunFailed | RunCancelled


@dataclass
class Tally:
    """Counts the run events the line commits (a runner listener: ``on_events``) and calls
    ``show(self, ended)`` with the runs that just ended. ``duration(pipeline)`` is the planner's
    p50 in seconds; ``slots`` how many runs can go at once (the pools' capacity)."""

    duration: Callable[[str], float]
    slots: int
    show: Callable[[Tally, Sequence[Ended]], None]
    total: int = 0
    done: int = 0
    failed: int = 0
    _open: dict[str, str] = field(default_factory=dict)  # run id -> pipeline, not ended yet
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def on_events(self, events: Sequence[Event]) -> None:
        ended: list[Ended] = []
        with self._lock:
            for event in events:
                if isinstance(event, RunQueued):
                    self.total += 1
                    self._open[event.run_id] = event.pipeline
                elif isinstance(event, (RunSucceeded, RunFailed, RunCancelled)):
                    if self._open.pop(event.run_id, None) is None:
                        continue  # a run from before this call
                    self.done += 1
                    self.failed += not isinstance(event, RunSucceeded)
                    ended.append(event)
        if ended or any(isinstance(e, RunQueued) for e in events):
            self.show(self, ended)

    def eta(self) -> float | None:
        """Seconds left: the predicted work of the runs not ended, spread over the slots;
        None before anything was queued."""
        with self._lock:
            if not self.total:
                return None
            work = sum(self.duration(p) for p in self._open.values())
        return work / max(self.slots, 1)
