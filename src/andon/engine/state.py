"""The engine's state and ``apply``, the one function that folds an event into it.

``apply`` is deterministic and does no I/O: replaying the log through it rebuilds the state exactly.
It also marks which (pipeline, partition) pairs must be looked at again by ``decide``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from andon.engine import access, cords, lifecycle, serving
from andon.engine.access import AccessBook
from andon.engine.cords import CordBook
from andon.engine.lifecycle import LifecycleBook
from andon.engine.outputs import apply_output
from andon.engine.runs import (
    Run,
    check_transition,
    run_number,
    run_of_event_id,
    transition,
)
from andon.engine.serving import ServingBook
from andon.events import (
    OUTPUT_EVENTS,
    CheckFailed,
    CheckPassed,
    CordPulled,
    CordRecovered,
    CordReleased,
    CordRemakeFailed,
    CordResolved,
    Event,
    PartitionAvailable,
    PartitionRef,
    RunCancelled,
    RunCancelRequested,
    RunFailed,
    RunQueued,
    RunRequested,
    RunStarted,
    RunSucceeded,
)
from andon.events.access import ACCESS_EVENTS
from andon.events.lifecycle import ObjectDeprecated
from andon.events.models import ModelPromoted
from andon.events.serving import CordServingMoved
from andon.model.errors import IllegalTransition
from andon.model.graph import Graph
from andon.model.status import RunStatus

Key = tuple[str, str]  # (asset or pipeline, partition)
RunEvent = RunStarted | RunSucceeded | RunFailed | RunCancelled


@dataclass(frozen=True, slots=True)
class Problem:
    """An event of the log that does not fit the state the events before it built (the log is
    inconsistent, e.g. a run that ends without having been queued): ``apply`` reports it here
    instead of raising, so a replay always finishes. ``position`` is the event's place in the
    replay (1 = the first event folded in)."""

    position: int
    event_id: str
    event: str  # the event's name
    run_id: str  # the run (or cord) it is about, when it is about one
    message: str  # what does not fit, and what ``apply`` did about it

    def to_dict(self) -> dict[str, object]:
        return {"position": self.position, "event_id": self.event_id, "event": self.event,
                "run_id": self.run_id, "message": self.message}

    def __str__(self) -> str:
        return f"event {self.position} ({self.event} {self.event_id!r}): {self.message}"


@dataclass(slots=True)
class PartitionState:
    """The current version of one asset partition and where it came from."""

    version: int
    at: datetime
    fingerprint: str = ""
    run_id: str = ""  # empty for source data (and data accepted as fixed by hand)
    location: str = ""  # relative to the project, as recorded


@dataclass
class EngineState:
    """Everything the engine knows, derived from the event log."""

    partitions: dict[Key, PartitionState] = field(default_factory=dict)
    runs: dict[str, Run] = field(default_factory=dict)
    active: dict[Key, str] = field(default_factory=dict)  # (pipeline, key) -> queued/running run
    queue: dict[str, Run] = field(default_factory=dict)  # queued runs in arrival order
    last_end: dict[Key, Run] = field(default_factory=dict)  # last ended run per (pipeline, key)
    last_ok_inputs: dict[Key, tuple[PartitionRef, ...]] = field(default_factory=dict)
    run_count: dict[Key, int] = field(default_factory=dict)
    requests: dict[Key, str] = field(default_factory=dict)  # pending manual/backfill requests
    pool_used: dict[str, int] = field(default_factory=dict)
    running_per_pipeline: dict[str, int] = field(default_factory=dict)
    dirty: set[Key] = field(default_factory=set)  # (pipeline, key) to evaluate
    serving: ServingBook = field(default_factory=ServingBook)  # models read as serving
    # (pipeline, key) -> partitions downstream of it that wait for it to end (set by ``decide``)
    waiting: dict[Key, set[Key]] = field(default_factory=dict)
    cancels: list[str] = field(default_factory=list)  # running runs to cancel (commands)
    cords: CordBook = field(default_factory=CordBook)  # andon cords and what they halt
    access: AccessBook = field(default_factory=AccessBook)  # access requests and consumers
    lifecycle: LifecycleBook = field(default_factory=LifecycleBook)  # frozen pipelines
    # (asset, partition, version) -> blocking checks passed on it
    checks_passed: dict[tuple[str, str, int], int] = field(default_factory=dict)
    seq: int = 0
    events_applied: int = 0
    problems: list[Problem] = field(default_factory=list)  # events that did not fit (see Problem)
    # run ids whose events' ids another event of the log holds (a client id from before client
    # ids had their own namespace): no run may take them, or its events would be dropped
    taken_runs: set[str] = field(default_factory=set)

    def version(self, asset: str, key: str) -> int:
        part = self.partitions.get((asset, key))
        return part.version if part else 0

    def running(self) -> list[Run]:
        """Runs executing now (looked up through the active ones: the history can be long)."""
        runs = (self.runs.get(run_id) for run_id in self.active.values())
        return [r for r in runs if r is not None and r.status is RunStatus.RUNNING]


def _mark_consumers(graph: Graph, state: EngineState, asset: str, key: str) -> None:
    if asset in graph.assets:
        state.dirty.update(graph.consumer_keys(asset, key))


def next_version(version: int, known: str, fingerprint: str, from_run: bool) -> int | None:
    """The version new data of a partition gets when its current one is ``version`` with
    fingerprint ``known`` (0: none yet): the next number, or None for the same source data
    announced again (the same non-empty fingerprint), which changes nothing. A run's output is
    always a new version (it was re-made).

    The one rule that numbers versions: ``apply`` decides with it, and an event the engine
    records carries the number decided (``as_recorded``). The read models apply it to their
    stored current row only for an event recorded without the engine (appended to the store
    directly, as the store's own tests do), so they never number versions by a rule of their
    own (``andon.store.projection``)."""
    if version and not from_run and fingerprint and fingerprint == known:
        return None
    return version + 1


def _new_version(graph: Graph, state: EngineState, asset: str, key: str, at: datetime,
                 fingerprint: str, run_id: str, location: str = "") -> None:
    current = state.partitions.get((asset, key))
    version = next_version(current.version if current else 0,
                           current.fingerprint if current else "", fingerprint, bool(run_id))
    if version is None:
        return  # the same source data announced again: nothing changed
    state.partitions[(asset, key)] = PartitionState(version, at, fingerprint, run_id, location)
    _mark_consumers(graph, state, asset, key)
    if state.cords.open_on:
        cords.new_version(graph, state, asset, key, at)


def _accept_as_fixed(graph: Graph, state: EngineState, asset: str, key: str,
                     at: datetime) -> None:
    """A cord resolved with a manual fix: the data as it is now is a new, good version."""
    current = state.partitions.get((asset, key))
    state.partitions[(asset, key)] = PartitionState(
        (current.version if current else 0) + 1, at, current.fingerprint if current else "", "",
        current.location if current else "")
    _mark_consumers(graph, state, asset, key)


def _inputs_now(graph: Graph, state: EngineState, pipeline: str,
                key: str) -> tuple[PartitionRef, ...]:
    """The input versions present when a run is queued (replaced by what it read once started)."""
    if pipeline not in graph.pipelines:
        return ()
    return tuple(PartitionRef(a, k, state.version(a, k)) for a, k in graph.input_keys(pipeline, key))


def _end(graph: Graph, state: EngineState, run: Run, to: RunStatus, at: datetime) -> None:
    was_running = run.status is RunStatus.RUNNING
    transition(run, to)
    run.ended_at = at
    key = (run.pipeline, run.partition)
    state.queue.pop(run.run_id, None)
    if state.active.get(key) == run.run_id:
        del state.active[key]
    state.last_end[key] = run
    if was_running:
        state.pool_used[run.pool] = state.pool_used.get(run.pool, 0) - run.slots
        state.running_per_pipeline[run.pipeline] -= 1
    state.dirty.add(key)
    if run.run_id in state.cancels:  # it ended: there is nothing left to cancel
        state.cancels = [r for r in state.cancels if r != run.run_id]
    # partitions downstream that waited while this one was being made look again
    state.dirty.update(state.waiting.pop(key, ()))
    pipe = graph.pipelines.get(run.pipeline)
    for out in pipe.outputs if pipe else ():
        _mark_consumers(graph, state, out, run.partition)


def _check_result(graph: Graph, state: EngineState, event: CheckPassed | CheckFailed) -> None:
    """A blocking check's verdict on a version: once all of the asset's blocking checks passed,
    its consumers may read it (and a cord waiting on it is released); a failure keeps it unread
    (the check runner pulls the cord on it)."""
    needed = graph.gated.get(event.asset, 0)
    if not event.blocking or not needed:
        return
    ref = (event.asset, event.partition, event.version)
    if isinstance(event, CheckFailed):
        cords.checks_done(graph, state, *ref, passed=False, at=event.at, check=event.check)
        return
    state.checks_passed[ref] = state.checks_passed.get(ref, 0) + 1
    if state.checks_passed[ref] == needed:
        _mark_consumers(graph, state, event.asset, event.partition)
        cords.checks_done(graph, state, *ref, passed=True, at=event.at)


def _problem(state: EngineState, event: Event, run_id: str, message: str) -> None:
    state.problems.append(Problem(state.events_applied, event.id, event.name, run_id, message))


def _taken(state: EngineState, event: Event) -> None:
    run_id = run_of_event_id(event.id)
    if run_id:
        state.taken_runs.add(run_id)
        _problem(state, event, run_id,
                 f"the id {event.id!r} is one andon derives for run {run_id}'s events (a client "
                 "id from before they were stored as client:ID): no run will be numbered "
                 f"{run_id}")


def _queue(graph: Graph, state: EngineState, run_id: str, pipeline: str, partition: str,
           attempt: int, reason: str, at: datetime, not_before: datetime | None = None) -> Run:
    key = (pipeline, partition)
    state.seq += 1
    run = Run(run_id, pipeline, partition, attempt, reason, at, state.seq, not_before=not_before)
    run.inputs = _inputs_now(graph, state, pipeline, partition)
    state.runs[run_id] = run
    state.queue[run_id] = run
    state.active[key] = run_id
    # never below the run's own number: the next run's id (and its events' ids) must be new
    state.run_count[key] = max(state.run_count.get(key, 0) + 1, run_number(run_id))
    return run


def _start(state: EngineState, run: Run, at: datetime, inputs: tuple[PartitionRef, ...],
           pool: str, slots: int) -> None:
    transition(run, RunStatus.RUNNING)
    run.started_at, run.inputs = at, inputs
    run.pool, run.slots = pool, slots
    state.queue.pop(run.run_id, None)
    state.pool_used[run.pool] = state.pool_used.get(run.pool, 0) + run.slots
    state.running_per_pipeline[run.pipeline] = state.running_per_pipeline.get(run.pipeline, 0) + 1


def _run_of(graph: Graph, state: EngineState, event: RunEvent) -> Run:
    """The run ``event`` is about. One the log never queued is adopted and reported: queued at
    the event's time (and started then, when the event ends it), because the event says it
    happened, and what the run made must not be made again."""
    run = state.runs.get(event.run_id)
    if run is not None:
        return run
    gap = "run.queued" if isinstance(event, RunStarted) else "run.queued and run.started"
    _problem(state, event, event.run_id,
             f"run {event.run_id} is unknown (no {gap} before it in the log): adopted as "
             "begun at this event's time")
    key = (event.pipeline, event.partition)
    other, count = state.active.get(key), state.run_count.get(key, 0)
    run = _queue(graph, state, event.run_id, event.pipeline, event.partition, event.attempt,
                 "unknown", event.at)
    if other is not None:  # a run the log did queue stays the partition's active one
        state.active[key] = other
    number = run_number(event.run_id)
    state.run_count[key] = max(count, number) if number else count + 1
    if not isinstance(event, RunStarted):
        pipe = graph.pipelines.get(event.pipeline)
        _start(state, run, event.at, event.inputs if not isinstance(event, RunCancelled) else (),
               pipe.pool if pipe else "default", pipe.slots if pipe else 1)
    return run


def _move(state: EngineState, event: Event, run: Run, to: RunStatus) -> bool:
    """Whether ``run`` may go to ``to``; an illegal move is reported and the event skipped."""
    try:
        check_transition(run, to)
    except IllegalTransition as exc:
        _problem(state, event, run.run_id, f"{exc.message}: event skipped")
        return False
    return True


def apply(graph: Graph, state: EngineState, event: Event) -> None:
    """Fold ``event`` into ``state`` (the one door for state changes). It never raises on an
    inconsistent log: an event that does not fit is reported in ``state.problems``."""
    state.events_applied += 1
    if state.cords.owed:  # a derived event the engine owed is now in the log
        state.cords.owed.pop(event.id, None)
    if isinstance(event, PartitionAvailable):
        if ":" in event.id:  # the id of a run's own event (``_taken`` tells): an old client id
            _taken(state, event)
        _new_version(graph, state, event.asset, event.partition, event.at, event.fingerprint, "",
                     event.location)
    elif isinstance(event, RunRequested):
        lifecycle.apply(graph, state.lifecycle, event)  # a scheduled sweep's period
        key = (event.pipeline, event.partition)
        active = state.runs.get(state.active.get(key, ""))
        if active is None or active.status is not RunStatus.QUEUED:  # a queued run will do
            state.requests[key] = event.reason
            state.dirty.add(key)
    elif isinstance(event, RunQueued):
        if event.run_id in state.runs:
            _problem(state, event, event.run_id,
                     f"run {event.run_id} was queued already: event skipped")
            return
        _queue(graph, state, event.run_id, event.pipeline, event.partition, event.attempt,
               event.reason, event.at, event.not_before)
        if event.reason in ("manual", "backfill", "cord", "schedule"):
            state.requests.pop((event.pipeline, event.partition), None)
    elif isinstance(event, RunStarted):
        run = _run_of(graph, state, event)
        if _move(state, event, run, RunStatus.RUNNING):
            _start(state, run, event.at, event.inputs, event.pool, event.slots)
    elif isinstance(event, RunSucceeded):
        run = _run_of(graph, state, event)
        if not _move(state, event, run, RunStatus.SUCCEEDED):
            return
        _end(graph, state, run, RunStatus.SUCCEEDED, event.at)
        state.last_ok_inputs[(run.pipeline, run.partition)] = run.inputs
        for out in event.outputs:
            _new_version(graph, state, out.asset, out.partition, event.at, out.fingerprint,
                         run.run_id, out.location)
        if graph.model_producer:
            serving.run_succeeded(graph, state, run, event.outputs)
        if state.cords.cords:
            cords.run_succeeded(graph, state, run, event.at)
    elif isinstance(event, RunFailed):
        run = _run_of(graph, state, event)
        if not _move(state, event, run, RunStatus.FAILED):
            return
        _end(graph, state, run, RunStatus.FAILED, event.at)
        if state.cords.remaking:
            cords.run_stopped(graph, state, run, event.at,
                              f"{event.error_type}: {event.error_message}".strip(": "))
    elif isinstance(event, RunCancelled):
        run = _run_of(graph, state, event)
        if not _move(state, event, run, RunStatus.CANCELLED):
            return
        _end(graph, state, run, RunStatus.CANCELLED, event.at)
        if state.cords.remaking:
            cords.run_stopped(graph, state, run, event.at, f"cancelled {event.reason}".strip())
    elif isinstance(event, CORD_MOVES):
        try:
            _apply_cord(graph, state, event)
        except (IllegalTransition, KeyError) as exc:  # e.g. a cord resolved that was never pulled
            message = exc.message if isinstance(exc, IllegalTransition) else f"unknown {exc}"
            _problem(state, event, getattr(event, "cord_id", ""), f"{message}: event skipped")
    elif isinstance(event, OUTPUT_EVENTS):
        apply_output(state.cords, event)
    elif isinstance(event, (CheckPassed, CheckFailed)):
        _check_result(graph, state, event)
    elif isinstance(event, ACCESS_EVENTS):
        misfit = access.apply(state.access, event)
        if misfit:
            _problem(state, event, "", f"{misfit}: event skipped")
    elif isinstance(event, ModelPromoted):
        serving.promoted(graph, state, event)
    elif isinstance(event, CordServingMoved):
        serving.serving_moved(state, event)
    elif isinstance(event, ObjectDeprecated):
        lifecycle.apply(graph, state.lifecycle, event)
    elif isinstance(event, RunCancelRequested):
        target = state.runs.get(event.run_id)
        if target is not None and not target.status.ended:
            target.cancel_requested = True
            target.extra["cancel_by"] = event.requested_by
            target.extra["cancel_reason"] = event.reason
            if target.status is RunStatus.RUNNING and target.run_id not in state.cancels:
                state.cancels.append(target.run_id)


def as_recorded(state: EngineState, event: Event) -> Event:
    """``event`` as the log records it once ``apply`` folded it into ``state``: new data carries
    the version the engine gave it (a source's ``version``; a run's ``versions``, one per output
    the run made), so the read models write the engine's number and decide none themselves."""
    if isinstance(event, PartitionAvailable):
        return replace(event, version=state.version(event.asset, event.partition))
    if isinstance(event, RunSucceeded) and event.outputs:
        made = [state.partitions.get((o.asset, o.partition)) for o in event.outputs]
        return replace(event, versions=tuple(
            PartitionRef(o.asset, o.partition, part.version) for o, part in zip(event.outputs, made)
            if part is not None and part.run_id == event.run_id))
    return event


CORD_MOVES = (CordPulled, CordResolved, CordReleased, CordRemakeFailed, CordRecovered)


def _apply_cord(graph: Graph, state: EngineState, event: Event) -> None:
    if isinstance(event, CordPulled):
        cords.pull(graph, state, event)
    elif isinstance(event, CordResolved):
        cord = cords.resolve(graph, state, event)
        if cord is not None:
            _accept_as_fixed(graph, state, cord.asset, cord.partition, event.at)
            cords.fix_accepted(state, cord, event.at)
            cords.accepted(graph, state, cord, event.at)
    elif isinstance(event, CordReleased):
        cords.release(graph, state, event)
    elif isinstance(event, CordRemakeFailed):
        cords.remake_failed(state, event)
    elif isinstance(event, CordRecovered):
        cords.recovered(state, event)
