"""Starting runs off the runner thread (``andon.live.runner``).

Starting a run's process means waiting for it: the local executor asks its fork server to fork,
and the answer (the pid, once the process is in its own session and before any user code runs)
comes back after a few wake-ups of other processes. The runner does not wait for it: it hands
each run's spec to a ``Launcher`` and goes on with its turn (the next commit, the listeners, the
next results). The launcher's threads call the executor's ``start``, several at once, so that the
starts of one turn reach the fork server together and its answers come back as fast as it forks.

What stays as it was:

- a run's ``run.started`` is durable before its start is handed over (the runner hands it over
  after the turn's commit), and the executor still learns the pid before user code runs;
- a cancel of a run whose start is still under way is carried out once the start returned (it
  is never lost, and never reaches the executor before the run it cancels);
- ``drain`` counts pending starts: everything submitted has been handled only when every start
  handed over has put its ``run.launched`` (or its failure) into the inbox.

Only executors whose ``start`` may be called from several threads at once say so
(``concurrent_start = True``: the local one); the others are started on the runner thread.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from andon.executors.base import ExecResult, Executor, RunSpec
from andon.live.inbox import Inbox

log = logging.getLogger("andon.live.launcher")
MAX_LAUNCH_THREADS = 8  # starts in flight at once (each mostly waits for a fork server's answer)


def starts_concurrently(executor: Executor) -> bool:
    """Whether ``executor.start`` may run on the launcher's threads."""
    return bool(getattr(executor, "concurrent_start", False))


def unstarted(run_id: str, exc: Exception) -> ExecResult:
    """The result of a run that could not be started (its spec refused, its process not
    spawned): it failed, and no user code ran."""
    log.error("could not start run %s", run_id, exc_info=exc)
    return ExecResult(run_id, False, None, type(exc).__name__, f"could not start the run: {exc}")


class Launcher:
    """Runs ``start(spec)`` on up to MAX_LAUNCH_THREADS threads, in the order handed over;
    ``cancel`` keeps each cancel after its run's start."""

    def __init__(self, executor: Executor, inbox: Inbox, start: Callable[[RunSpec], None],
                 threads: int = MAX_LAUNCH_THREADS) -> None:
        self.executor = executor
        self._inbox = inbox
        self._start = start  # the runner's: executor.start, then run.launched into the inbox
        self._max = max(1, threads)
        self._cond = threading.Condition()
        self._queue: deque[RunSpec] = deque()
        self._pending: dict[str, bool] = {}  # run id -> cancel once started
        self._threads = 0
        self._idle = 0

    def launch(self, spec: RunSpec) -> None:
        """Start the run soon, on a launcher thread (counted by ``drain`` until it is done)."""
        self._inbox.begin()
        with self._cond:
            self._pending[spec.run_id] = False
            self._queue.append(spec)
            if self._idle >= len(self._queue):  # a thread waits for each queued start
                self._cond.notify()
            elif self._threads < self._max:
                self._threads += 1
                threading.Thread(target=self._work, daemon=True,
                                 name=f"andon-launch-{self._threads}").start()

    def cancel(self, run_id: str) -> None:
        """Cancel the run: now if its start is done, else as soon as it is."""
        with self._cond:
            if run_id in self._pending:
                self._pending[run_id] = True
                return
        self._cancel(run_id)

    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def wait(self, timeout: float) -> bool:
        """Wait until every start handed over is done (the runner's ``stop``)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending, timeout)

    def _cancel(self, run_id: str) -> None:
        try:
            self.executor.cancel(run_id)
        except Exception:
            log.exception("could not cancel run %s", run_id)

    def _work(self) -> None:
        while True:
            with self._cond:
                self._idle += 1
                self._cond.wait_for(lambda: bool(self._queue))
                self._idle -= 1
                spec = self._queue.popleft()
            try:
                self._start(spec)  # reports its own failure; never raises for one
            except Exception:
                log.exception("starting run %s failed", spec.run_id)
            finally:
                with self._cond:
                    cancel = self._pending.pop(spec.run_id, False)
                    self._cond.notify_all()
                if cancel:
                    self._cancel(spec.run_id)
                self._inbox.end()
