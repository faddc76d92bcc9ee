"""Dispatch policies: given the queued runs whose inputs are all present, which start first.

A policy is called by the engine with (graph, state, ready runs, now) and returns the runs to
start, best first; it may leave a run out to keep its slot free for a more urgent one (``jit``).
The same objects run live and in the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from andon.events import Event, PartitionAvailable, RunSucceeded
from andon.model.dispatch import Policy
from andon.model.graph import Graph
from andon.planner.due import consumer_pipelines, latest_finish_offsets, weights
from andon.planner.state import PlanningState, R, RunView, W, Work
from andon.planner.stats import Stats

if TYPE_CHECKING:
    from andon.planner.lookahead import Job, Key, Outcome, Rekey
    from andon.planner.rollout import World

INF = float("inf")


def stats_for(graph: Graph) -> Stats:
    """Statistics seeded with what the definitions declare."""
    return Stats.declared(
        {p.name: p.expected_duration.total_seconds() if p.expected_duration else None
         for p in graph.pipelines.values()},
        {a.name: a.expected_arrival.total_seconds() if a.expected_arrival else None
         for a in graph.assets.values() if a.source})


class Planner:
    """Shared machinery: learned durations, due times (latest finish) and weights."""

    name: str = Policy.FIFO
    dynamic = False  # the order changes with the clock (what-if plans must key it again)
    plain = True  # the order has no state of its own: a forecast may rank ready work by it

    def __init__(self, graph: Graph, stats: Stats | None = None,
                 parent: Planner | None = None) -> None:
        self.graph = graph
        self.stats = stats or stats_for(graph)
        self.parent = parent  # a rule used inside another planner shares its due times
        self.weight: dict[str, float] = parent.weight if parent else weights(graph)
        self._offsets: dict[str, float] | None = None
        self._consumers: dict[str, set[str]] | None = None  # the graph's, kept for the offsets
        self._ends: dict[tuple[str, str], float] = {}

    # -- learning --------------------------------------------------------------------------------

    def observe(self, state: PlanningState, events: Iterable[Event]) -> None:
        """Learn from recorded events (run durations, source arrival times)."""
        for ev in events:
            if isinstance(ev, PartitionAvailable) and ev.asset in self.graph.assets:
                part = state.partitions.get((ev.asset, ev.partition))
                end = self.graph.assets[ev.asset].partitions.end(ev.partition)
                offset = (ev.at - end).total_seconds()
                # only first deliveries teach arrival times: re-announcements and backfills
                # days later would skew them
                if (part is None or part.version <= 1) and -86400 < offset < 2 * 86400:
                    self.stats.observe_arrival(ev.asset, offset)
            elif isinstance(ev, RunSucceeded):
                run = state.runs.get(ev.run_id)
                if run is not None and run.started_at is not None:
                    before = self.stats.duration(ev.pipeline)
                    self.stats.observe_duration(ev.pipeline, (ev.at - run.started_at).total_seconds())
                    # due times move with the typical duration; recompute them only when it moved
                    if abs(self.stats.duration(ev.pipeline) - before) > 0.05 * max(before, 1.0):
                        self._offsets = None

    def restore_stats(self, data: object) -> None:
        """Take the learned durations and arrivals of a snapshot (``Stats.summary``); the due
        times follow them."""
        self.stats.restore(data)
        self._offsets = None

    # -- due times -------------------------------------------------------------------------------

    def offsets(self) -> dict[str, float]:
        if self.parent is not None:
            return self.parent.offsets()
        if self._offsets is None:
            if self._consumers is None:
                self._consumers = consumer_pipelines(self.graph)
            self._offsets = latest_finish_offsets(self.graph, self.stats.duration, self._consumers)
        return self._offsets

    def partition_end(self, pipeline: str, key: str) -> float:
        found = self._ends.get((pipeline, key))
        if found is None:
            found = self._ends[(pipeline, key)] = \
                self.graph.pipelines[pipeline].partitions.end(key).timestamp()
        return found

    def due(self, pipeline: str, key: str) -> float:
        """Latest finish (epoch seconds) of this partition; inf when nothing downstream is due."""
        offset = self.offsets().get(pipeline)
        return INF if offset is None else self.partition_end(pipeline, key) + offset

    def slack(self, pipeline: str, key: str, now: float) -> float:
        return self.due(pipeline, key) - now - self.stats.duration(pipeline)

    # -- ordering --------------------------------------------------------------------------------

    def order(self, ready: list[W], now: float) -> list[W]:
        if len(ready) < 2 or not self.offsets():  # nothing is due anywhere: first come first
            return ready
        mean = max(sum(self.stats.duration(r.pipeline) for r in ready) / len(ready), 1.0)
        return sorted(ready, key=lambda r: self.key(r, now, mean))

    def key(self, run: Work, now: float, mean: float) -> tuple[float, int]:
        """The rule as a sort key (smaller first); ``mean`` is the mean predicted duration of
        the competing runs (only ATC uses it)."""
        return (0.0, run.seq)

    def what_if_keys(self) -> tuple[Key, Rekey]:
        """``key`` for one what-if day (``lookahead.simulate_day``), during which the learned
        durations and the due times stand still: the key of one job, and the keys of the jobs
        waiting in a pool when a clock-dependent rule keys them again. The same keys as
        ``key``, however computed."""
        key = self.key
        return key, lambda queue, now, mean: [(key(j, now, mean), n, j) for _, n, j in queue]

    def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                 now: datetime) -> list[R]:
        return self.order(ready, now.timestamp())

    @property
    def notes(self) -> list[str]:
        """What a report should say about how this planner decided (empty: nothing to say)."""
        return []

class Fifo(Planner):
    """First come, first served."""

    name = Policy.FIFO


class Edf(Planner):
    """Earliest due time first (deadlines propagated upstream)."""

    name = Policy.EDF

    def key(self, run: Work, now: float, mean: float) -> tuple[float, int]:
        return (self.due(run.pipeline, run.partition), run.seq)


class Slack(Planner):
    """Least slack first: due time minus now minus the predicted duration."""

    name = Policy.SLACK

    def key(self, run: Work, now: float, mean: float) -> tuple[float, int]:
        return (self.slack(run.pipeline, run.partition, now), run.seq)


class Atc(Planner):
    """Apparent tardiness cost (Vepsalainen & Morton): weight over duration, discounted by how
    much slack is left relative to the average duration."""

    name = Policy.ATC
    dynamic = True
    k = 2.0

    def index(self, run: Work, now: float, mean: float) -> float:
        dur = max(self.stats.duration(run.pipeline), 1.0)
        w = self.weight.get(run.pipeline, 0.0) + 0.01  # undated work still gets done
        slack = self.slack(run.pipeline, run.partition, now)
        if slack == INF:
            return w / dur * 1e-6
        return w / dur * math.exp(-max(slack, 0.0) / (self.k * mean))

    def key(self, run: Work, now: float, mean: float) -> tuple[float, int]:
        return (-self.index(run, now, mean), run.seq)

    def what_if_keys(self) -> tuple[Key, Rekey]:
        """``key`` from per-job constants taken once per what-if day (``lookahead.atc_keys``:
        ``index``'s chain of calls was most of a re-plan's time): the same keys."""
        from andon.planner.lookahead import atc_keys

        def constants(run: Job) -> tuple[float, float, float]:
            dur = self.stats.duration(run.pipeline)
            ratio = (self.weight.get(run.pipeline, 0.0) + 0.01) / max(dur, 1.0)
            return ratio, self.due(run.pipeline, run.partition), dur

        return atc_keys(constants, self.k)


class Jit(Atc):
    """The default: a rollout over the classic rules, on top of a rule chosen per day.

    *Base order.* For each new day it plans the day ahead under every candidate rule (least
    slack, apparent tardiness cost, earliest due) with the learned arrivals and durations and
    what occupies the line now (``lookahead.simulate_day``), and orders by the rule whose plan
    keeps the deliverables most on time (planned again every ``rechoose`` seconds while the day
    stays contended); a slot is held back for a heavier run about to be ready (``_hold_back``).
    Above ``plan_at_once`` pipelines a plan is made a slice of work a decision
    (``lookahead.day_steps``), the last rule kept until it is done.

    *Rollout* (``rollout``; Bertsekas' rollout with several base heuristics). When more runs
    may start in a pool than it has free slots, the base order's first run and the first
    choices of slack, ATC, edf and fifo are the candidates, and (``wait``) keeping one of the
    pool's free slots idle until the next executing run ends (the hold-back generalised: the
    rule then chooses among what is ready, a heavier run just released among them). Each is
    started in a what-if of the day, continued under each of the four rules, on p50 and on p90
    durations; a candidate is worth its best continuation. Another candidate replaces the base's
    only when it is at least as good in misses and better in weighted tardiness (by a
    priority-minute) on both duration models: never worse than its start on the model. Work
    budget, deterministic: at most 6 candidates x 4 rules x 2 models what-if days a decision,
    and only on graphs of at most ``plan_at_once`` pipelines (the live planner turns it off:
    ``planner.live.make_planner``).

    *Sampled worlds* (``planner.rollout``; off by default, measured in docs/decisions.md, issue
    17 step 5): ``worlds`` > 0 scores the rollout's candidates, ``choose_worlds`` > 0 the day's
    rules (graphs of at most ``plan_at_once`` pipelines), on that many worlds drawn from the
    learned observations, the same for every candidate."""

    name = Policy.JIT
    plain = False  # chooses a rule per day

    def __init__(self, graph: Graph, stats: Stats | None = None, *, rollout: bool = True) -> None:
        super().__init__(graph, stats)
        self.rollout = rollout
        self.rolled = 0  # decisions where the rollout replaced the base order's first run
        # candidates in order of preference when their plans score the same
        self.rules: dict[str, Planner] = {
            rule.name: rule for rule in (Slack(graph, self.stats, self), self,
                                         Edf(graph, self.stats, self))}
        self.chosen: dict[str, str] = {}  # partition key -> rule
        self._chosen_at: dict[str, float] = {}
        self._last: str = Policy.SLACK  # the rule in use; a new day starts with it
        self._state: PlanningState | None = None
        self._contended = False
        self._planned_at = float("-inf")  # the last re-plan of a contended day
        self._replan: _Replan | None = None
        self.continuations: tuple[Planner, ...] = (  # the rollout's base heuristics
            Slack(graph, self.stats, self), Atc(graph, self.stats, self),
            Edf(graph, self.stats, self), Fifo(graph, self.stats, self))

    def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                 now: datetime) -> list[R]:
        self._state = state
        free = {n: max(p.capacity - state.pool_used.get(n, 0), 0) for n, p in graph.pools.items()}
        self._contended = len(ready) > sum(free.values())
        ordered = self.order(ready, now.timestamp())
        if not self.offsets():
            return ordered
        out = self._hold_back(state, ordered, free, now.timestamp())
        if self._contended and self.rollout and out and \
                len(graph.pipelines) <= self.plan_at_once:
            out = self._roll_out(ready, out, free, now.timestamp())
        return out

    def _roll_out(self, ready: list[R], out: list[R], free: dict[str, int], now: float) -> list[R]:
        from andon.planner.rollout import roll_out

        return roll_out(self, ready, out, free, now)

    def _imminent(self, state: PlanningState, starting: Sequence[RunView], now: float,
                  horizon: float) -> list[tuple[str, float, float, float]]:
        """Runs not queued yet that will be once a running (or now starting) run ends: (pool,
        when, weight, latest start) — only those that carry a deadline's weight and whose latest
        start falls before ``horizon`` (no candidate could make the others late)."""
        out = []
        for run in [*state.running(), *starting]:
            if run.pipeline not in self.graph.pipelines:
                continue
            began = run.started_at.timestamp() if run.started_at is not None else now
            eta = max(began + self.stats.duration(run.pipeline), now)
            for out_asset in self.graph.pipelines[run.pipeline].outputs:
                for consumer, key in self.graph.consumer_keys(out_asset, run.partition):
                    weight = self.weight.get(consumer, 0.0)
                    if weight <= 0 or (consumer, key) in state.active:
                        continue
                    latest_start = self.due(consumer, key) - self.stats.duration(consumer)
                    if eta <= latest_start < horizon:
                        out.append((self.graph.pipelines[consumer].pool, eta, weight,
                                    latest_start))
        return out

    def _hold_back(self, state: PlanningState, ordered: list[R], free: dict[str, int],
                   now: float) -> list[R]:
        """Keep a slot free for a more important run about to become ready: a run is held when
        taking the last free slot of its pool would make such a run start after its latest start
        although it would have been on time had the slot waited for it."""
        out: list[R] = []
        starting = ordered[:sum(free.values())]
        horizon = now + max((self.stats.duration(r.pipeline) for r in starting), default=0.0)
        imminent = self._imminent(state, starting, now, horizon)
        if not imminent:
            return ordered
        for run in ordered:
            pipe = self.graph.pipelines[run.pipeline]
            mine = self.weight.get(run.pipeline, 0.0)
            ends = now + self.stats.duration(run.pipeline)
            needy = [i for i in imminent if i[0] == pipe.pool and i[2] > mine
                     and i[3] < ends]  # on time if it gets the slot, late after this run
            if needy and free.get(pipe.pool, 0) <= len(needy):
                continue  # held: the slot waits for the urgent run
            out.append(run)
            free[pipe.pool] = free.get(pipe.pool, 0) - pipe.slots
        return out

    def order(self, ready: list[W], now: float) -> list[W]:
        if len(ready) < 2 or not self.offsets():
            return ready
        key = max((r.partition for r in ready), key=lambda k: (len(k), k))
        if self._replan is not None:
            self._replan_step()
        at_once = len(self.graph.pipelines) <= self.plan_at_once
        if key not in self.chosen:  # a new day: plan it under every rule (a small graph's before
            self.chosen[key] = self._last  # its first start; a large one keeps the last rule
            self._start_replan(key, now, at_once)  # until its plan is done)
        elif self._contended and self._replan is None and \
                now - self._chosen_at.get(key, now) >= self.rechoose and \
                now - self._planned_at >= self.rechoose:
            self._start_replan(key, now, at_once)
        return Planner.order(self.rules[self.chosen[key]], ready, now)

    worlds = 0  # sampled worlds a rollout scores on (0: the p50 and p90 models)
    miss_weight = 0.0  # priority-seconds a mean miss counts in a sampled rollout's value
    margin = 60.0  # priority-seconds a sampled candidate must beat the base's value by
    wait = 1  # the rollout also scores keeping a slot idle until the next run ends (0: not)
    choose_worlds = 0  # sampled worlds the day's rule is chosen on (0: the p50 and p90 models)
    rechoose = 900.0  # seconds: plan the day again while it stays contended this long
    plan_at_once = 300  # pipelines: larger graphs spread a day's plan over decisions, no rollout

    def _arrivals(self, key: str) -> dict[str, float]:
        """When each source partition of ``key`` lands: its real time when it is there, else
        the typical (p50) arrival learned from history (the declared one before any)."""
        arrivals = {}
        for asset in self.graph.assets.values():
            if not asset.source:
                continue
            part = self._state.partitions.get((asset.name, key)) if self._state else None
            if part is not None:
                arrivals[asset.name] = part.at.timestamp()
            else:
                series = self.stats.arrivals.get(asset.name)
                offset = series.quantiles()[0] if series is not None else 0.0
                arrivals[asset.name] = asset.partitions.end(key).timestamp() + offset
        return arrivals

    def _load(self, key: str, now: float) -> _Load:
        """What occupies the line now: executing runs (until their predicted end; those of
        ``key`` itself then let their consumers go), runs of other partitions already queued, and
        the pipelines of ``key`` already done."""
        from andon.planner.lookahead import Job

        load = _Load([], [], {}, {})
        state = self._state
        if state is None:
            return load
        for run in state.running():
            if run.started_at is None or run.pipeline not in self.graph.pipelines:
                continue
            end = max(run.started_at.timestamp() + self.stats.duration(run.pipeline), now)
            if run.partition == key:
                load.running[run.pipeline] = end
            else:
                load.busy.append((run.pool, run.slots, end))
        for run in state.queue.values():
            if run.partition != key and run.pipeline in self.graph.pipelines:
                load.backlog.append(Job(run.pipeline, run.partition, run.seq))
        for name, pipe in self.graph.pipelines.items():
            if name in load.running or (name, key) in state.active or not pipe.outputs:
                continue
            made = [state.partitions.get((out, key)) for out in pipe.outputs]
            if all(p is not None for p in made):
                load.done[name] = max(p.at.timestamp() for p in made if p is not None)
        return load

    def _start_replan(self, key: str, now: float, at_once: bool) -> None:
        from andon.planner.rollout import model_worlds, sampled_worlds

        self._chosen_at[key] = self._planned_at = now
        try:
            arrivals = self._arrivals(key)
        except ValueError:  # a key outside the partitions (before their start)
            return
        load = self._load(key, now)
        # sampled worlds cost twice the models' what-if days: not on graphs too large to plan at once
        sampled = bool(self.choose_worlds) and len(self.graph.pipelines) <= self.plan_at_once
        worlds = sampled_worlds(self, key, now, self.choose_worlds) if sampled else \
            model_worlds(self, load, arrivals)
        self._replan = _Replan(key, now, worlds, sampled, load,
                               [(name, i) for name in self.rules for i in range(len(worlds))])
        self._replan_step()
        while at_once and self._replan is not None:
            self._replan_step()

    def _replan_step(self) -> None:
        """Plan the day under the next candidate rule in the next world, a slice of work at a
        time (``lookahead.day_steps``); once all are planned, choose. Spreading the what-if days
        over successive decisions (a large graph's: one slice a decision) keeps each decision's
        planning time small; the learned statistics a rule's key reads may move meanwhile."""
        from andon.planner.rollout import day_in_steps, rule_score

        plan = self._replan
        assert plan is not None
        name, world = plan.todo[0]
        if plan.steps is None:
            rule = self.rules[name]
            keys = plan.keys.get(name) or plan.keys.setdefault(name, rule.what_if_keys())
            plan.steps = day_in_steps(self, plan.key, plan.now, plan.worlds[world], plan.load,
                                      rule, keys)
        try:
            next(plan.steps)
            return  # more of this day to plan, at the next decision
        except StopIteration as end:
            plan.outs.setdefault(name, []).append(end.value)
        plan.steps = None
        plan.todo.pop(0)
        if plan.todo:
            return
        self._replan = None
        current = self.chosen.get(plan.key, self._last)
        scores = {n: rule_score(outs, plan.sampled) for n, outs in plan.outs.items()}
        self.chosen[plan.key] = self._last = _better(scores, current)


@dataclass
class _Load:
    """The line as it stands when a day is planned again (see ``Jit._load``)."""

    busy: list[tuple[str, int, float]]  # (pool, slots, free at) of other partitions' runs
    backlog: list[Job]  # queued runs of other partitions
    running: dict[str, float]  # pipeline of the day -> predicted end
    done: dict[str, float]  # pipeline of the day -> when it finished


@dataclass
class _Replan:
    """A what-if planning of one day in progress (one what-if day per decision on a large
    graph): the (rule, world) days to plan, the keys of each rule (they stand still for the
    plan, as the learned statistics do for one what-if day) and the outcomes so far."""

    key: str
    now: float
    worlds: list[World]  # the typical and the slow one, or sampled ones (``planner.rollout``)
    sampled: bool
    load: _Load
    todo: list[tuple[str, int]]  # (rule, index of the world)
    keys: dict[str, tuple[Key, Rekey]] = field(default_factory=dict)
    outs: dict[str, list[Outcome]] = field(default_factory=dict)
    steps: Generator[None, None, Outcome] | None = None  # the what-if day under way


def _better(scores: dict[str, tuple[float, float, float, float]], current: str) -> str:
    """The rule whose plan keeps the deliverables most on time: fewest misses on a typical day,
    then least weighted tardiness, then fewest misses when runs are slow (p90). The rule in use
    is kept unless another is clearly better on a typical day (no flapping on noise): fewer
    misses, or as many and 5% (and a minute) less weighted tardiness. The slow plan only breaks
    ties: every plan misses more when every run is slow, and switching on that alone went
    against the typical day more often than not."""
    best = min(scores, key=lambda n: scores[n])
    if current not in scores:
        return best
    cur, new = scores[current], scores[best]
    clearly = new[0] < cur[0] or (new[0] == cur[0] and new[1] < cur[1] * 0.95 - 60)
    return best if clearly else current


def _cpsat(graph: Graph, stats: Stats | None = None) -> Planner:
    """The CP-SAT planner, imported only when asked for (OR-Tools is an optional extra)."""
    from andon.planner.cpsat import CpSat

    return CpSat(graph, stats)


# one class per name of the one list (``andon.model.dispatch.Policy``), in its order
POLICIES: dict[str, Callable[[Graph, Stats | None], Planner]] = {
    **{cls.name: cls for cls in (Fifo, Edf, Slack, Atc, Jit)}, Policy.CPSAT: _cpsat,
}


def make_policy(name: str, graph: Graph, stats: Stats | None = None) -> Planner:
    try:
        return POLICIES[name](graph, stats)
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}") from None
