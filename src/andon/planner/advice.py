"""jit's rollout as advice computed away from the decision: a snapshot of what the rollout
reads, its evaluation, and the advice's test of still being valid.

The live runner decides on its own thread by jit's rule and hold-back alone (the rollout's
what-if days are too slow there: ``planner.live.make_planner``). ``andon.live.advisor`` hands a
``Snapshot`` taken at a contended decision to a worker thread, which calls ``evaluate``; the
runner applies the ``Advice`` that comes back to a later decision only when that decision sees
the same ready runs and the same slots in use (``signature``), else it keeps the rule's order.
Pure: no threads, no clock; a snapshot shares nothing mutable with the engine's state, so the
worker may read it while the runner goes on.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from andon.model.graph import Graph
from andon.planner.policies import Jit, Planner
from andon.planner.state import (
    CordsView,
    CordView,
    Key,
    PartitionView,
    PlanningState,
    ProblemView,
    R,
    RunView,
)
from andon.planner.stats import Series, Stats

Signature = tuple[frozenset[str], tuple[tuple[str, int], ...]]


def signature(state: PlanningState, ready: Sequence[RunView]) -> Signature:
    """What a decision saw: its ready runs (ids) and the slots in use per pool. Advice computed
    for one decision is valid for a later one with the same signature."""
    return (frozenset(r.run_id for r in ready),
            tuple(sorted((p, n) for p, n in state.pool_used.items() if n)))


def contended(graph: Graph, state: PlanningState, ready: Sequence[RunView]) -> bool:
    """More runs may start than there are free slots (jit's own test; the rollout runs only
    then)."""
    free = sum(max(p.capacity - state.pool_used.get(n, 0), 0) for n, p in graph.pools.items())
    return len(ready) > free


@dataclass(frozen=True)
class Advice:
    """Start ``first`` (a run id) before the rule's order, at a decision with ``signature``
    (None: the rule's first choice stands); or leave the runs ``left_out`` waiting, to keep a
    slot idle for a run about to be ready (the rollout's idle candidate, ``Jit.wait``)."""

    signature: Signature
    first: str | None
    left_out: frozenset[str] = frozenset()


@dataclass
class _Cords:
    cords: Mapping[str, CordView] = field(default_factory=dict)
    halted: Mapping[Key, frozenset[str]] = field(default_factory=dict)


@dataclass
class Snapshot:
    """A copy of what jit's rollout reads of a decision (a ``PlanningState`` with the
    partitions of the decided day only, the queued and running runs, the slots in use), the
    ready runs, the time, and the learned statistics as their (p50, p90)."""

    signature: Signature
    now: datetime
    ready: list[RunView]
    ordered: list[str]  # the rule's order (run ids), after the hold-back
    queued: dict[str, RunView]
    executing: list[RunView]
    in_use: dict[str, int]
    days: dict[Key, PartitionView]
    busy: dict[Key, str]
    durations: dict[str, tuple[float, float]]
    arrival_offsets: dict[str, tuple[float, float]]
    due_offsets: dict[str, float]  # the planner's latest finish offsets, as it had them

    # -- the PlanningState the rollout reads --------------------------------------------------
    @property
    def partitions(self) -> Mapping[Key, PartitionView]:
        return self.days

    @property
    def runs(self) -> Mapping[str, RunView]:
        return {**self.queued, **{r.run_id: r for r in self.executing}}

    @property
    def active(self) -> Mapping[Key, str]:
        return self.busy

    @property
    def queue(self) -> Mapping[str, RunView]:
        return self.queued

    @property
    def last_end(self) -> Mapping[Key, RunView]:
        return {}

    @property
    def pool_used(self) -> Mapping[str, int]:
        return self.in_use

    @property
    def cords(self) -> CordsView:
        return _Cords()

    @property
    def problems(self) -> Sequence[ProblemView]:
        return ()

    def version(self, asset: str, key: str) -> int:
        found = self.days.get((asset, key))
        return 0 if found is None else found.version

    def running(self) -> Sequence[RunView]:
        return self.executing


def take(graph: Graph, state: PlanningState, ready: Sequence[RunView],
         ordered: Sequence[RunView], now: datetime, planner: Planner) -> Snapshot:
    """A snapshot of a decision where ``planner`` ordered ``ready`` as ``ordered``, on the
    thread that owns ``state`` (copies: the runs are the engine's mutable records). Costs O(queued + running
    + assets + pipelines)."""
    key = max((r.partition for r in ready), key=lambda k: (len(k), k))
    names = [*graph.assets]
    stats = planner.stats
    return Snapshot(
        signature=signature(state, ready), now=now,
        ready=[copy.copy(r) for r in ready], ordered=[r.run_id for r in ordered],
        queued={i: copy.copy(r) for i, r in state.queue.items()},
        executing=[copy.copy(r) for r in state.running()],
        in_use=dict(state.pool_used),
        days={(a, key): copy.copy(p) for a in names
              if (p := state.partitions.get((a, key))) is not None},
        busy=dict(state.active),
        durations={p: (stats.duration(p), stats.duration_p90(p)) for p in graph.pipelines},
        arrival_offsets={a: s.quantiles() for a, s in stats.arrivals.items()},
        due_offsets=dict(planner.offsets()))


def _stats(snap: Snapshot) -> Stats:
    """Statistics that answer what the snapshot's did (their quantiles, fixed)."""
    return Stats({p: Series(_cache=q) for p, q in snap.durations.items()},
                 {a: Series(_cache=q) for a, q in snap.arrival_offsets.items()})


def evaluate(graph: Graph, snap: Snapshot) -> Advice:
    """jit's rollout on the snapshot (``Jit._roll_out``: its deterministic budget of at most 6
    candidates x 4 rules x 2 duration models what-if days, whatever the graph's size): the run
    to start before the rule's first choice, if any, or the runs to leave waiting for a slot
    kept idle."""
    by_id = {r.run_id: r for r in snap.ready}
    base = [by_id[i] for i in snap.ordered if i in by_id]
    jit = Jit(graph, _stats(snap))
    jit._offsets = snap.due_offsets  # as the deciding planner had them (it recomputes them lazily)
    if not base or not contended(graph, snap, snap.ready) or not jit.offsets():
        return Advice(snap.signature, None)
    jit._state = snap
    free = {n: max(p.capacity - snap.in_use.get(n, 0), 0) for n, p in graph.pools.items()}
    out = jit._roll_out(list(snap.ready), list(base), free, snap.now.timestamp())
    kept = {r.run_id for r in out}
    left = frozenset(r.run_id for r in base if r.run_id not in kept)
    if left:
        return Advice(snap.signature, None, left)
    first = out[0].run_id if out and out[0].run_id != base[0].run_id else None
    return Advice(snap.signature, first)


def apply(advice: Advice, ready: Sequence[R], ordered: list[R]) -> list[R]:
    """The rule's ``ordered`` runs with the advised one first (as the rollout puts it: it may
    be one the hold-back left out); ``ordered`` unchanged when the advice is to keep it or the
    advised run is not ready; without the runs the advice leaves out."""
    if advice.left_out:
        return [r for r in ordered if r.run_id not in advice.left_out]
    if advice.first is None:
        return ordered
    chosen = next((r for r in ready if r.run_id == advice.first), None)
    if chosen is None:
        return ordered
    return [chosen, *[r for r in ordered if r is not chosen]]


def advisable(planner: Planner) -> bool:
    """Whether ``planner`` has a rollout to run off the decision (jit)."""
    return isinstance(planner, Jit)
