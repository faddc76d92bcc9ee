"""The andon cord inside the pure core: what a pulled cord halts, which outputs are suspect, and
when the halt ends.

A cord is a stored flag with a scope, a reason and who pulled it (STYLE.md 8). Its scope is one
partition of an asset and everything downstream of it, per partition: through every partition
mapping of the graph and through every input a run actually read. Its life is one table of legal
moves::

    pulled ──► resolving ──► released ──► recovered   (pulled ──► released: a model version
       ▲           │                                   that a promotion took out of service)
       └───────────┘  (the re-make failed: the cord stays pulled)

``pulled``: the partitions in scope are halted (queued runs are held, nothing new starts, running
runs are cancelled or, per pipeline, finish and are suspect). ``resolving``: someone resolved it and
the bad partition is being re-made. ``released``: it was re-made (or accepted as fixed); nothing is
halted by this cord any more and the affected partitions re-run, in dependency order.
``recovered``: every one of them has been re-made from good data.

``apply`` calls the functions here to change the state; they never record anything themselves.
What follows from a change (the halt described, runs to cancel, suspect outputs, a release) is
*owed*: ``decide`` records the owed events, each with a deterministic id, and applying one clears
it, so replaying the log derives exactly what was recorded. No clock, no I/O.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from andon.engine.outputs import FileMove, OutputKey, OutputState
from andon.engine.runs import Run
from andon.events import (
    CordFixAccepted,
    CordHalted,
    CordPulled,
    CordRecovered,
    CordReleased,
    CordRemakeFailed,
    CordResolved,
    Event,
    OutputSuspect,
    PartitionRef,
    PipelinePartition,
    RunCancelRequested,
)
from andon.model.errors import IllegalTransition
from andon.model.graph import Graph
from andon.model.status import RunStatus

if TYPE_CHECKING:
    from andon.engine.state import EngineState

Key = tuple[str, str]  # (asset or pipeline, partition)


class CordStatus(str, enum.Enum):
    PULLED = "pulled"
    RESOLVING = "resolving"
    RELEASED = "released"
    RECOVERED = "recovered"

    @property
    def open(self) -> bool:
        """Whether the cord still halts (pulled, or being re-made)."""
        return self in (CordStatus.PULLED, CordStatus.RESOLVING)

    def may_become(self, to: CordStatus) -> bool:
        """Whether ``LEGAL`` lets a cord go from this status to ``to``: the one test of a cord's
        moves, for the engine (``transition`` and the events it ignores) and the read models."""
        return to in LEGAL[self]


OPEN = tuple(s.value for s in CordStatus if s.open)  # the statuses of a cord that halts, as stored
LEGAL: dict[CordStatus, frozenset[CordStatus]] = {
    CordStatus.PULLED: frozenset({CordStatus.RESOLVING, CordStatus.RELEASED}),  # see above
    CordStatus.RESOLVING: frozenset({CordStatus.RELEASED, CordStatus.PULLED}),
    CordStatus.RELEASED: frozenset({CordStatus.RECOVERED}),
    CordStatus.RECOVERED: frozenset(),
}


@dataclass
class Cord:
    """One andon cord: the bad partition version, why and by whom, and what it affects."""

    cord_id: str
    asset: str
    partition: str
    version: int
    reason: str
    by: str
    pulled_at: datetime
    producer: str = ""  # the pipeline that made the bad partition; "" for a source
    status: CordStatus = CordStatus.PULLED
    halts: tuple[Key, ...] = ()  # (pipeline, partition) in its scope, in dependency order
    rerun: set[Key] = field(default_factory=set)  # affected: to re-make once released
    pending: set[Key] = field(default_factory=set)  # of ``rerun``, not re-made yet (released)
    resolutions: int = 0
    resolved_at: datetime | None = None
    manual_fix: bool = False
    released_at: datetime | None = None

    @property
    def producer_key(self) -> Key:
        return (self.producer, self.partition)


def transition(cord: Cord, to: CordStatus) -> None:
    """Move ``cord`` to ``to`` or raise IllegalTransition naming both states."""
    if not cord.status.may_become(to):
        raise IllegalTransition(
            f"cord {cord.cord_id} cannot go from {cord.status.value} to {to.value}",
            hint=f"legal next states: {', '.join(s.value for s in LEGAL[cord.status]) or 'none'}")
    cord.status = to


@dataclass
class CordBook:
    """Every cord, and the indexes the engine's hot paths look at (all empty without cords)."""

    cords: dict[str, Cord] = field(default_factory=dict)
    open_on: dict[Key, str] = field(default_factory=dict)  # (asset, partition) -> open cord
    halted: dict[Key, set[str]] = field(default_factory=dict)  # (pipeline, partition) -> cords
    bad: dict[PartitionRef, str] = field(default_factory=dict)  # bad version -> its cord
    remaking: dict[Key, str] = field(default_factory=dict)  # producer partition -> resolving cord
    recovering: dict[Key, set[str]] = field(default_factory=dict)  # partition -> released cords
    owed: dict[str, Event] = field(default_factory=dict)  # derived events to record, by id
    # new version of a bad partition -> (cord, re-make run) waiting for its blocking checks
    awaiting_checks: dict[tuple[str, str, int], tuple[str, str]] = field(default_factory=dict)
    pulled: dict[Key, int] = field(default_factory=dict)  # cords ever pulled per (asset, partition)
    outputs: dict[OutputKey, OutputState] = field(default_factory=dict)  # suspect outputs' files
    moves: dict[OutputKey, FileMove] = field(default_factory=dict)  # file moves owed (outputs.py)

    def reads_bad(self, inputs: Iterable[PartitionRef]) -> bool:
        """Whether any of these input versions is known to be bad."""
        return any(ref in self.bad for ref in inputs)

    def why(self, pipeline: str, partition: str) -> list[Cord]:
        """The open cords halting one partition of a pipeline."""
        return [self.cords[c] for c in sorted(self.halted.get((pipeline, partition), ()))]


def cord_id_for(asset: str, partition: str, n: int, check: bool = False) -> str:
    """``ASSET:PARTITION:N``, the id of the N-th cord pulled on that partition (like run ids);
    with ``check``, ``ASSET:PARTITION:check-vN``, the one cord failing blocking checks pull on
    version N (one incident per bad version, however many of its checks fail). The one function
    that makes cord ids, for the engine, the simulator, the API and the checks."""
    return f"{asset}:{partition}:{'check-v' if check else ''}{n}"


def next_cord_id(book: CordBook, asset: str, partition: str) -> str:
    """The id the next cord pulled on that partition gets."""
    return cord_id_for(asset, partition, book.pulled.get((asset, partition), 0) + 1)


def _owe(book: CordBook, event: Event) -> None:
    book.owed.setdefault(event.id, event)


def _by_rank(graph: Graph, keys: Iterable[Key]) -> list[Key]:
    rank = graph.rank
    return sorted(keys, key=lambda k: (rank.get(k[0], 0), k[0], k[1]))


def _lineage(state: EngineState) -> dict[Key, set[Key]]:
    """(asset, partition) -> the (pipeline, partition) whose runs read it. Built when a cord is
    pulled (rare) rather than kept up to date on every run start (hot)."""
    readers: dict[Key, set[Key]] = {}
    for run in state.runs.values():
        if run.status in (RunStatus.RUNNING, RunStatus.SUCCEEDED):
            for ref in run.inputs:
                readers.setdefault((ref.asset, ref.partition), set()).add(
                    (run.pipeline, run.partition))
    return readers


def downstream(graph: Graph, state: EngineState, asset: str, partition: str) -> list[Key]:
    """Every (pipeline, partition) downstream of one asset partition, transitively, through the
    graph's mappings (identity, windows, roll-ups) and the inputs runs actually read; in
    dependency order."""
    readers = _lineage(state)
    found: set[Key] = set()
    seen = {(asset, partition)}
    todo = [(asset, partition)]
    while todo:
        name, key = todo.pop()
        nexts = set(readers.get((name, key), ()))
        if name in graph.assets:
            # a mapping that reaches outside the partitions finds nothing there
            with contextlib.suppress(ValueError):
                nexts.update(graph.consumer_keys(name, key))
        for pkey in nexts - found:
            pipe = graph.pipelines.get(pkey[0])
            if pipe is None:  # no longer defined: nothing of it can run
                continue
            found.add(pkey)
            for out in pipe.outputs:
                if (out, pkey[1]) not in seen:
                    seen.add((out, pkey[1]))
                    todo.append((out, pkey[1]))
    return _by_rank(graph, found)


# -- pull --------------------------------------------------------------------------------------

def pull(graph: Graph, state: EngineState, event: CordPulled) -> None:
    """Halt everything downstream of the bad partition, note what is suspect and owe the events
    that say so. Pulling a cord that exists, or on a partition already under an open cord, changes
    nothing (the service refuses both with a clear error before they reach the log)."""
    book = state.cords
    where = (event.asset, event.partition)
    if event.cord_id in book.cords or where in book.open_on:
        return
    version = event.version or state.version(*where)
    producer = graph.producer.get(event.asset, "")
    scope = downstream(graph, state, *where)
    if producer:
        scope = [(producer, event.partition)] + [k for k in scope if k != (producer, event.partition)]
    cord = Cord(event.cord_id, event.asset, event.partition, version, event.reason, event.by,
                event.at, producer, halts=tuple(scope))
    book.cords[cord.cord_id] = cord
    book.open_on[where] = cord.cord_id
    book.pulled[where] = book.pulled.get(where, 0) + 1
    bad_ref = PartitionRef(event.asset, event.partition, version)
    book.bad.setdefault(bad_ref, cord.cord_id)
    bad = {bad_ref}  # what this cord taints, growing down the scope (dependency order)
    held: list[str] = []
    cancelled: list[Run] = []
    finishing: list[str] = []
    suspects: list[OutputSuspect] = []
    for key in scope:
        book.halted.setdefault(key, set()).add(cord.cord_id)
        pipe = graph.pipelines[key[0]]
        own = producer != "" and key == cord.producer_key
        run = state.runs.get(state.active.get(key, ""))
        if run is not None:
            if run.status is RunStatus.QUEUED:
                held.append(run.run_id)
            elif pipe.on_cord == "finish":
                finishing.append(run.run_id)
            else:
                cancelled.append(run)
            if not own:
                cord.rerun.add(key)
        if own:
            continue  # the bad partition itself stays where it is, to inspect or fix by hand
        for out in pipe.outputs:
            part = state.partitions.get((out, key[1]))
            made_by = state.runs.get(part.run_id) if part and part.run_id else None
            if part is None or made_by is None or not any(i in bad for i in made_by.inputs):
                continue
            ref = PartitionRef(out, key[1], part.version)
            bad.add(ref)
            cord.rerun.add(key)
            if ref not in book.bad:
                book.bad[ref] = cord.cord_id
                suspects.append(OutputSuspect(
                    id=f"suspect:{cord.cord_id}:{out}:{key[1]}:{part.version}", at=event.at,
                    cord_id=cord.cord_id, asset=out, partition=key[1], version=part.version,
                    pipeline=pipe.name, location=part.location, fingerprint=part.fingerprint,
                    action=pipe.bad_outputs))
    _owe(book, CordHalted(
        id=f"halted:{cord.cord_id}", at=event.at, cord_id=cord.cord_id, producer=producer,
        partitions=tuple(PipelinePartition(*k) for k in scope), held=tuple(held),
        cancelled=tuple(r.run_id for r in cancelled), finishing=tuple(finishing)))
    for run in cancelled:
        _owe(book, RunCancelRequested(
            id=f"cordcancel:{cord.cord_id}:{run.run_id}", at=event.at, run_id=run.run_id,
            requested_by=f"cord:{cord.cord_id}",
            reason=f"andon cord {cord.cord_id} pulled on {cord.asset} {cord.partition}: "
                   f"{cord.reason}"))
    for suspect in suspects:
        _owe(book, suspect)


def _unhalt(state: EngineState, key: Key, cord_id: str) -> None:
    cords = state.cords.halted.get(key)
    if cords is None:
        return
    cords.discard(cord_id)
    if not cords:
        del state.cords.halted[key]
        state.dirty.add(key)  # free again: look at it (held runs start from ``_dispatch``)


# -- resolve -----------------------------------------------------------------------------------

def resolve(graph: Graph, state: EngineState, event: CordResolved) -> Cord | None:
    """Start re-making the bad partition. Returns the cord when ``manual_fix`` accepts the data
    as it is (the caller gives the partition a new version and then calls ``accepted``); None
    otherwise. A cord that is unknown or not pulled is left alone (the service refuses both)."""
    book = state.cords
    cord = book.cords.get(event.cord_id)
    if cord is None or not cord.status.may_become(CordStatus.RESOLVING):
        return None
    transition(cord, CordStatus.RESOLVING)
    cord.resolutions += 1
    cord.resolved_at = event.at
    cord.manual_fix = event.manual_fix
    if event.manual_fix:
        return cord
    if cord.producer:
        key = cord.producer_key
        book.remaking[key] = cord.cord_id
        active = state.runs.get(state.active.get(key, ""))
        if active is None or active.status is not RunStatus.QUEUED:  # a held run will do
            state.requests[key] = "cord"
        state.dirty.add(key)
        _unhalt(state, key, cord.cord_id)
    elif state.version(cord.asset, cord.partition) > cord.version:  # announced again already
        accepted(graph, state, cord, event.at)
    return None


def fix_accepted(state: EngineState, cord: Cord, at: datetime) -> None:
    """A manual fix made the bad partition's data as it is now a new version: owe the event that
    says which, for the read models to record."""
    part = state.partitions[(cord.asset, cord.partition)]
    _owe(state.cords, CordFixAccepted(
        id=f"fixed:{cord.cord_id}:{cord.resolutions}", at=at, cord_id=cord.cord_id,
        asset=cord.asset, partition=cord.partition, version=part.version,
        location=part.location, fingerprint=part.fingerprint))


def accepted(graph: Graph, state: EngineState, cord: Cord, at: datetime, run_id: str = "") -> None:
    """The bad partition has a new version: the one point where a fix is judged good enough.
    Without blocking checks on the asset it releases the cord at once; with them it waits for
    their verdict on the new version (``checks_done``): all passed releases, one failed keeps the
    cord pulled."""
    version = state.version(cord.asset, cord.partition)
    needed = graph.gated.get(cord.asset, 0)
    ref = (cord.asset, cord.partition, version)
    if needed and state.checks_passed.get(ref, 0) < needed:
        state.cords.awaiting_checks[ref] = (cord.cord_id, run_id)
        return
    _owe(state.cords, CordReleased(
        id=f"released:{cord.cord_id}", at=at, cord_id=cord.cord_id, version=version,
        run_id=run_id, rerun=tuple(PipelinePartition(*k) for k in sorted(cord.rerun))))


def new_version(graph: Graph, state: EngineState, asset: str, partition: str,
                at: datetime) -> None:
    """A source partition under a resolving cord was announced again with new data."""
    book = state.cords
    cord = book.cords.get(book.open_on.get((asset, partition), ""))
    if cord is not None and cord.status is CordStatus.RESOLVING and not cord.producer:
        accepted(graph, state, cord, at)


def release(graph: Graph, state: EngineState, event: CordReleased) -> None:
    """Lift the halt and ask for every affected partition to be re-made; the existing re-run
    machinery orders them (a partition waits while anything above it is being re-made)."""
    book = state.cords
    cord = book.cords.get(event.cord_id)
    if cord is None or not cord.status.may_become(CordStatus.RELEASED):
        return
    transition(cord, CordStatus.RELEASED)
    cord.released_at = event.at
    where = (cord.asset, cord.partition)
    if book.open_on.get(where) == cord.cord_id:
        del book.open_on[where]
    if book.remaking.get(cord.producer_key) == cord.cord_id:
        del book.remaking[cord.producer_key]
    for key in cord.halts:
        _unhalt(state, key, cord.cord_id)
    for key in _by_rank(graph, cord.rerun):
        if key[0] in graph.pipelines:
            _rerun(state, cord, key)
    if not cord.pending:
        _recovered(book, cord, event.at)


def _rerun(state: EngineState, cord: Cord, key: Key) -> None:
    cord.pending.add(key)
    state.cords.recovering.setdefault(key, set()).add(cord.cord_id)
    active = state.runs.get(state.active.get(key, ""))
    if active is None or active.status is not RunStatus.QUEUED:  # a held run will do
        state.requests[key] = "cord"
    state.dirty.add(key)


def _recovered(book: CordBook, cord: Cord, at: datetime) -> None:
    _owe(book, CordRecovered(id=f"recovered:{cord.cord_id}", at=at, cord_id=cord.cord_id))


def remake_failed(state: EngineState, event: CordRemakeFailed) -> None:
    """The re-make failed: the cord is pulled again and halts the producer's partition again."""
    book = state.cords
    cord = book.cords.get(event.cord_id)
    if cord is None or not cord.status.may_become(CordStatus.PULLED):
        return
    transition(cord, CordStatus.PULLED)
    key = cord.producer_key
    if book.remaking.get(key) == cord.cord_id:
        del book.remaking[key]
    if state.requests.get(key) == "cord":
        del state.requests[key]
    if cord.producer:
        book.halted.setdefault(key, set()).add(cord.cord_id)


def recovered(state: EngineState, event: CordRecovered) -> None:
    cord = state.cords.cords.get(event.cord_id)
    if cord is not None and cord.status.may_become(CordStatus.RECOVERED):
        transition(cord, CordStatus.RECOVERED)


# -- runs ending -------------------------------------------------------------------------------

def _after(run: Run, moment: datetime | None) -> bool:
    """Whether ``run`` was queued or started at or after ``moment``."""
    if moment is None:
        return False
    return run.queued_at >= moment or (run.started_at is not None and run.started_at >= moment)


def run_succeeded(graph: Graph, state: EngineState, run: Run, at: datetime) -> None:
    """After a run's outputs are applied: a re-make that releases its cord, a re-run that brings
    a cord closer to recovered, or a run that read bad data (allowed to finish) whose outputs are
    suspect in turn."""
    book = state.cords
    key = (run.pipeline, run.partition)
    if book.bad and book.reads_bad(run.inputs):
        _tainted(graph, state, run, at)
        return
    cord = book.cords.get(book.remaking.get(key, ""))
    if cord is not None and _after(run, cord.resolved_at):
        accepted(graph, state, cord, at, run.run_id)
    for cord_id in list(book.recovering.get(key, ())):
        cord = book.cords[cord_id]
        if not _after(run, cord.released_at):
            continue
        cord.pending.discard(key)
        book.recovering[key].discard(cord_id)
        if not cord.pending:
            _recovered(book, cord, at)
    if not book.recovering.get(key, True):
        del book.recovering[key]


def _tainted(graph: Graph, state: EngineState, run: Run, at: datetime) -> None:
    book = state.cords
    cord_id = next(book.bad[ref] for ref in run.inputs if ref in book.bad)
    cord = book.cords[cord_id]
    pipe = graph.pipelines.get(run.pipeline)
    key = (run.pipeline, run.partition)
    for out in pipe.outputs if pipe else ():
        part = state.partitions.get((out, run.partition))
        if part is None or part.run_id != run.run_id:
            continue
        ref = PartitionRef(out, run.partition, part.version)
        if ref in book.bad:
            continue
        book.bad[ref] = cord_id
        _owe(book, OutputSuspect(
            id=f"suspect:{cord_id}:{out}:{run.partition}:{part.version}", at=at, cord_id=cord_id,
            asset=out, partition=run.partition, version=part.version, pipeline=run.pipeline,
            location=part.location, fingerprint=part.fingerprint,
            action=pipe.bad_outputs if pipe else "keep"))
    cord.rerun.add(key)
    if cord.status in (CordStatus.RELEASED, CordStatus.RECOVERED) and key not in cord.pending:
        _rerun(state, cord, key)


def run_stopped(graph: Graph, state: EngineState, run: Run, at: datetime, error: str) -> None:
    """A run failed or was cancelled: if it was the re-make of a resolving cord and no retry
    follows, the cord stays pulled."""
    book = state.cords
    key = (run.pipeline, run.partition)
    cord = book.cords.get(book.remaking.get(key, ""))
    if cord is None or not _after(run, cord.resolved_at):
        return
    pipe = graph.pipelines.get(run.pipeline)
    if run.status is RunStatus.FAILED and pipe is not None and pipe.retried(run.attempt):
        return  # a retry is coming; it may still succeed
    _owe(book, CordRemakeFailed(id=f"remake_failed:{cord.cord_id}:{run.run_id}", at=at,
                                cord_id=cord.cord_id, run_id=run.run_id, error=error))


def checks_done(graph: Graph, state: EngineState, asset: str, partition: str, version: int,
                passed: bool, at: datetime, check: str = "") -> None:
    """The blocking checks of a new version of a bad partition have all passed (release the
    cord) or one has failed (the cord stays pulled)."""
    waiting = state.cords.awaiting_checks.pop((asset, partition, version), None)
    if waiting is None:
        return
    cord = state.cords.cords.get(waiting[0])
    if cord is None or cord.status is not CordStatus.RESOLVING:
        return
    if passed:
        accepted(graph, state, cord, at, waiting[1])
    else:
        _owe(state.cords, CordRemakeFailed(
            id=f"remake_failed:{cord.cord_id}:v{version}", at=at, cord_id=cord.cord_id,
            run_id=waiting[1], error=f"blocking check {check!r} failed on version {version}"))
