"""The runner's inbox (``andon.live.runner``): what the runner thread is to handle, in order.

It counts the items not yet fully handled, so that ``drain`` can wait for "everything submitted
so far has been dealt with" without a race.

An item put ``lazy`` (a run's ``run.launched``: its pid and log, which nothing waits for) does not
wake the runner: it is handed out, ahead of the items put after it, with the next batch, or at
the latest LAZY_WAIT seconds later (also when it was put from another thread, the launcher's,
while the runner slept). A run that ends within that time thus has its ``run.launched``
committed in the same turn as its end instead of in a turn (and a commit) of its own.
"""

from __future__ import annotations

import threading
import time
from collections import deque

MAX_BATCH = 1000
LAZY_WAIT = 0.2  # seconds a lazy item may wait for company before it is handled alone


class Inbox:
    """A queue with a count of unfinished items; ``take`` hands out batches."""

    def __init__(self) -> None:
        self._items: deque[object] = deque()
        self._lazy: list[object] = []
        self._lazy_since = 0.0  # when the oldest lazy item was put
        self._cond = threading.Condition()
        self._unfinished = 0
        self.running = 0  # runs executing after the last turn

    def put(self, item: object, lazy: bool = False) -> None:
        with self._cond:
            self._unfinished += 1
            if lazy:
                self._lazy.append(item)
                if len(self._lazy) == 1:  # a taker already asleep must set its timer
                    self._lazy_since = time.monotonic()
                    self._cond.notify_all()
                return
            self._items.append(item)
            self._cond.notify_all()

    @property
    def waiting(self) -> bool:
        """Whether items wait to be taken (lazy ones do not count: they wait for company)."""
        return bool(self._items)

    def take(self, timeout: float | None) -> list[object]:
        """The lazy items and up to MAX_BATCH others; blocks until there is one, or ``timeout``
        s pass (or LAZY_WAIT, when lazy items wait): then only the lazy ones, or []."""
        with self._cond:
            end = None if timeout is None else time.monotonic() + timeout
            while not self._items:
                due = [t for t in (end, self._lazy_since + LAZY_WAIT if self._lazy else None)
                       if t is not None]
                left = min(due) - time.monotonic() if due else None
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            lazy, self._lazy = self._lazy, []
            n = min(len(self._items), MAX_BATCH)
            return lazy + [self._items.popleft() for _ in range(n)]

    def done(self, n: int, running: int) -> None:
        with self._cond:
            self._unfinished -= n
            self.running = running
            self._cond.notify_all()

    def wait(self, timeout: float, no_runs: bool) -> bool:
        with self._cond:
            return self._cond.wait_for(
                lambda: self._unfinished == 0 and (not no_runs or self.running == 0), timeout)

    def begin(self) -> None:
        """Count work under way outside the inbox (a run's start: ``andon.live.launcher``)."""
        with self._cond:
            self._unfinished += 1

    def end(self) -> None:
        """That work is done (what it put into the inbox is counted on its own)."""
        with self._cond:
            self._unfinished -= 1
            self._cond.notify_all()
