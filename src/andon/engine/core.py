"""The pure core: given the graph, the state and the time, decide what happens next.

``handle`` folds one event in and returns the events the engine derives from it (runs queued,
started, cancelled) plus the runs an executor must cancel. It reads no clock and does no I/O; the
live runner and the simulator both drive it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from andon.engine import access, lifecycle, serving
from andon.engine.outputs import FileMove, decided
from andon.engine.runs import Run, run_event_id, run_id_for
from andon.engine.state import EngineState, Key, apply, as_recorded
from andon.events import (
    Event,
    OutputRestoreRequested,
    PartitionRef,
    RunCancelled,
    RunQueued,
    RunStarted,
)
from andon.model.graph import Graph
from andon.model.status import RunStatus

# A dispatch order: given the queued runs that may start now, return them best first.
Policy = Callable[[Graph, EngineState, list[Run], datetime], list[Run]]


def fifo(graph: Graph, state: EngineState, ready: list[Run], now: datetime) -> list[Run]:
    """First come, first served (the queue is already in arrival order)."""
    return ready


@dataclass
class Decisions:
    """What the engine decided: events to record (already applied to the state), running runs
    whose executor must cancel them, and file moves for the cord's file step to carry out once
    the turn is recorded (``andon.engine.outputs``), in the order decided."""

    events: list[Event] = field(default_factory=list)
    cancel: list[str] = field(default_factory=list)
    files: list[FileMove] = field(default_factory=list)

    def extend(self, other: Decisions) -> None:
        self.events.extend(other.events)
        self.cancel.extend(other.cancel)
        self.files.extend(other.files)


def handle(graph: Graph, state: EngineState, event: Event, now: datetime,
           policy: Policy = fifo) -> Decisions:
    """Apply ``event`` and decide what follows from it (a restore request it accepts first)."""
    apply(graph, state, event)
    move = decided(state.cords, event) if isinstance(event, OutputRestoreRequested) else None
    out = decide(graph, state, now, policy)
    if move is not None:
        out.files.insert(0, move)
    return out


def record(graph: Graph, state: EngineState, event: Event, now: datetime, policy: Policy,
           out: Decisions, ordered: list[Event]) -> Decisions:
    """Handle ``event`` as one step of a turn: ``ordered`` (the turn's log, in the order the
    engine saw it) gets the event, as recorded (``as_recorded``: with the versions the engine gave
    new data), and then what it decided; ``out`` the decisions. The live runner and the offline
    write path (``andon.live.offline``) both record a turn this way."""
    step = handle(graph, state, event, now, policy)
    ordered.append(as_recorded(state, event))
    ordered.extend(step.events)
    out.extend(step)
    return step


def settle(graph: Graph, state: EngineState, now: datetime, policy: Policy, out: Decisions,
           ordered: list[Event]) -> None:
    """End a turn that recorded nothing (a wake-up, or only events already in the log): decide
    once anyway, since a back-off may have ended or a replay left partitions to look at."""
    if not ordered:
        step = decide(graph, state, now, policy)
        out.extend(step)
        ordered.extend(step.events)


def decide(graph: Graph, state: EngineState, now: datetime, policy: Policy = fifo) -> Decisions:
    """Queue every partition that should run, cancel what was asked, start what fits."""
    out = Decisions()
    owed = state.cords.owed
    while owed:  # what an andon cord implies (halt, cancels, suspects, release), first
        _emit(graph, state, out, next(iter(owed.values())))  # applying it clears it
    for due in access.decide(state.access, now):  # registrations owed, dates passed
        _emit(graph, state, out, due)
    sweep = lifecycle.sweep_due(graph, state.lifecycle, now)  # [sweep] every
    if sweep is not None:
        _emit(graph, state, out, sweep)
    out.cancel, state.cancels = state.cancels, []
    for run in [r for r in state.queue.values() if r.cancel_requested]:
        _emit(graph, state, out, RunCancelled(
            id=run_event_id("ended", run.run_id), at=now, run_id=run.run_id, pipeline=run.pipeline,
            partition=run.partition, attempt=run.attempt, by=str(run.extra.get("cancel_by", "")),
            reason=str(run.extra.get("cancel_reason", ""))))
    rank = graph.rank
    while state.dirty:
        todo = sorted(state.dirty, key=lambda k: (rank.get(k[0], 0), k[1]))
        state.dirty = set()
        for key in todo:
            queued = _evaluate(graph, state, key, now)
            if queued is not None:
                _emit(graph, state, out, queued)
    _dispatch(graph, state, out, now, policy)
    return out


def mark_all(graph: Graph, state: EngineState) -> None:
    """Mark every known partition for evaluation (used after a restart)."""
    for asset, key in list(state.partitions):
        state.dirty.update(graph.consumer_keys(asset, key))
    state.dirty.update(k for k in state.run_count if k[0] in graph.pipelines)
    state.dirty.update(state.requests)


def next_wakeup(state: EngineState, now: datetime, graph: Graph | None = None) -> datetime | None:
    """The earliest future moment a queued run becomes startable (retry back-off), an access
    date passes (an idle scheduler wakes to expire it) or, given the ``graph``, a scheduled
    sweep is due, if any."""
    times = [r.not_before for r in state.queue.values() if r.not_before and r.not_before > now]
    expiry = state.access.soonest
    if expiry is not None:
        times.append(max(expiry, now))
    sweep = lifecycle.next_sweep(graph, state.lifecycle, now) if graph is not None else None
    if sweep is not None:
        times.append(sweep)
    return min(times) if times else None


def at_rest(state: EngineState) -> bool:
    """Whether the engine will start nothing more until a new event comes: no run queued (a
    retry waiting for its back-off is a queued run) or running, and nothing a cord owes. A
    partition whose inputs are missing is not work: only new data (an event) can start it. The
    engine's half of "nothing more can run"; ``andon.serve.rest.look`` adds the shell's (its
    threads idle) for those that wait for a line to finish."""
    return not state.active and not state.queue and not state.cords.owed


def _emit(graph: Graph, state: EngineState, out: Decisions, event: Event) -> None:
    apply(graph, state, event)
    out.events.append(event)
    move = decided(state.cords, event)
    if move is not None:
        out.files.append(move)


def current_inputs(graph: Graph, state: EngineState, pipeline: str,
                   key: str) -> tuple[PartitionRef, ...] | None:
    """The versions a run of ``pipeline`` for ``key`` would read now; None when one is missing."""
    refs = []
    for asset, part in graph.input_keys(pipeline, key):
        version = state.version(asset, part)
        if version == 0 or (graph.gated and not checked(graph, state, asset, part, version)):
            return None
        refs.append(PartitionRef(asset, part, version))
    if graph.serving and pipeline in graph.serving:  # andon.serving inputs: the artifacts last
        served = serving.refs(graph, state, pipeline, key)
        if served is None or (graph.gated and not all(
                checked(graph, state, r.asset, r.partition, r.version) for r in served)):
            return None
        refs.extend(served)
    return tuple(refs)


def checked(graph: Graph, state: EngineState, asset: str, key: str, version: int) -> bool:
    """Whether this version may be read: every blocking check of the asset has passed on it
    (assets without blocking checks always may)."""
    needed = graph.gated.get(asset, 0)
    return needed == 0 or state.checks_passed.get((asset, key, version), 0) >= needed


def _busy_upstream(graph: Graph, state: EngineState, pipeline: str, key: str,
                   deep: bool) -> Key | None:
    """An upstream partition whose pipeline is queued or running for it, if any: a direct input
    or, when ``deep``, any partition further up.

    Its new version will change (directly or through the stale partitions in between) what this
    partition reads; running now would read a mix of new and stale inputs and run again later.
    """
    if not state.active:
        return None
    seen: set[Key] = set()
    todo = [(pipeline, key)]
    while todo:
        name, part = todo.pop()
        try:
            upstream = graph.input_keys(name, part)
        except ValueError:  # a window reaching before the first partition: nothing there
            continue
        for asset, up_key in upstream:
            producer = graph.producer.get(asset)
            if producer is None or (producer, up_key) in seen:
                continue
            if (producer, up_key) in state.active:
                return producer, up_key
            seen.add((producer, up_key))
            if deep:
                todo.append((producer, up_key))
    return None


def _evaluate(graph: Graph, state: EngineState, key: Key, now: datetime) -> RunQueued | None:
    pipeline, part = key
    pipe = graph.pipelines.get(pipeline)
    if pipe is None or key in state.active:
        return None
    book = state.cords
    if book.halted and key in book.halted:
        return None  # an andon cord halts it; looked at again when the cord is released
    if state.lifecycle.freezes and lifecycle.frozen(state.lifecycle, pipeline, now):
        return None  # deprecated and past its date: no new runs (engine/lifecycle.py)
    try:
        inputs = current_inputs(graph, state, pipeline, part)
    except ValueError:
        return None  # a key outside the pipeline's partitions (before its start)
    if inputs is None:
        return None
    if book.bad and book.reads_bad(inputs):
        if graph.serving:  # or when a model it reads as serving is promoted
            serving.wait(graph, state, pipeline, part)
        return None  # it would read bad data; looked at again when that input is re-made
    request = state.requests.get(key)
    last = state.last_end.get(key)
    attempt, not_before = 1, None
    if request:
        reason = request
    elif last is None:
        reason = "new_data"
    elif last.status is RunStatus.SUCCEEDED:
        if pipe.on_upstream_change == "ignore" or serving.same_inputs(
                graph, pipeline, state.last_ok_inputs.get(key), inputs):
            return None
        reason = "upstream_changed"
    elif not serving.same_inputs(graph, pipeline, last.inputs, inputs):
        # failed or cancelled, but the inputs have changed since
        if key in state.last_ok_inputs and pipe.on_upstream_change == "ignore":
            return None
        reason = "upstream_changed" if key in state.last_ok_inputs else "new_data"
    elif last.status is RunStatus.FAILED and pipe.retried(last.attempt):
        reason, attempt = "retry", last.attempt + 1
        not_before = (last.ended_at or now) + pipe.retry_backoff(last.attempt)
    else:
        return None  # failed for good or cancelled, with the same inputs: wait for a person
    # Wait while an input is being (re)made. Looking all the way up costs a walk over the
    # ancestors, so it is done for re-makes only: data flowing down for the first time cannot
    # have a stale partition between it and a run in flight.
    busy = _busy_upstream(graph, state, pipeline, part, deep=last is not None or bool(request))
    if busy is not None:
        state.waiting.setdefault(busy, set()).add(key)  # looked at again when ``busy`` ends
        return None
    n = state.run_count.get(key, 0) + 1
    run_id = run_id_for(pipeline, part, n)
    while state.taken_runs and run_id in state.taken_runs:  # an old client id holds its ids
        n += 1
        run_id = run_id_for(pipeline, part, n)
    return RunQueued(id=run_event_id("queued", run_id), at=now, run_id=run_id, pipeline=pipeline,
                     partition=part, attempt=attempt, reason=reason, not_before=not_before)


def _dispatch(graph: Graph, state: EngineState, out: Decisions, now: datetime,
              policy: Policy) -> None:
    free = {name: pool.capacity - state.pool_used.get(name, 0) for name, pool in graph.pools.items()}
    if not state.queue or all(v <= 0 for v in free.values()):
        return
    # only runs that could start now are ranked: a policy's work stays small when a pool is full
    ready = []
    for r in state.queue.values():
        pipe = graph.pipelines.get(r.pipeline)
        if pipe is not None and free.get(pipe.pool, 0) >= pipe.slots and (
                r.not_before is None or r.not_before <= now):
            ready.append(r)
    book = state.cords
    if book.halted:  # held by an andon cord: they stay queued, and start once it is released
        ready = [r for r in ready if (r.pipeline, r.partition) not in book.halted]
    if state.lifecycle.freezes:  # queued before its date passed: it stays queued, never starts
        ready = [r for r in ready if not lifecycle.frozen(state.lifecycle, r.pipeline, now)]
    for run in policy(graph, state, ready, now):
        pipe = graph.pipelines[run.pipeline]
        if free.get(pipe.pool, 0) < pipe.slots:
            continue
        if pipe.max_concurrent and state.running_per_pipeline.get(pipe.name, 0) >= pipe.max_concurrent:
            continue
        inputs = current_inputs(graph, state, run.pipeline, run.partition)
        if inputs is None or (book.bad and book.reads_bad(inputs)):
            continue
        free[pipe.pool] -= pipe.slots
        _emit(graph, state, out, RunStarted(
            id=run_event_id("started", run.run_id), at=now, run_id=run.run_id, pipeline=run.pipeline,
            partition=run.partition, attempt=run.attempt, pool=pipe.pool, slots=pipe.slots,
            inputs=inputs, code_version=graph.code_version, commit=graph.commit))
        if state.lifecycle.notices:  # reading deprecated data works, and warns
            for warning in lifecycle.deprecated_reads(state.lifecycle, run.run_id, run.pipeline,
                                                      (i.asset for i in inputs), now):
                _emit(graph, state, out, warning)
        if all(v <= 0 for v in free.values()):
            break


def replay(graph: Graph, events: Iterable[Event]) -> EngineState:
    """Rebuild the state from the log (no decisions are taken)."""
    state = EngineState()
    for event in events:
        apply(graph, state, event)
    return state
