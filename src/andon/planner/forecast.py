"""The forecast: when each upcoming deliverable is predicted to start and finish, its due time,
its slack, whether it is at risk, and why.

Pure: graph, engine state, statistics, a policy's order and ``now`` in; a ``Forecast`` out. The
method is a deterministic forward list-schedule of the work known now: running runs end after
their remaining predicted time, queued runs and the partitions not queued yet (everything a
deliverable still needs) start when their inputs exist and their pool has room, in the policy's
order. A missing source partition arrives at its learned (or declared) p50 after the partition
end; once that moment passes without the data, it is predicted later than now by the usual
lateness (p90 - p50, at least a quarter of the p50 and 5 minutes), so a deliverable with little
slack turns at risk the moment its source is overdue.

Predicted times that are anchored to ``now`` (waiting for something overdue) move with the clock:
``Forecast.wake`` is the next moment the forecast changes without any event (a source's p50
passes, a run outlasts its p50 or p90, a deliverable that slides reaches its due time), so a live
shell can sleep until then instead of re-planning periodically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import lru_cache, partial
from typing import TYPE_CHECKING

from andon.events.codec import format_time
from andon.model.durations import format_duration
from andon.model.graph import Graph
from andon.model.partitions import Partitions
from andon.model.status import RunStatus
from andon.model.timefmt import plan_time
from andon.planner.critical import Step, critical_path
from andon.planner.memo import Memo
from andon.planner.schedule import (
    ARRIVAL,
    BLOCKED,
    FUTURE,
    INF,
    QUEUED,
    RUNNING,
    Node,
    Order,
    Schedule,
)
from andon.planner.state import PlanningState
from andon.planner.views import PlannedDeliverable, PlanStep, PlanView

if TYPE_CHECKING:
    from andon.planner.policies import Planner

LOOKBACK = 3 * 86400.0  # partitions whose window began up to this long ago are looked at
STALE = 86400.0  # an undelivered partition drops out once its due time is this far past
RECENT = 86400.0  # a delivered one stays in the plan this long after its delivery
LATE_FRACTION = 0.25  # an overdue source: a quarter of its usual offset later, at least ...
MIN_LATE = 300.0  # ... five minutes
EPS = 0.001  # wake just after a crossing, not on it (finish == due is still on time)


@dataclass(frozen=True)
class Deliverable:
    """The forecast of one partition of a pipeline with a deadline. Times are epoch seconds;
    ``predicted_finish`` is None when it cannot finish without a person (a failed run)."""

    pipeline: str
    partition: str
    owner: str
    state: str  # waiting | queued | running | blocked | delivered
    due: float
    predicted_start: float | None
    predicted_finish: float | None
    delivered_at: float | None
    slides: bool  # waits for something overdue: its predicted times move with the clock
    why: Callable[[], str] | str = field(default="", compare=False, repr=False)
    path: Callable[[], tuple[Step, ...]] | tuple[Step, ...] = field(
        default=(), compare=False, repr=False)

    # Worded and walked when first asked (most are never shown), then kept in place of the
    # callable: no lock (``cached_property`` takes one, which a forked child could find held:
    # ``live.forecaster``), and the schedule's nodes are let go.
    @property
    def reason(self) -> str:
        """What it waits for, in a sentence."""
        why = self.why
        if not isinstance(why, str):
            why = why()
            object.__setattr__(self, "why", why)
        return why

    @property
    def critical_path(self) -> tuple[Step, ...]:
        """The chain of upstream partitions that decides its finish, first to last (itself)."""
        path = self.path
        if not isinstance(path, tuple):
            path = path()
            object.__setattr__(self, "path", path)
        return path

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None

    @property
    def at_risk(self) -> bool:
        """Not delivered and predicted to finish after its due time (or never)."""
        return not self.delivered and (self.predicted_finish is None or self.predicted_finish > self.due)

    @property
    def slack(self) -> float | None:
        """Seconds between the (predicted) finish and the due time; negative when late."""
        finish = self.delivered_at if self.delivered else self.predicted_finish
        return None if finish is None else self.due - finish


@dataclass(frozen=True)
class Forecast:
    """Every upcoming deliverable (best first: by due time), as of ``now`` (epoch seconds)."""

    now: float
    deliverables: tuple[Deliverable, ...]
    wake: float | None  # the next moment the forecast changes without an event

    def at(self, now: float) -> Forecast:
        """This forecast seen at a later ``now``: what slides moves with the clock."""
        delta = now - self.now
        if delta <= 0:
            return self
        moved = tuple(replace(d, predicted_start=_plus(d.predicted_start, delta),
                              predicted_finish=_plus(d.predicted_finish, delta),
                              path=partial(_moved, d, delta))
                      if d.slides else d for d in self.deliverables)
        return Forecast(now, moved, self.wake)

    def view(self, policy: str = "", paths: bool = True) -> PlanView:
        """The plan as its readers get it (``andon plan``, ``GET /api/v1/plan``): a view, which
        reads as its JSON object; ``paths``: with each deliverable's critical path (the board's
        lines and /metrics go without, and it is never walked)."""
        return PlanView(_text(self.now), policy, sum(d.at_risk for d in self.deliverables),
                        tuple(PlannedDeliverable(
                            d.pipeline, d.partition, d.owner, d.state, _iso(d.predicted_start),
                            _iso(d.predicted_finish), _text(d.due), _iso(d.delivered_at),
                            None if d.slack is None else round(d.slack, 3), d.at_risk, d.reason,
                            tuple(_step(s) for s in d.critical_path) if paths else None)
                            for d in self.deliverables))


def _plus(value: float | None, delta: float) -> float | None:
    return None if value is None else value + delta


def _moved(d: Deliverable, delta: float) -> tuple[Step, ...]:
    """The critical path of ``d`` seen ``delta`` seconds later: what slides moves."""
    return tuple(s.shifted(delta) if s.slides else s for s in d.critical_path)


def _step(s: Step) -> PlanStep:
    return PlanStep(s.kind, s.name, s.partition, s.state, _iso(s.start), _iso(s.finish),
                    _iso(s.latest_finish))


def _iso(value: float | None) -> str | None:
    return None if value is None else _text(value)


def _text(value: float) -> str:
    """An epoch time of the forecast in the log's text form (UTC)."""
    return format_time(datetime.fromtimestamp(value, UTC))


def forecast(graph: Graph, state: PlanningState, planner: Planner, now: datetime,
             order: Order | None = None, memo: Memo | None = None) -> Forecast:
    """Predict every upcoming deliverable: partitions of pipelines with a deadline whose window
    began in the last few days, not yet delivered (and not long overdue) or delivered recently.
    Ready work is ranked by ``order`` (default: ``ranking(planner)``), which must have no side
    effects: it is asked about moments in the future. ``memo``: the graph's lookups, kept
    across forecasts of ``graph`` (a live plan holds one)."""
    t, memo = now.timestamp(), memo or Memo(graph)
    wanted = _deliverables(memo, state, t)
    if not wanted:
        return Forecast(t, (), None)
    build = _Builder(graph, state, planner, t, memo)
    for pipe, key, _due, delivered in wanted:
        if delivered is None:
            build.work((pipe, key))
    for busy in list(state.active):  # queued and running runs take capacity too
        if busy[0] in graph.pipelines:
            build.work(busy)
    build.link()
    Schedule(build.nodes.values(), build.arrivals.values(), graph, order or ranking(planner),
             t).run(t)
    out = []
    wake = build.breaks
    latest = partial(_latest_finish, graph, planner.offsets())
    for pipe, key, due, delivered in wanted:
        d = _result(build, graph, state, pipe, key, due, delivered, t, latest)
        out.append(d)
        if not d.delivered and not d.at_risk and d.slides and d.predicted_finish is not None:
            wake = min(wake, t + (due - d.predicted_finish) + EPS)
    out.sort(key=lambda d: (d.due, graph.rank.get(d.pipeline, 0), d.partition))
    return Forecast(t, tuple(out), None if wake == INF else wake)


def ranking(planner: Planner) -> Order:
    """How the forecast ranks ready work: the planner's own order for the plain rules; for a
    planner with state of its own (``jit`` chooses a rule per day, ``cpsat`` solves) least slack,
    which is what those aim for (sharing the planner's due times and statistics). Build it once
    per planner, not per forecast."""
    if planner.plain:
        return planner.order
    from andon.planner.rank import least_slack

    return least_slack(planner)


# -- what to forecast -------------------------------------------------------------------------

def _deliverables(memo: Memo, state: PlanningState, t: float
                  ) -> list[tuple[str, str, float, float | None]]:
    """(pipeline, partition, due, delivered at or None) for every upcoming deliverable; none
    after the project's end (``Partitions.keys`` stops at the last partition)."""
    out: list[tuple[str, str, float, float | None]] = []
    for name, scheme, deadline, outputs in memo.deadlines:
        if scheme.is_time:
            first = scheme.start.timestamp()
            keys = memo.window(scheme, max(t - LOOKBACK, first), max(t, first))
        else:
            keys = [scheme.key_of(scheme.start)]
        for key in keys:
            due = _end(scheme, key) + deadline
            made = [state.partitions.get((o, key)) for o in outputs]
            if all(made):
                delivered = max(p.at.timestamp() for p in made if p is not None)
                if delivered >= t - RECENT:
                    out.append((name, key, due, delivered))
            elif due >= t - STALE:
                out.append((name, key, due, None))
    return out


def _dt(t: float) -> datetime:
    return datetime.fromtimestamp(t, UTC)


# Parsing partition keys dominates a forecast otherwise; the keys in play change once a day (an
# hour), so a small cache of the few recent ones serves every re-plan.
@lru_cache(maxsize=8192)
def _end(scheme: Partitions, key: str) -> float:
    return scheme.end(key).timestamp()


class _Builder:
    """The nodes of the schedule: the deliverables, everything upstream of them that is not
    there yet, and every queued or running run."""

    def __init__(self, graph: Graph, state: PlanningState, planner: Planner, t: float,
                 memo: Memo) -> None:
        self.graph, self.state, self.stats, self.t, self.memo = graph, state, planner.stats, t, memo
        self.nodes: dict[tuple[str, str], Node] = {}
        self.arrivals: dict[tuple[str, str], Node] = {}
        self.breaks = INF  # the earliest moment a fixed prediction turns into a sliding one
        self._seq = 1 << 40  # after every queued run (queued runs keep their own order)

    def work(self, root: tuple[str, str]) -> None:
        todo = [root]
        while todo:
            key = todo.pop()
            if key in self.nodes:
                continue
            node = self._make(key)
            self.nodes[key] = node
            for kind, dep in node.deps:
                if kind == "work" and dep not in self.nodes:
                    todo.append(dep)
                elif kind == "arrival" and dep not in self.arrivals:
                    self.arrivals[dep] = self._arrival(dep)

    def _make(self, key: tuple[str, str]) -> Node:
        pipeline, part = key
        pipe = self.graph.pipelines[pipeline]
        state, t = self.state, self.t
        run = state.runs.get(state.active.get(key, ""))
        p50 = self.stats.duration(pipeline)
        if run is not None:
            node = Node(pipeline, part, RUNNING if run.started_at is not None else QUEUED,
                        run.seq)
        else:
            self._seq += 1
            node = Node(pipeline, part, FUTURE, self._seq)
        node.duration, node.pool, node.slots = p50, pipe.pool, pipe.slots
        halted = self._halted(key)
        if halted:  # stopped (or about to be) until a person resolves the cord
            node.kind, node.note = BLOCKED, halted
            return node
        if run is not None and run.started_at is not None:  # RUNNING
            began = run.started_at.timestamp()
            p90 = max(self.stats.duration_p90(pipeline), p50)
            node.start, node.expected = began, began + p50
            for bound in (began + p50, began + p90):
                if t < bound:  # on course: ends at its p50 (p90 once past the p50)
                    node.finish = bound
                    self.breaks = min(self.breaks, bound)
                    break
            else:  # past its p90: it may end any moment
                node.finish, node.slides = t, True
            node.late = t >= began + p50
            node.pool, node.slots = run.pool or pipe.pool, run.slots or pipe.slots
            return node
        if run is not None:  # QUEUED
            gate = run.not_before.timestamp() if run.not_before is not None else t
            if gate > t:
                node.expected, node.note = gate, f"attempt {run.attempt}"
            return node
        inputs = self.memo.inputs(pipeline, part)
        if inputs is None:
            node.kind, node.note = BLOCKED, "reads partitions before the first one"
            return node
        for asset, up, producer in inputs:
            if state.version(asset, up) > 0:
                if producer is not None and (producer, up) in state.active:
                    node.deps.append(("work", (producer, up)))  # being made again
            elif producer is None:
                node.deps.append(("arrival", (asset, up)))
            else:
                node.deps.append(("work", (producer, up)))
        last = state.last_end.get(key)
        if not node.deps and last is not None:  # everything is there, yet it does not run
            node.kind = BLOCKED
            node.note = f"{last.status.value} (attempt {last.attempt}) and is not retried" \
                if last.status is not RunStatus.SUCCEEDED else \
                f"{last.status.value} without writing its outputs"
        return node

    def _halted(self, key: tuple[str, str]) -> str:
        """Why an andon cord halts this partition (the engine's cord book), or ""."""
        book = self.state.cords
        ids = book.halted.get(key)
        if not ids:
            return ""
        cord = book.cords.get(min(ids))
        if cord is None:
            return "halted by an andon cord"
        return f"halted by the andon cord {cord.cord_id} ({cord.reason})"

    def _arrival(self, key: tuple[str, str]) -> Node:
        asset, part = key
        node = Node(asset, part, ARRIVAL, 0)
        end = _end(self.graph.assets[asset].partitions, part)
        learned = self.stats.arrival(asset)
        p50, p90 = learned if learned is not None else (0.0, 0.0)
        if learned is None:
            node.note = "no expected arrival declared or learned"
        node.expected = end + p50
        if self.t < node.expected:
            node.finish = node.expected
            self.breaks = min(self.breaks, node.expected)
        else:  # overdue: later than now by the usual lateness
            node.finish = self.t + max(p90 - p50, LATE_FRACTION * p50, MIN_LATE)
            node.slides = node.late = True
        return node

    def link(self) -> None:
        for node in self.nodes.values():
            for kind, dep in node.deps:
                source = self.nodes[dep] if kind == "work" else self.arrivals[dep]
                source.dependents.append(node)
                node.inputs.append(source)
                node.pending += 1


# -- the answer -------------------------------------------------------------------------------

def _result(build: _Builder, graph: Graph, state: PlanningState, pipeline: str, key: str, due: float,
            delivered: float | None, t: float, latest: Callable[[str, str], float | None]
            ) -> Deliverable:
    pipe = graph.pipelines[pipeline]
    if delivered is not None:
        last = state.last_end.get((pipeline, key))
        began = last.started_at.timestamp() if last is not None and last.started_at else None
        return Deliverable(pipeline, key, pipe.owner, "delivered", due, began, delivered,
                           delivered, False, partial(_delivered_reason, delivered, due, t),
                           partial(critical_path, graph, state, latest, pipeline, key))
    node = build.nodes[(pipeline, key)]
    finish = node.finish
    kind = BLOCKED if finish is None else \
        {FUTURE: "waiting", QUEUED: "queued", RUNNING: "running"}.get(node.kind, node.kind)
    return Deliverable(pipeline, key, pipe.owner, kind, due, node.start, finish, None,
                       node.slides and finish is not None, partial(_reason, node, due, t),
                       partial(critical_path, graph, state, latest, pipeline, key, node))


def _latest_finish(graph: Graph, offsets: dict[str, float], pipeline: str, key: str
                   ) -> float | None:
    """When partition ``key`` of ``pipeline`` must be made for every deadline downstream."""
    offset = offsets.get(pipeline)
    return None if offset is None else _end(graph.pipelines[pipeline].partitions, key) + offset


def _delivered_reason(delivered: float, due: float, t: float) -> str:
    late = delivered - due
    return f"delivered at {_clock(delivered, t)}" + (
        f", {format_duration(late)} after the due time {_clock(due, t)}" if late > 0 else "")


def _reason(node: Node, due: float, t: float) -> str:
    facts = _facts(node, t)
    finish = node.finish
    if finish is None:
        return "; ".join(facts) or "cannot run"
    if finish > due:
        return "; ".join([*facts, f"predicted finish {_clock(finish, t)} is "
                          f"{format_duration(finish - due)} after the due time {_clock(due, t)}"])
    return "; ".join([*facts, f"{format_duration(due - finish)} to spare"])


def _facts(node: Node, t: float) -> list[str]:
    """What the deliverable waits for, following the chain of inputs that arrive last: the root
    (an overdue source, a long run, a retry, a failed run) first, a full pool after it."""
    if node.finish is None:
        blocked = _blocked_upstream(node)
        return [_fact(blocked, t)] if blocked is not None else []
    root: list[str] = []
    pool: list[str] = []
    current: Node | None = node
    while current is not None:
        if current.waited and not pool:
            pool.append(f"waits for a slot in pool {current.pool!r}: {current.pipeline} "
                        f"{current.partition} starts at {_clock(current.start or t, t)}")
        fact = _fact(current, t)
        if fact:
            root = [fact]
        current = current.cause
    return root + pool


def _blocked_upstream(node: Node) -> Node | None:
    """The blocked node at or upstream of ``node`` (why it never starts), if any."""
    seen: set[int] = set()
    todo = [node]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if current.kind == BLOCKED:
            return current
        todo.extend(current.inputs)
    return None


def _fact(node: Node, t: float) -> str:
    what = f"{node.pipeline} {node.partition}"
    if node.kind == ARRIVAL:
        if node.late:
            return f"{what} expected at {_clock(node.expected, t)}, now {_clock(t, t)} and " \
                   "still missing"
        extra = f" ({node.note})" if node.note else ""
        return f"waits for {what}, expected at {_clock(node.expected, t)}{extra}"
    if node.kind == RUNNING and node.start is not None:
        ran = t - node.start
        if node.late:
            return f"{what} has run {format_duration(ran)}, usually {format_duration(node.duration)}"
        return ""
    if node.kind == QUEUED and node.expected > t:
        return f"{what} retries at {_clock(node.expected, t)} ({node.note})"
    if node.kind == BLOCKED:
        return f"{what} {node.note}; it needs a person (`andon run {node.pipeline} " \
               f"--partition {node.partition}`)" if "attempt" in node.note else \
               f"{what} cannot run: {node.note}"
    return ""


def _clock(moment: float, now: float) -> str:
    """``02:35`` on the day of ``now``, ``2026-01-07 02:35`` on another day (UTC)."""
    return plan_time(_dt(moment), _dt(now))
