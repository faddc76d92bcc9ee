"""The clairvoyant optimum of a scenario: how far a policy is from the best possible (issue 17).

The scenario is solved offline with perfect knowledge of the world one seed samples, the very
world every policy of the simulator saw: each source partition lands at its sampled time, each run
takes its sampled first-attempt duration plus start-up. One job per (pipeline, partition):

- it starts after its inputs exist: the sources' arrivals, the producers' ends (same partition);
- an incident's partition is good only once resolved: a bad source's consumers start after the
  fix lands; a named pipeline output counts only if made after the resolution (a clairvoyant
  planner never runs on bad data, so it never has to re-run);
- each pool is a cumulative resource of its capacity in slots;
- the objective is weighted tardiness (priority x seconds past the deliverable's due time).

CP-SAT solves it with interval variables, one worker and a deterministic work budget
(``max_deterministic_time``), so the answer is the same on every run and machine; it is
warm-started from the best of the online traces given (each re-timed as a list schedule in the
order the policy started its runs), and never reports a schedule worse than that start. Times are
whole seconds (durations rounded up). The result has the best schedule's misses and weighted
tardiness and a lower bound: the larger of the solver's proven bound and the tardiness every
deliverable would have with unlimited slots.

OR-Tools (the ``opt`` extra) is imported only inside ``solve``.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from andon.events.codec import parse_time
from andon.model.status import RunStatus
from andon.sim.sampling import arrival_time, run_duration
from andon.sim.scenario import Scenario
from andon.sim.simulator import horizon

DEFAULT_BUDGET = 5.0  # deterministic seconds of CP-SAT work per solve
WORKERS = 8  # CP-SAT subsolvers (LNS among them), interleaved on one thread: deterministic
UNIT = 10  # seconds per step of the CP-SAT model
MODEL_VERSION = 1  # bump when the model changes: results cached by make bench-sched are stale


@dataclass
class Job:
    pipeline: str
    partition: str
    pool: str
    slots: int
    duration: int  # whole seconds, start-up included
    release: int  # earliest start: sources landed (fixed), incidents resolved
    preds: list[int] = field(default_factory=list)
    due: int | None = None
    weight: int = 0  # priority (deliverables only)


@dataclass
class Problem:
    jobs: list[Job]
    capacity: dict[str, int]
    end: int  # the horizon, seconds from the scenario's start


@dataclass
class Clairvoyant:
    """The offline optimum's figures (tardiness in priority x minutes, like the metrics)."""

    deadline_misses: int
    weighted_tardiness_minutes: float
    lower_bound_minutes: float
    status: str  # CP-SAT's status, or why the start was kept
    started_from: str  # the policy whose trace warm-started the solve
    start_tardiness_minutes: float
    jobs: int


def problem(scenario: Scenario) -> Problem:
    """The scenario's jobs in the world its seed samples."""
    graph = scenario.graph
    origin = scenario.start
    fixed: dict[tuple[str, str], float] = {}  # (asset, key) -> resolved, seconds
    for inc in scenario.incidents:
        at = (inc.resolved - origin).total_seconds()
        fixed[(inc.asset, inc.partition)] = max(fixed.get((inc.asset, inc.partition), 0.0), at)
    index: dict[tuple[str, str], int] = {}
    jobs: list[Job] = []
    for key in scenario.keys:
        for name in graph.order:
            pipe = graph.pipelines[name]
            sim = scenario.pipelines[name]
            work = (sim.startup + run_duration(scenario, name, key, 1)).total_seconds()
            release = 0.0
            preds = []
            for inp in pipe.inputs:
                if inp.asset in scenario.sources:
                    landed = (arrival_time(scenario, inp.asset, key) - origin).total_seconds()
                    release = max(release, landed, fixed.get((inp.asset, key), 0.0))
                else:
                    preds.append(index[(graph.producer[inp.asset], key)])
            for out in pipe.outputs:  # a named output is good only if made after resolution
                if (out, key) in fixed:
                    release = max(release, fixed[(out, key)] - work)
            due = None
            if pipe.deadline is not None:
                due = int((pipe.partitions.end(key) + pipe.deadline - origin).total_seconds())
            index[(name, key)] = len(jobs)
            jobs.append(Job(name, key, pipe.pool, pipe.slots, math.ceil(work), math.ceil(release),
                            preds, due, pipe.priority if due is not None else 0))
    end = int((horizon(scenario) - origin).total_seconds())
    return Problem(jobs, {n: p.capacity for n, p in graph.pools.items()}, end)


def list_schedule(prob: Problem, rank: Sequence[float]) -> list[int]:
    """Start times of a non-delay list schedule: whenever slots are free, the ready job of
    smallest ``rank`` in that pool starts."""
    jobs = prob.jobs
    succ: list[list[int]] = [[] for _ in jobs]
    waiting = [len(j.preds) for j in jobs]
    for i, j in enumerate(jobs):
        for p in j.preds:
            succ[p].append(i)
    free = dict(prob.capacity)
    queues: dict[str, list[tuple[float, int]]] = {n: [] for n in free}
    events: list[tuple[int, int, int]] = [(j.release, 1, i) for i, j in enumerate(jobs)
                                          if not j.preds]  # (time, 0 end / 1 ready, job)
    heapq.heapify(events)
    starts = [0] * len(jobs)
    while events:
        now = events[0][0]
        while events and events[0][0] == now:
            _, kind, i = heapq.heappop(events)
            if kind == 0:
                free[jobs[i].pool] += jobs[i].slots
                for s in succ[i]:
                    waiting[s] -= 1
                    if waiting[s] == 0:
                        heapq.heappush(events, (max(now, jobs[s].release), 1, s))
            else:
                heapq.heappush(queues[jobs[i].pool], (rank[i], i))
        for pool, queue in queues.items():
            while queue and free[pool] >= jobs[queue[0][1]].slots:
                _, i = heapq.heappop(queue)
                free[pool] -= jobs[i].slots
                starts[i] = now
                heapq.heappush(events, (now + jobs[i].duration, 0, i))
    return starts


def score(prob: Problem, starts: Sequence[int]) -> tuple[int, int]:
    """(misses, weighted tardiness in priority x seconds) of a schedule."""
    misses = tardy = 0
    for j, s in zip(prob.jobs, starts, strict=True):
        if j.due is not None and s + j.duration > j.due:
            misses += 1
            tardy += j.weight * (s + j.duration - j.due)
    return misses, tardy


def relaxed_bound(prob: Problem) -> int:
    """Weighted tardiness with unlimited slots (every job at its earliest start): a lower bound."""
    earliest: list[int] = []
    for j in prob.jobs:  # jobs are in topological order
        earliest.append(max([j.release, *(earliest[p] + prob.jobs[p].duration for p in j.preds)]))
    return score(prob, earliest)[1]


def trace_rank(prob: Problem, trace: list[dict[str, Any]]) -> list[float]:
    """The order a policy started its jobs in (its last good run of each; never run: last)."""
    started: dict[tuple[str, str], float] = {}
    for r in trace:
        if r["type"] == "run" and r["status"] == RunStatus.SUCCEEDED:
            started[(r["pipeline"], r["partition"])] = parse_time(r["work_start"]).timestamp()
    return [started.get((j.pipeline, j.partition), math.inf) for j in prob.jobs]


def components(prob: Problem, hint: Sequence[int]) -> list[list[int]]:
    """Jobs grouped into independent parts: the partitions (days) whose windows, from their
    first release to the warm start's last end, overlap are solved together."""
    days: dict[str, list[int]] = {}
    for i, j in enumerate(prob.jobs):
        days.setdefault(j.partition, []).append(i)
    spans = sorted((min(prob.jobs[i].release for i in ids),
                    max(hint[i] + prob.jobs[i].duration for i in ids), ids)
                   for ids in days.values())
    out: list[list[int]] = []
    reach = -1
    for first, last, ids in spans:
        if out and first < reach:
            out[-1] += ids
        else:
            out.append(list(ids))
        reach = max(reach, last)
    return out


def feasible(prob: Problem, starts: Sequence[int]) -> bool:
    """Whether ``starts`` respects releases, precedences and every pool's capacity."""
    jobs = prob.jobs
    if any(s < j.release or any(s < starts[p] + jobs[p].duration for p in j.preds)
           for j, s in zip(jobs, starts, strict=True)):
        return False
    steps: dict[str, list[tuple[int, int]]] = {}
    for j, s in zip(jobs, starts, strict=True):
        steps.setdefault(j.pool, []).extend(((s, j.slots), (s + j.duration, -j.slots)))
    for pool, changes in steps.items():
        used = 0
        for _, delta in sorted(changes, key=lambda c: (c[0], c[1])):
            used += delta
            if used > prob.capacity[pool]:
                return False
    return True


def solve(scenario: Scenario, traces: dict[str, list[dict[str, Any]]],
          budget: float = DEFAULT_BUDGET) -> Clairvoyant:
    """The clairvoyant schedule of ``scenario``, warm-started from the best of ``traces``
    (policy -> trace of that policy on this very scenario and seed) within ``budget``
    deterministic seconds of CP-SAT work in all, shared among the independent parts by size.
    Each part is solved alone (the others' jobs left out): the sum of the parts' bounds is a
    bound of the whole; the parts' schedules together are kept when they do not overlap,
    otherwise re-timed as a list schedule in their order, and kept only when better than the
    warm start."""
    prob = problem(scenario)
    jobs = prob.jobs
    starts_by = {name: list_schedule(prob, trace_rank(prob, t)) for name, t in traces.items()}
    starts_by["due order"] = list_schedule(prob, [j.due if j.due is not None else math.inf
                                                  for j in jobs])
    best_name = min(starts_by, key=lambda n: score(prob, starts_by[n])[::-1])
    hint = starts_by[best_name]
    start_score = score(prob, hint)
    lb = relaxed_bound(prob)
    statuses: list[str] = []
    best = hint
    if start_score[1] > lb:  # otherwise the warm start is already optimal
        coarse = _coarse(prob)
        found = list_schedule(coarse, hint)  # the warm start, feasible in whole units
        part_lb = 0
        for part in components(coarse, found):
            if all(jobs[i].due is None for i in part):
                continue
            share = max(budget * len(part) / len(jobs), 0.05)
            part_starts, bound, status = _solve_part(coarse, part, found, share)
            part_lb += bound * UNIT
            statuses.append(status)
            for i, s in zip(part, part_starts, strict=True):
                found[i] = s
        # in seconds: the plan as it is (feasible: every unit rounds up), or re-timed in its order
        for cand in ([s * UNIT for s in found], list_schedule(prob, found)):
            if feasible(prob, cand) and score(prob, cand)[1] < score(prob, best)[1]:
                best = cand
        lb = max(lb, part_lb)
    misses, tardy = score(prob, best)
    why = "warm start optimal" if not statuses else "OPTIMAL" if all(
        s == "OPTIMAL" for s in statuses) else \
        f"FEASIBLE ({statuses.count('OPTIMAL')} of {len(statuses)} parts proven optimal)"
    return Clairvoyant(misses, round(tardy / 60, 3), round(min(lb, tardy) / 60, 3), why,
                       best_name, round(start_score[1] / 60, 3), len(jobs))


def _coarse(prob: Problem) -> Problem:
    """The problem in ``UNIT``-second steps, durations and releases rounded up (so a coarse plan
    is feasible in seconds), due times rounded down."""
    return Problem([Job(j.pipeline, j.partition, j.pool, j.slots, -(-j.duration // UNIT),
                        -(-j.release // UNIT), j.preds,
                        None if j.due is None else j.due // UNIT, j.weight) for j in prob.jobs],
                   prob.capacity, -(-prob.end // UNIT))


def _solve_part(prob: Problem, part: list[int], hint: Sequence[int],
                budget: float) -> tuple[list[int], int, str]:
    """CP-SAT on the jobs ``part`` alone: (their starts, the proven bound, the status)."""
    from ortools.sat.python import cp_model

    jobs = prob.jobs
    local = {g: n for n, g in enumerate(part)}
    model = cp_model.CpModel()
    starts, ends, intervals = [], [], []
    top = max(max(hint[i] + jobs[i].duration for i in part),
              max(jobs[i].release for i in part) + sum(jobs[i].duration for i in part))
    for i in part:
        j = jobs[i]
        s = model.new_int_var(j.release, top, f"s{i}")
        e = model.new_int_var(j.release + j.duration, top + j.duration, f"e{i}")
        intervals.append(model.new_interval_var(s, j.duration, e, f"i{i}"))
        starts.append(s)
        ends.append(e)
        model.add_hint(s, hint[i])
        model.add_hint(e, hint[i] + j.duration)
    for i in part:
        for p in jobs[i].preds:
            model.add(starts[local[i]] >= ends[local[p]])
    for pool, cap in prob.capacity.items():
        mine = [n for n, i in enumerate(part) if jobs[i].pool == pool]
        if mine:
            model.add_cumulative([intervals[n] for n in mine], [jobs[part[n]].slots for n in mine],
                                cap)
    terms = []
    for n, i in enumerate(part):
        j = jobs[i]
        if j.due is None:
            continue
        late = model.new_int_var(0, top + j.duration, f"t{i}")
        model.add(late >= ends[n] - j.due)
        model.add_hint(late, max(0, hint[i] + j.duration - j.due))
        terms.append(j.weight * late)
    model.minimize(sum(terms))
    solver = cp_model.CpSolver()
    # one thread running the portfolio's subsolvers (LNS included) interleaved: deterministic
    solver.parameters.num_workers = WORKERS
    solver.parameters.interleave_search = True
    solver.parameters.random_seed = 1
    solver.parameters.max_deterministic_time = budget
    solver.parameters.max_time_in_seconds = budget * 30 + 5  # a safety net: the work budget ends it
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [hint[i] for i in part], 0, solver.status_name(status)
    bound = math.ceil(solver.best_objective_bound - 1e-6)
    return [solver.value(s) for s in starts], bound, solver.status_name(status)


RULES = ("fifo", "edf", "slack", "atc", "jit")  # the online policies that warm-start the solve


def solve_with_rules(scenario: Scenario, budget: float = DEFAULT_BUDGET,
                     ) -> tuple[dict[str, dict[str, Any]], Clairvoyant]:
    """Every policy of ``RULES`` on ``scenario`` (metrics by policy), and the clairvoyant
    schedule warm-started from their traces."""
    from andon.sim.run import simulate

    rows, traces = {}, {}
    for policy in RULES:
        metrics, result = simulate(scenario, policy)
        rows[policy], traces[policy] = metrics, result.trace
    return rows, solve(scenario, traces, budget)
