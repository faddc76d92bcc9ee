"""The live shell: the store, the engine core, an executor and a clock, in one loop.

One thread owns the engine state and is the only writer of the store. Everything that happens
(notifications, run requests, executors reporting, clock wake-ups) arrives in its inbox; each turn
of the loop handles all waiting items, commits the resulting events in one transaction (group
commit), answers the callers, re-plans (``andon.planner.live``: learned durations and arrivals,
the forecast, at-risk events), then starts and cancels runs and carries out the cord's file
moves (``andon.cord.files.FileStep``). Nothing wakes up to look: the loop
sleeps on its inbox until an item arrives, a retry back-off ends or a prediction of the plan runs
out (a source's usual arrival passes); on a clock that does not move by itself, until it is moved.

When the store refuses writes because its database was deleted or replaced
(``StoreUnavailable``), the runner stops deciding: callers get the error, nothing is started
that could not be recorded, and what the executors and the runner itself reported is held in
memory. It looks again every STORE_RECHECK seconds; once the original file is back, it rebuilds
its state from the log and hands the held items in again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from andon.cord.files import file_step
from andon.cord.suspects import answer
from andon.engine.core import Decisions, mark_all, next_wakeup, record, settle
from andon.engine.outputs import FileMove, owed_moves
from andon.engine.runs import Run, run_event_id
from andon.engine.state import EngineState
from andon.events import (
    Event,
    OutputRestored,
    OutputRestoreRequested,
    RunLaunched,
    RunStarted,
)
from andon.executors.base import ExecResult, Executor, RunSpec, spec_of_run
from andon.executors.reports import HeldReport, ended_event
from andon.live.advisor import dispatcher
from andon.live.clock import Clock, RealClock
from andon.live.forecaster import live_plan
from andon.live.inbox import Inbox
from andon.live.launcher import Launcher, starts_concurrently, unstarted
from andon.live.snapshots import StateKeeper
from andon.model.dispatch import DEFAULT_POLICY
from andon.model.errors import AndonError
from andon.model.graph import Graph
from andon.planner.policies import Planner, make_policy
from andon.store.identity import StoreUnavailable
from andon.store.sql import Store

log = logging.getLogger("andon.live.runner")
Listener = Callable[[Sequence[Event]], None]
MAX_INLINE_EVENTS = 5000  # an in-process cascade commits at least every this many events
RETRY_AFTER_STORE_ERROR = 1.0  # seconds to wait before retrying a turn the store refused
MAX_PROBLEMS_LOGGED = 10  # inconsistencies of the log named in the start-up warning
STORE_RECHECK = 2.0  # seconds between looks at a store that is unavailable


@dataclass
class _Submit:
    event: Event
    future: Future[bool] | None
    outcome: Future[OutputRestored] | None = None  # a restore request's, after the file step


_WAKE = object()  # look again (the clock moved, or the log implies work after a restart)
_STOP = object()


class Runner:
    """Drives the engine live. ``submit`` is thread-safe and returns a future that resolves to
    True (recorded) or False (already in the log) once the event is durable. ``policy`` orders
    the runs that may start (default ``jit``) and learns from every committed turn."""

    def __init__(self, graph: Graph, store: Store, executor: Executor, project_dir: Path,
                 runs_dir: Path, clock: Clock | None = None, policy: Planner | None = None,
                 advise: bool = False) -> None:
        self.graph = graph
        self.store = store
        self.executor = executor
        self.project_dir = project_dir
        self.runs_dir = runs_dir
        # the cord's file step; STATE_DIR/quarantine beside STATE_DIR/runs
        self.files = file_step(project_dir, graph, runs_dir.parent)
        self.clock = clock or RealClock()
        self.policy = policy or make_policy(DEFAULT_POLICY, graph)
        self.plan = live_plan(graph, self.policy)  # learned statistics, the forecast, at-risk
        # ``advise``: jit's rollout on a worker thread, its advice taken while still valid
        self.dispatch, self.advisor = dispatcher(graph, self.policy, advise)
        self.state = EngineState()
        self.keeper = StateKeeper(graph, store, self.plan)  # snapshots; settled days out of memory
        self.turns = 0  # loop iterations (an idle runner does not add any)
        self._decided_at = self.clock.now()  # the time the last turn decided at
        self.commits = 0
        self.busy_slots = 0  # slots held by running runs after the last turn (health strip)
        self._inline = bool(getattr(executor, "inline", False))
        self._ran_inline: set[str] = set()
        self._inbox = Inbox()
        self._launcher = (Launcher(executor, self._inbox, self._start)  # starts off this thread
                          if starts_concurrently(executor) else None)
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self.unavailable: StoreUnavailable | None = None  # why the store refuses writes
        self._held: list[object] = []  # reports and own events kept while it does
        self._stale = False  # the state folded events the store then refused: replay it
        self.clock.subscribe(self.wake)

    # -- the outside world ---------------------------------------------------------------------

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (on the runner thread) with each batch of committed events."""
        self._listeners.append(listener)

    def alive(self) -> bool:
        """Whether the loop is running (the board's health strip)."""
        return self._thread is not None and self._thread.is_alive()

    def workers(self) -> tuple[int, dict[str, Any]]:
        """Slots held by running runs (as of the last turn) and the executor's health: its
        ``health()`` when it has one (the local executor: fork server alive), else its name
        (the board's health strip; any thread, no I/O)."""
        health = getattr(self.executor, "health", None)
        info = health() if health is not None else {
            "name": getattr(self.executor, "name", "?"), "mode": "", "alive": True}
        return self.busy_slots, info

    def submit(self, event: Event) -> Future[bool]:
        fut: Future[bool] = Future()
        self._inbox.put(_Submit(event, fut))
        return fut

    def restore(self, request: OutputRestoreRequested) -> OutputRestored:
        """Record a restore request, have the file step move the output back on the runner
        thread once the engine accepted it, and return the ``OutputRestored`` for the caller to
        record; raise why not (``andon.cord.suspects.answer``). Blocks: not on the event loop."""
        recorded: Future[bool] = Future()
        outcome: Future[OutputRestored] = Future()
        self._inbox.put(_Submit(request, recorded, outcome))
        recorded.result()  # the store's refusal, if any
        return outcome.result()

    def wake(self) -> None:
        """Look again now (the clock moved)."""
        self._inbox.put(_WAKE)

    def _report(self, result: ExecResult) -> None:
        self._inbox.put(result)  # an ExecResult in the inbox is an executor's report

    # -- life cycle ----------------------------------------------------------------------------

    def recover(self) -> int:
        """Rebuild the state from the log; find runs that were executing when the previous
        scheduler stopped and let the executor adopt or bury them (a run that never began is
        started again). Returns the number found."""
        self.state = self.keeper.load()  # the newest snapshot and the events after it
        self._report_problems()
        # the previous scheduler stopped before moving them, or before recording the move
        self._carry_out(owed_moves(self.state.cords), after_crash=True)
        orphans = self.state.running()
        again = []
        for run in orphans:
            if run.pipeline not in self.graph.pipelines:
                self._report(ExecResult(run.run_id, False, None, "ProcessLost",
                                        f"pipeline {run.pipeline!r} is no longer defined"))
                continue
            row = self.store.run(run.run_id)
            try:
                began = self.executor.recover(self._spec(run), row.pid or 0 if row else 0,
                                              self._report)
            except Exception as exc:
                log.exception("could not recover run %s", run.run_id)
                self._report(ExecResult(run.run_id, False, None, "ProcessLost", str(exc)))
                continue
            if not began:
                again.append(run.run_id)
        for run_id in again:
            log.info("run %s never began before the restart: starting it", run_id)
            self._launch(run_id)
        mark_all(self.graph, self.state)
        self.wake()  # one turn to decide what the log implies
        return len(orphans)

    def problems(self) -> list[dict[str, Any]]:
        """What the replay of the log (and live handling since) found inconsistent: events that
        did not fit the state before them (``andon.engine.state.Problem``), oldest first."""
        return [p.to_dict() for p in list(self.state.problems)]

    def _report_problems(self) -> None:
        problems = self.state.problems
        if not problems:
            return
        log.warning("the event log is inconsistent: %d event(s) did not fit the state before "
                    "them; andon starts anyway. %s%s", len(problems),
                    "; ".join(str(p) for p in problems[:MAX_PROBLEMS_LOGGED]),
                    f" (and {len(problems) - MAX_PROBLEMS_LOGGED} more)"
                    if len(problems) > MAX_PROBLEMS_LOGGED else "")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="andon-runner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the items already submitted, then end the loop. Runs still executing in their
        own processes go on; the next scheduler adopts them."""
        self._inbox.put(_STOP)
        if self._thread is not None:
            self._thread.join(timeout)
        if self.advisor is not None:
            self.advisor.stop()
        self.plan.close()
        if self._launcher is not None:
            self._launcher.wait(timeout)
        if self._inbox.running:
            log.warning("%d run(s) still executing; the next `andon up` adopts them",
                        self._inbox.running)

    def run_forever(self) -> None:
        while True:
            now = self.clock.now()
            # back-offs are counted from the moment the last turn decided at: one that ended while
            # that turn was still busy (committing, telling listeners) is due at once, not lost
            since = min(self._decided_at, now)
            wake = min((w for w in (next_wakeup(self.state, since, self.graph), self.plan.wake)
                        if w is not None), default=None)
            timeout = None if wake is None else self.clock.real_seconds(wake - now)
            if self.unavailable is not None:  # no decisions to wait for: look at the store
                timeout = STORE_RECHECK
            self.keeper.idle(self.state, now, lambda: self._inbox.waiting, timeout)  # if idle
            items = self._inbox.take(None if timeout is None else max(timeout, 0.0))
            self.turns += 1
            try:
                work = [i for i in items if i is not _WAKE and i is not _STOP]
                if self._store_usable(work):
                    self._turn(work)
            except Exception:  # keep the line running; the failing item is logged
                log.exception("runner turn failed")
            finally:
                self.busy_slots = sum(self.state.pool_used.values())
                self._inbox.done(len(items), sum(self.state.running_per_pipeline.values()))
            if _STOP in items:
                return

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far has been handled (tests, scripts). Runs still
        executing, and retries waiting for their back-off, do not count."""
        return self._inbox.wait(timeout, no_runs=False)

    def quiet(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted has been handled and no run is executing (retries
        waiting for their back-off may remain)."""
        return self._inbox.wait(timeout, no_runs=True)

    # -- a store that refuses writes ------------------------------------------------------------

    def _store_usable(self, items: list[object]) -> bool:
        """Whether this turn may go on: True while the store takes writes. Else refuse the
        callers, hold the reports and the runner's own events, and decide nothing."""
        problem = self.store.unavailable()
        if problem is None:
            if self.unavailable is not None:
                self._store_back()
            return True
        if self.unavailable is None:
            _log_unavailable(problem)
        self.unavailable = problem
        self._hold(items, problem)
        return False

    def _hold(self, items: list[object], exc: StoreUnavailable) -> None:
        for item in items:
            if isinstance(item, _Submit) and item.future is not None:
                if not item.future.done():
                    item.future.set_exception(exc)
            else:  # an executor's report or the runner's own event (launched, quarantined)
                self._held.append(item)

    def _store_back(self) -> None:
        log.warning("the store is back (%s); recording again", self.store.path or self.store.url)
        self.unavailable = None
        if self._stale:  # a turn was folded into the state and then refused
            self.state = self.keeper.load()
            mark_all(self.graph, self.state)
            self._stale = False
        held, self._held = self._held, []
        for item in held:
            self._inbox.put(item)
        self.wake()

    # -- one turn ------------------------------------------------------------------------------

    def _turn(self, items: list[object]) -> None:
        answers: list[tuple[Future[bool], bool]] = []
        try:
            out, committed = self._record(items, answers)
        except Exception as exc:
            self._refused(items, exc)
            if isinstance(exc, StoreUnavailable):
                return  # said once, clearly, by _refused
            raise
        for fut, value in answers:
            fut.set_result(value)
        committed += self._replan(committed)
        for listener in self._listeners:
            try:
                listener(committed)
            except Exception:
                log.exception("an event listener failed")
        for event in out.events:
            if isinstance(event, RunStarted) and event.run_id not in self._ran_inline:
                self._launch(event.run_id)
        self._ran_inline.clear()
        for run_id in out.cancel:
            try:
                (self._launcher or self.executor).cancel(run_id)
            except Exception:
                log.exception("could not cancel run %s", run_id)
        self._carry_out(out.files, asked=[i for i in items if isinstance(i, _Submit)])

    def _replan(self, committed: list[Event]) -> list[Event]:
        """Learn from the turn's events; when something happened or a timer of the plan came,
        forecast again and record the deliverables that turned at risk or came back on plan."""
        try:
            self.plan.learn(self.state, committed)
            now = self.clock.now()
            if not self.plan.stale(committed, now, idle=not self._inbox.waiting):
                return []
            events = self.plan.replan(self.state, now)
            if not events:
                return []
            stored = self.store.append(events)
            self.plan.learn(self.state, events)
            return stored
        except Exception:  # a planning problem must not stop the line
            log.exception("re-planning failed")
            return []

    def _record(self, items: list[object], answers: list[tuple[Future[bool], bool]]
                ) -> tuple[Decisions, list[Event]]:
        """Fold the items into the state and commit the events, all or nothing."""
        now = self._decided_at = self.clock.now()
        out = Decisions()
        ordered: list[Event] = []  # every event of the turn, in the order the engine saw it
        known = self.store.known_ids(i.event.id for i in items if isinstance(i, _Submit))
        for item in items:
            event: Event | None = None
            if isinstance(item, _Submit):
                if item.event.id in known:
                    if item.future:
                        answers.append((item.future, False))
                    continue
                known.add(item.event.id)
                event = item.event
            elif isinstance(item, ExecResult):
                event = ended_event(self.state.runs, item, now)
            if event is None:
                continue
            self._handle(event, now, out, ordered)
            if isinstance(item, _Submit) and item.future:
                answers.append((item.future, True))
        settle(self.graph, self.state, now, self.dispatch, out, ordered)
        if self._inline:
            self._cascade(out, ordered)
        if not ordered:  # a turn that changed nothing writes nothing (and costs no transaction)
            return out, []
        self.commits += 1
        stored = self.store.append(ordered)
        if len(stored) != len(ordered):
            # every event of a turn is new (submitted ones already in the log were skipped above):
            # one the store refused has an id that was taken, and the log now lacks it
            taken = sorted({e.id for e in ordered} - {e.id for e in stored})
            log.error("the store already held the id(s) of %d event(s) this turn derived: %s",
                      len(taken), ", ".join(taken[:MAX_PROBLEMS_LOGGED]))
        return out, stored

    def _handle(self, event: Event, now: datetime, out: Decisions, ordered: list[Event]) -> Decisions:
        self.keeper.before(self.state, event)  # the settled days it may touch, read back
        return record(self.graph, self.state, event, now, self.dispatch, out, ordered)

    def _cascade(self, out: Decisions, ordered: list[Event]) -> None:
        """In-process executor: run what was started right here and fold the results into this
        turn, so a cascade of runs is committed at once (group commit). Safe because an inline
        run dies with the scheduler: after a crash its partition is simply run again, and nothing
        that was recorded as succeeded ever runs twice."""
        pending = deque(e.run_id for e in out.events if isinstance(e, RunStarted))
        while pending and len(ordered) < MAX_INLINE_EVENTS:
            run_id = pending.popleft()
            results: list[ExecResult] = []
            spec: RunSpec | None = None
            try:  # the spec too: one whose paths leave the project's roots is refused
                spec = self._spec(self.state.runs[run_id])
                self.executor.start(spec, results.append)
            except Exception as exc:
                results.append(unstarted(run_id, exc))
            self._ran_inline.add(run_id)
            now = self.clock.now()
            events: list[Event] = []
            if spec is not None and spec.log_path.exists():  # quiet in-process runs leave no log
                events.append(RunLaunched(id=run_event_id("launched", run_id, 0), at=now, run_id=run_id,
                                          log_path=str(spec.log_path)))
            events += [e for e in (ended_event(self.state.runs, r, now) for r in results) if e is not None]
            for event in events:
                step = self._handle(event, now, out, ordered)
                pending.extend(e.run_id for e in step.events if isinstance(e, RunStarted))

    def _refused(self, items: list[object], exc: Exception) -> None:
        """The store did not take this turn's events: tell the callers, forget what the state
        assumed (rebuild it from the log) and try the executors' reports again shortly. A store
        found deleted or replaced is not read: the runner holds everything until it is back."""
        if isinstance(exc, StoreUnavailable):
            _log_unavailable(exc)
            self.unavailable, self._stale = exc, True
            self._hold(items, exc)
            return
        for item in items:
            if isinstance(item, _Submit) and item.future and not item.future.done():
                item.future.set_exception(exc)
        self.state = self.keeper.load()
        self._report_problems()
        mark_all(self.graph, self.state)
        results = [i for i in items if isinstance(i, ExecResult)]
        if results:
            time.sleep(RETRY_AFTER_STORE_ERROR)
            for item in results:
                self._inbox.put(item)

    def _carry_out(self, moves: list[FileMove], after_crash: bool = False,
                   asked: Sequence[_Submit] = ()) -> None:
        """The cord's file step, after the turn that decided ``moves`` was committed: record
        what was done with each suspect output (and with a restore found owed after a replay);
        answer each restore request ``asked`` in the turn with what came of it (``answer``: a
        request the engine refused was not carried out)."""
        restores: dict[str, object] = {}
        for move, what in self.files.carry_out(moves, self.clock.now(), after_crash):
            if isinstance(move, OutputRestoreRequested) and not after_crash:
                restores[move.id] = what
            elif isinstance(what, Event):
                self._inbox.put(_Submit(what, None))
        for item in asked:
            if item.outcome is not None:
                try:
                    item.outcome.set_result(answer(restores.get(item.event.id)))
                except AndonError as exc:
                    item.outcome.set_exception(exc)

    def _spec(self, run: Run) -> RunSpec:
        return spec_of_run(self.graph, self.state, run, self.project_dir, self.runs_dir)

    def _launch(self, run_id: str) -> None:
        try:
            spec = self._spec(self.state.runs[run_id])
        except Exception as exc:  # a spec whose paths leave the project's roots: the run failed
            return self._report(unstarted(run_id, exc))
        (self._launcher.launch if self._launcher is not None else self._start)(spec)

    def _start(self, spec: RunSpec) -> None:
        """Start the run's process and put its ``run.launched`` into the inbox (any thread)."""
        report, run_id = HeldReport(self._report), spec.run_id
        try:
            pid = self.executor.start(spec, report)
        except Exception as exc:  # could not even spawn: the run failed
            return self._report(unstarted(run_id, exc))
        self._inbox.put(_Submit(RunLaunched(id=run_event_id("launched", run_id, pid), at=self.clock.now(),
                                            run_id=run_id, pid=pid,
                                            log_path=str(spec.log_path)), None), lazy=True)
        report.release()


def _log_unavailable(exc: StoreUnavailable) -> None:
    log.error("%s: %s; the scheduler starts no run until it is back (hint: %s)",
              exc.where, exc.message, exc.hint)
