"""Helpers for tests of a live line: collect committed events, announce source data."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from andon.events import Event
from andon.serve.up import Line
from tests.notify.servers import GUARD


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, events: Sequence[Event]) -> None:
        with self.cond:
            self.events.extend(events)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Event]], object], what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.events), GUARD), \
                f"timed out waiting for {what}: {[e.name for e in self.events]}"

    def of(self, cls: type) -> list[Event]:
        with self.cond:
            return [e for e in self.events if isinstance(e, cls)]


def announce(line: Line, key: str, text: str) -> None:
    path = line.project.root / f"data/raw/{key}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    line.runner.submit(line.service.notify("raw", key, line.clock.now())).result(GUARD)
