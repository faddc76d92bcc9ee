"""The live shell: the store, the engine core, an executor and a clock, in one loop.

One thread owns the engine state and is the only writer of the store. Everything that happens
(notifications, run requests, executors reporting, timers) arrives in its inbox; each turn of the
loop handles all waiting items, commits the resulting events in one transaction (group commit),
answers the callers, then starts and cancels runs. Nothing wakes up to look: the loop sleeps on
its inbox until an item arrives or a retry back-off ends.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from andon.clock import Clock, RealClock
from andon.engine.core import Decisions, Policy, decide, fifo, handle, mark_all, next_wakeup, replay
from andon.engine.runs import Run, RunStatus
from andon.engine.state import EngineState
from andon.events import (
    Event,
    RunCancelled,
    RunFailed,
    RunLaunched,
    RunStarted,
    RunSucceeded,
)
from andon.executors.base import ExecResult, Executor, RunSpec, spec_for
from andon.model.graph import Graph
from andon.store.sql import Store

log = logging.getLogger("andon.runner")
Listener = Callable[[Sequence[Event]], None]


@dataclass
class _Submit:
    event: Event
    future: Future[bool] | None


@dataclass
class _Result:
    result: ExecResult
    pid: int = 0


_STOP = object()


class Runner:
    """Drives the engine live. ``submit`` is thread-safe and returns a future that resolves to
    True (recorded) or False (already in the log) once the event is durable."""

    def __init__(self, graph: Graph, store: Store, executor: Executor, project_dir: Path,
                 runs_dir: Path, clock: Clock | None = None, policy: Policy = fifo) -> None:
        self.graph = graph
        self.store = store
        self.executor = executor
        self.project_dir = project_dir
        self.runs_dir = runs_dir
        self.clock = clock or RealClock()
        self.policy = policy
        self.state = EngineState()
        self._inbox: queue.Queue[object] = queue.Queue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()  # set whenever the loop has nothing to do

    # -- the outside world ---------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (on the runner thread) with each batch of committed events."""
        self._listeners.append(listener)

    def submit(self, event: Event) -> Future[bool]:
        fut: Future[bool] = Future()
        self._inbox.put(_Submit(event, fut))
        return fut

    def _report(self, result: ExecResult) -> None:
        self._inbox.put(_Result(result))

    # -- life cycle ----------------------------------------------------------------------------

    def recover(self) -> int:
        """Rebuild the state from the log; find runs that were executing when the previous
        scheduler stopped and let the executor adopt or bury them. Returns the number found."""
        self.state = replay(self.graph, self.store.iter_events())
        orphans = self.state.running()
        for run in orphans:
            if run.pipeline not in self.graph.pipelines:
                self._report(ExecResult(run.run_id, False, None, "ProcessLost",
                                        f"pipeline {run.pipeline!r} is no longer defined"))
                continue
            row = self.store.run(run.run_id) or {}
            pid = int(row.get("pid") or 0) or _pid_file(self._spec(run))
            self.executor.recover(self._spec(run), pid, self._report)
        mark_all(self.graph, self.state)
        self._inbox.put(None)  # one turn to decide what the log implies
        return len(orphans)

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="andon-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._inbox.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)

    def run_forever(self) -> None:
        while True:
            wake = next_wakeup(self.state, self.clock.now())
            timeout = None if wake is None else max(self.clock.real_seconds(wake - self.clock.now()), 0)
            if self._inbox.empty():
                self.idle.set()
            try:
                item = self._inbox.get(timeout=timeout)
            except queue.Empty:
                item = None
            self.idle.clear()
            items = [item]
            while len(items) < 1000:
                try:
                    items.append(self._inbox.get_nowait())
                except queue.Empty:
                    break
            stop = any(i is _STOP for i in items)
            try:
                self._turn([i for i in items if i is not None and i is not _STOP])
            except Exception:  # keep the line running; the failing item is logged
                log.exception("runner turn failed")
            if stop:
                return

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until the loop is idle with an empty inbox (tests, scripts)."""
        self.idle.wait(timeout)
        return self.idle.is_set()

    # -- one turn ------------------------------------------------------------------------------

    def _turn(self, items: list[object]) -> None:
        now = self.clock.now()
        out = Decisions()
        recorded: list[Event] = []
        answers: list[tuple[Future[bool], bool]] = []
        for item in items:
            event: Event | None = None
            if isinstance(item, _Submit):
                seen = any(e.id == item.event.id for e in recorded)
                if seen or self.store.has_event(item.event.id):
                    if item.future:
                        answers.append((item.future, False))
                    continue
                event = item.event
            elif isinstance(item, _Result):
                event = self._result_event(item.result, now)
            if event is None:
                continue
            recorded.append(event)
            out.extend(handle(self.graph, self.state, event, now, self.policy))
            if isinstance(item, _Submit) and item.future:
                answers.append((item.future, True))
        if not items:
            out.extend(decide(self.graph, self.state, now, self.policy))
        committed = self.store.append(recorded + out.events)
        for fut, value in answers:
            fut.set_result(value)
        for listener in self._listeners:
            listener(committed)
        for event in out.events:
            if isinstance(event, RunStarted):
                self._launch(event)
        for run_id in out.cancel:
            self.executor.cancel(run_id)

    def _spec(self, run: Run) -> RunSpec:
        return spec_for(self.graph, run.run_id, run.pipeline, run.partition, run.attempt,
                        self.project_dir, self.runs_dir)

    def _launch(self, event: RunStarted) -> None:
        spec = self._spec(self.state.runs[event.run_id])
        try:
            pid = self.executor.start(spec, self._report)
        except Exception as exc:  # could not even spawn: the run failed
            log.exception("could not start run %s", event.run_id)
            self._report(ExecResult(event.run_id, False, None, type(exc).__name__, str(exc)))
            return
        self._inbox.put(_Submit(RunLaunched(id=f"launched:{event.run_id}", at=self.clock.now(),
                                            run_id=event.run_id, pid=pid,
                                            log_path=str(spec.log_path)), None))

    def _result_event(self, res: ExecResult, now: datetime) -> Event | None:
        run = self.state.runs.get(res.run_id)
        if run is None or run.status is not RunStatus.RUNNING:
            return None  # already ended (e.g. reported twice after a restart)
        queue_s = (run.started_at - run.queued_at).total_seconds() if run.started_at else 0.0
        common: dict[str, Any] = dict(id=f"ended:{run.run_id}", at=now, run_id=run.run_id,
                                      pipeline=run.pipeline, partition=run.partition,
                                      attempt=run.attempt)
        if res.cancelled:
            return RunCancelled(**common, by=str(run.extra.get("cancel_by", "")),
                                reason=str(run.extra.get("cancel_reason", "")) or res.error_message)
        if res.ok:
            return RunSucceeded(**common, queue_seconds=queue_s,
                                startup_seconds=res.startup_seconds, work_seconds=res.work_seconds,
                                exit_code=res.exit_code or 0, inputs=run.inputs, outputs=res.outputs)
        return RunFailed(**common, queue_seconds=queue_s, startup_seconds=res.startup_seconds,
                         work_seconds=res.work_seconds, exit_code=res.exit_code,
                         error_type=res.error_type, error_message=res.error_message,
                         inputs=run.inputs)


def _pid_file(spec: RunSpec) -> int:
    try:
        return int((Path(spec.run_dir) / "pid").read_text())
    except (OSError, ValueError):
        return 0
