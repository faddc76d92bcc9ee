"""The CP-SAT rolling-horizon planner (optional extra ``andon[opt]``, OR-Tools).

When the runs that may start compete for a pool, ``CpSat`` plans the known work ahead with the
CP-SAT solver: the ready runs, the running runs (holding their slots until their predicted end)
and the runs downstream of both, up to a few levels (released when their inputs are predicted to
exist). It minimises weighted tardiness against the due times the planner propagates along the
graph, within a time limit, with the ``jit`` heuristic's plan as the hint.

The plan overrides the heuristic only when the solver proves it optimal and it predicts less
weighted tardiness than the heuristic's own plan: otherwise the heuristic's order stands, because
its rules cope better with durations that differ from the p50 the plan assumes. (Measured: on 20
seeds of the contention scenario, always taking the plan's order missed 154 deadlines, overriding
only on a predicted gain 122, jit 132; on the WfCommons traces, overriding with plans not proven
optimal missed 257 deadlines, with proven ones only 241, jit 241.) A ready run the plan starts
later than now is held back, keeping its slot free for the run the plan gives it to. When the
solver finds no plan in time, the heuristic's order is used; both cases are counted and reported.

OR-Tools is imported only when a plan is made: the core never needs it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from andon.events import Event
from andon.model.dispatch import Policy
from andon.model.graph import Graph
from andon.planner.policies import INF, Jit, Planner
from andon.planner.state import PlanningState, R, RunView
from andon.planner.stats import Stats

# Weighted tardiness (priority x time unit) costs this many times more than starting a ready run
# one time unit later: the second term only breaks ties (start what can start, now).
TIE_BREAK = 1000


def available() -> bool:
    """True when OR-Tools can be imported."""
    try:
        import ortools.sat.python.cp_model  # noqa: F401
    except ImportError:
        return False
    return True


@dataclass
class Task:
    """One run in the plan. Times are whole time units (``CpSat.unit``) from now."""

    pipeline: str
    partition: str
    pool: str
    slots: int
    duration: int
    release: int = 0  # earliest start (inputs predicted to exist)
    running: bool = False  # occupies [0, duration) whatever the plan says
    run: RunView | None = None  # the engine's run, for ready runs
    preds: list[int] = field(default_factory=list)  # tasks that must end before this starts


@dataclass
class Plan:
    """The solver's answer: the ready runs to start, best first; whether the solver proved it
    optimal, and whether it predicts less weighted tardiness than the heuristic's plan."""

    runs: list[RunView]
    proven: bool
    better: bool


class CpSat(Planner):
    """Rolling-horizon CP-SAT plan minimising weighted tardiness; ``jit`` when it cannot.

    ``work_limit`` caps each solve in the solver's deterministic time (0.01 is 10-50 ms on a
    laptop): a count of work, not the clock, so a simulation gives the same result on every run
    and on a busy machine. ``time_limit`` (seconds of wall time) is the safety net behind it.
    ``lookahead`` is how many levels of downstream runs are planned with the ready ones,
    ``max_tasks`` caps the model's size and ``resolution`` is the coarsest time unit of a plan in
    seconds. ``hold`` keeps back the ready runs the plan starts later.
    """

    name = Policy.CPSAT
    plain = False  # solves a plan

    def __init__(self, graph: Graph, stats: Stats | None = None, *, time_limit: float = 0.5,
                 work_limit: float = 0.01, lookahead: int = 4, max_tasks: int = 100,
                 resolution: float = 60.0, hold: bool = True, seed: int = 0) -> None:
        super().__init__(graph, stats)
        # shares the statistics (one learner); without jit's rollout, which would plan each
        # decision a second time
        self.heuristic = Jit(graph, self.stats, rollout=False)
        self.time_limit = time_limit
        self.work_limit = work_limit
        self.lookahead = lookahead
        self.max_tasks = max_tasks
        self.resolution = resolution
        self.unit = resolution  # of the current plan
        self.hold = hold
        self.seed = seed
        self.plans = 0  # solver calls
        self.overrides = 0  # plans that replaced the heuristic's order
        self.unproven = 0  # plans found but not proven optimal in time: the heuristic's order stood
        self.fallbacks: Counter[str] = Counter()  # solver status -> plans not found at all

    # The heuristic learns and keeps the due times; this planner reads them.
    def observe(self, state: PlanningState, events: Iterable[Event]) -> None:
        self.heuristic.observe(state, events)

    def offsets(self) -> dict[str, float]:
        return self.heuristic.offsets()

    @property
    def notes(self) -> list[str]:
        """What a report should say about this planner's run: when the heuristic decided instead
        of a plan (empty when every plan was found and proven optimal)."""
        out = []
        total = sum(self.fallbacks.values())
        if total:
            why = ", ".join(f"{n} {status.lower()}" for status, n in sorted(self.fallbacks.items()))
            out.append(f"{self.name} fell back to the {self.heuristic.name} heuristic {total} time(s) "
                       f"in {self.plans} plans (solver status: {why})")
        if self.unproven:
            out.append(f"{self.name} kept the {self.heuristic.name} heuristic's order {self.unproven} "
                       f"time(s) in {self.plans} plans: the plan was not proven optimal within the limits")
        return out

    def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                 now: datetime) -> list[R]:
        heuristic = self.heuristic(graph, state, ready, now)
        if not _has_room(graph, state, ready):
            return heuristic  # nothing that may start fits anyway
        # fine enough that rounding the shortest ready run up to whole units adds at most 25 %
        shortest = min(self.stats.duration(r.pipeline) for r in ready)
        self.unit = min(self.resolution, max(1.0, shortest / 4))
        chosen = {r.run_id for r in heuristic}  # the heuristic may hold some back: plan them last
        tasks = self.tasks(graph, state, heuristic + [r for r in ready if r.run_id not in chosen],
                           now.timestamp())
        if not _contended(graph, state, ready, [t for t in tasks if not t.running and t.run is None]):
            return heuristic  # all that may start and all that is coming fit: start it all
        plan = self.solve(graph, tasks, now.timestamp())
        if plan is None:
            return heuristic
        if not plan.proven:
            self.unproven += 1
            return heuristic
        if not plan.better:
            return heuristic
        self.overrides += 1
        given = {r.run_id: r for r in ready}  # the plan's runs are these very objects
        return [given[r.run_id] for r in plan.runs]

    # -- the model -------------------------------------------------------------------------------

    def _units(self, seconds: float) -> int:
        return max(1, math.ceil(seconds / self.unit))

    def tasks(self, graph: Graph, state: PlanningState, ready: Sequence[RunView], now: float
              ) -> list[Task]:
        """The known work: ``ready`` (best first), the running runs, and the runs downstream of
        both up to ``lookahead`` levels whose inputs all have a predicted time."""
        tasks: list[Task] = []
        index: dict[tuple[str, str], int] = {}

        def add(task: Task) -> None:
            index[(task.pipeline, task.partition)] = len(tasks)
            tasks.append(task)

        for run in ready:
            pipe = graph.pipelines[run.pipeline]
            add(Task(run.pipeline, run.partition, pipe.pool, pipe.slots,
                     self._units(self.stats.duration(run.pipeline)), run=run))
        for run in state.running():
            p50 = self.stats.duration(run.pipeline)
            started = run.started_at.timestamp() if run.started_at else now
            left = started + p50 - now
            if left <= 0:  # overdue: expect its p90 margin more, at least a minute
                left = max(self.stats.duration_p90(run.pipeline) - p50, 60.0)
            add(Task(run.pipeline, run.partition, run.pool, run.slots, self._units(left),
                     running=True))
        frontier = list(range(len(tasks)))
        for _level in range(self.lookahead):
            found: list[int] = []
            for i in frontier:
                for key in _consumers(graph, tasks[i]):
                    if len(tasks) >= self.max_tasks:
                        return tasks
                    if key in index or key in state.active:
                        continue
                    task = self._downstream(graph, state, key, index, now)
                    if task is not None:
                        add(task)
                        found.append(len(tasks) - 1)
            frontier = found
        return tasks

    def _downstream(self, graph: Graph, state: PlanningState, key: tuple[str, str],
                    index: dict[tuple[str, str], int], now: float) -> Task | None:
        """A future run of ``key``, or None when one of its inputs has no predicted time."""
        pipeline, part = key
        pipe = graph.pipelines[pipeline]
        release, preds = 0, []
        try:
            inputs = graph.input_keys(pipeline, part)
        except ValueError:  # a window reaching before the first partition
            return None
        for asset, up_key in inputs:
            producer = graph.producer.get(asset)
            if producer is not None and (producer, up_key) in index:
                preds.append(index[(producer, up_key)])
            elif producer is not None and (producer, up_key) in state.active:
                return None  # being made, but not in the plan
            elif state.version(asset, up_key) > 0:
                continue
            elif producer is None:
                expected = self.stats.arrival(asset)
                if expected is None:
                    return None
                at = graph.assets[asset].partitions.end(up_key).timestamp() + expected[0]
                # not there yet: at its predicted time, or soon when that has passed
                release = max(release, 1, math.ceil((at - now) / self.unit))
            else:
                return None  # its producer has not even been queued
        return Task(pipeline, part, pipe.pool, pipe.slots,
                    self._units(self.stats.duration(pipeline)), release, preds=preds)

    def _costed(self, graph: Graph, tasks: list[Task], now: float) -> list[tuple[int, int, int]]:
        """(task, weight, due in time units) of the tasks whose lateness counts. A task without a
        deadline of its own whose consumers are all planned counts through them alone: its
        propagated due time would count the same delay twice."""
        keys = {(t.pipeline, t.partition) for t in tasks}
        out = []
        for i, t in enumerate(tasks):
            due = self.due(t.pipeline, t.partition)
            weight = round(self.weight.get(t.pipeline, 0.0) * 10)
            if t.running or due == INF or weight <= 0:
                continue
            if graph.pipelines[t.pipeline].deadline is None and \
                    all(k in keys for k in _consumers(graph, t)):
                continue
            out.append((i, weight, math.floor((due - now) / self.unit)))
        return out

    def solve(self, graph: Graph, tasks: list[Task], now: float) -> Plan | None:
        """The plan for ``tasks``, or None (counted) when the solver found none in time."""
        from ortools.sat.python import cp_model

        hint = list_schedule(graph, tasks)
        horizon = max(max(h, t.release) + t.duration for h, t in zip(hint, tasks)) + 1
        model = cp_model.CpModel()
        starts, ends, intervals = [], [], []
        for i, t in enumerate(tasks):
            if t.running:
                start = model.new_constant(0)
            else:
                start = model.new_int_var(t.release, horizon, f"s{i}")
                model.add_hint(start, hint[i])
            end = model.new_int_var(0, horizon + t.duration, f"e{i}")
            model.add_hint(end, hint[i] + t.duration)  # a complete hint is a first solution
            intervals.append(model.new_interval_var(start, t.duration, end, f"x{i}"))
            starts.append(start)
            ends.append(end)
            for p in t.preds:
                model.add(start >= ends[p])
        for pool in sorted({t.pool for t in tasks}):
            members = [i for i, t in enumerate(tasks) if t.pool == pool]
            capacity = graph.pools[pool].capacity if pool in graph.pools else 0
            model.add_cumulative([intervals[i] for i in members],
                                 [tasks[i].slots for i in members], capacity)
        for name in sorted({t.pipeline for t in tasks}):
            cap = graph.pipelines[name].max_concurrent
            members = [i for i, t in enumerate(tasks) if t.pipeline == name]
            if cap and len(members) > cap:
                model.add_cumulative([intervals[i] for i in members], [1] * len(members), cap)
        tardy, hint_tardy = [], 0
        for i, weight, due in self._costed(graph, tasks, now):
            # the due time may lie far in the past (a re-run of an old partition)
            late = model.new_int_var(0, horizon + tasks[i].duration + max(0, -due), f"t{i}")
            model.add(late >= ends[i] - due)
            hinted = max(0, hint[i] + tasks[i].duration - due)
            model.add_hint(late, hinted)
            tardy.append(weight * late)
            hint_tardy += weight * hinted
        model.minimize(TIE_BREAK * sum(tardy) +
                       sum(starts[i] for i, t in enumerate(tasks) if t.run is not None))
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = self.time_limit
        solver.parameters.max_deterministic_time = self.work_limit
        solver.parameters.num_workers = 1
        solver.parameters.random_seed = self.seed
        self.plans += 1
        status = solver.solve(model)
        if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
            self.fallbacks[solver.status_name(status)] += 1
            return None
        planned = sorted((solver.value(starts[i]), i) for i, t in enumerate(tasks) if t.run is not None)
        return Plan([run for start, i in planned
                     if (run := tasks[i].run) is not None and (start == 0 or not self.hold)],
                    proven=status == cp_model.OPTIMAL,
                    better=bool(tardy) and solver.value(sum(tardy)) < hint_tardy)


def _consumers(graph: Graph, task: Task) -> list[tuple[str, str]]:
    """The (pipeline, partition) pairs that read what ``task`` makes."""
    out: list[tuple[str, str]] = []
    for asset in graph.pipelines[task.pipeline].outputs:
        try:
            out.extend(graph.consumer_keys(asset, task.partition))
        except ValueError:  # a mapping that reaches outside the partitions: nothing there
            continue
    return out


def _has_room(graph: Graph, state: PlanningState, ready: Sequence[RunView]) -> bool:
    """True when some ready run's pool has a free slot."""
    pools = {graph.pipelines[run.pipeline].pool for run in ready}
    return any(graph.pools[p].capacity > state.pool_used.get(p, 0) for p in pools if p in graph.pools)


def _contended(graph: Graph, state: PlanningState, ready: Sequence[RunView],
               future: Iterable[Task] = ()) -> bool:
    """True when, in some pool with free slots, the ready runs and the ``future`` ones need more
    than it has free: only then does the order decide what starts, or is a slot worth holding."""
    demand: Counter[str] = Counter()
    for run in ready:
        pipe = graph.pipelines[run.pipeline]
        demand[pipe.pool] += pipe.slots
    later: Counter[str] = Counter()
    for task in future:
        later[task.pool] += task.slots
    for pool, need in demand.items():
        free = graph.pools[pool].capacity - state.pool_used.get(pool, 0) if pool in graph.pools else 0
        if 0 < free < need + later[pool]:
            return True
    return False


def list_schedule(graph: Graph, tasks: list[Task]) -> list[int]:
    """A start for every task, feasible when the model is (the plan's hint): running tasks at
    0, then the others in their given order (ready best first, downstream after what they wait
    for), each at the earliest time its pool has room for its whole duration."""
    starts = [0] * len(tasks)
    placed: dict[str, list[tuple[int, int, int]]] = {}  # pool -> (start, end, slots)
    for t in tasks:
        if t.running:
            placed.setdefault(t.pool, []).append((0, t.duration, t.slots))
    for i, t in enumerate(tasks):
        if t.running:
            continue
        busy = placed.setdefault(t.pool, [])
        capacity = graph.pools[t.pool].capacity if t.pool in graph.pools else 0
        earliest = max([t.release] + [starts[p] + tasks[p].duration for p in t.preds])
        at = earliest
        for at in sorted({earliest} | {e for _s, e, _n in busy if e > earliest}):
            if _fits(busy, at, at + t.duration, t.slots, capacity):
                break
        starts[i] = at
        busy.append((at, at + t.duration, t.slots))
    return starts


def _fits(busy: list[tuple[int, int, int]], start: int, end: int, slots: int, capacity: int) -> bool:
    """True when ``slots`` more fit in the pool over [start, end): usage only rises at a start."""
    points = [start] + [s for s, _e, _n in busy if start < s < end]
    return all(slots + sum(n for s, e, n in busy if s <= p < e) <= capacity for p in points)
