"""What-if planning of one partition's day: list-schedule every pipeline of that partition with
predicted arrivals and durations under a dispatch rule, and score the result.

``jit`` uses it to choose the rule whose plan keeps the deliverables most on time. Pure: no I/O,
no clock. Each pool keeps a heap of waiting jobs keyed by the rule. A rule whose order does not
change with the clock (earliest due, least slack) is keyed once, at the plan's start, so one
what-if day costs O(n log n); one whose order does (apparent tardiness cost) is keyed again at each
dispatch, as the engine does, over the jobs then waiting.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Generator
from dataclasses import dataclass

from andon.model.graph import Graph


@dataclass(eq=False)
class Job:
    """A run in the what-if schedule (the attributes a policy's key looks at). Hashed by
    identity: a what-if day's key may keep per-job constants by the job itself."""

    pipeline: str
    partition: str
    seq: int


Key = Callable[[Job, float, float], tuple[float, int]]
Entry = tuple[tuple[float, int], int, Job]  # a pool's queue: (key, order queued, job)
Rekey = Callable[[list[Entry], float, float], list[Entry]]  # the entries keyed again, in order


def atc_keys(constants: Callable[[Job], tuple[float, float, float]], k: float
             ) -> tuple[Key, Rekey]:
    """Apparent tardiness cost's key (``policies.Atc.index``) for one what-if day, from each
    job's (weight over duration, due time, duration) asked of ``constants`` once per job (the
    learned statistics and due times stand still during a what-if day; a re-keying rule keys
    every waiting job at each dispatch). The same floats in the same order of operations as
    ``Atc.index``, so the same keys and the same decisions."""
    consts: dict[Job, tuple[float, float, float]] = {}  # by the job itself (identity)
    exp, inf = math.exp, float("inf")

    def key(run: Job, now: float, mean: float) -> tuple[float, int]:
        ratio, due, dur = consts.get(run) or consts.setdefault(run, constants(run))
        if due == inf:
            return (-(ratio * 1e-6), run.seq)
        return (-(ratio * exp(-max(due - now - dur, 0.0) / (k * mean))), run.seq)

    def rekey(queue: list[Entry], now: float, mean: float) -> list[Entry]:
        km = k * mean
        out: list[Entry] = []
        for _, n, run in queue:
            ratio, due, dur = consts.get(run) or consts.setdefault(run, constants(run))
            out.append(((-(ratio * 1e-6), run.seq) if due == inf else
                        (-(ratio * exp(-max(due - now - dur, 0.0) / km)), run.seq), n, run))
        return out

    return key, rekey


@dataclass(frozen=True)
class Outcome:
    misses: int
    weighted_tardiness: float  # priority x seconds late
    finish: dict[str, float]  # pipeline -> predicted finish (epoch seconds)


def simulate_day(graph: Graph, key: str, arrivals: dict[str, float], duration: Callable[[str], float],
                 rule: Key, start: float, busy: list[tuple[str, int, float]] | None = None,
                 backlog: list[Job] | None = None, done: dict[str, float] | None = None,
                 running: dict[str, float] | None = None, rekey: bool = False,
                 first: tuple[str, str] | None = None, rekey_all: Rekey | None = None,
                 ends: Callable[[str, str], float] | None = None) -> Outcome:
    """The what-if day of ``day_steps`` (its arguments), planned at once."""
    return planned(day_steps(graph, key, arrivals, duration, rule, start, busy, backlog, done,
                             running, rekey, first, rekey_all, ends))


def planned(steps: Generator[None, None, Outcome]) -> Outcome:
    """A what-if day of ``day_steps`` planned to its end without pausing: its outcome."""
    while True:
        try:
            next(steps)
        except StopIteration as end:
            outcome: Outcome = end.value
            return outcome


WORK = 512  # units of a what-if day's work between two pauses of ``day_steps``


def day_steps(graph: Graph, key: str, arrivals: dict[str, float], duration: Callable[[str], float],
              rule: Key, start: float, busy: list[tuple[str, int, float]] | None = None,
              backlog: list[Job] | None = None, done: dict[str, float] | None = None,
              running: dict[str, float] | None = None, rekey: bool = False,
              first: tuple[str, str] | None = None, rekey_all: Rekey | None = None,
              ends: Callable[[str, str], float] | None = None, work: int | None = None
              ) -> Generator[None, None, Outcome]:
    """List-schedule every pipeline of partition ``key``, pausing (``yield``) after about
    ``work`` units of work (an event taken, a job keyed again), so that a caller can spread one
    what-if day over several decisions; its ``Outcome`` is the generator's return value. The
    pauses change nothing in the plan: it is made from what was given at its start.

    ``arrivals``: source -> epoch seconds
    (already arrived sources at their real time); inputs outside ``key`` (windows) count as there.
    ``busy``: (pool, slots, free at) of runs executing now; ``backlog``: runs of other partitions
    already waiting for a slot (they compete with this day's runs and count if they are late).
    A day already under way is planned from where it stands: ``done`` maps the pipelines of
    ``key`` that have finished to when, ``running`` those executing now to their predicted end
    (their slots are not in ``busy``). ``rekey``: the rule's order changes with the clock and
    with the competing jobs (their mean duration), so it is applied again at each dispatch.
    ``first``: (pipeline, partition) of a job waiting at ``start`` that starts then, before the
    rule picks any other (a candidate dispatch to evaluate; ignored when it is not waiting).
    ``rekey_all``: a pool's queue keyed again by ``rule`` (the same keys, in one call: a
    re-keying rule keys every waiting job at each dispatch). ``ends``: (pipeline, partition key) -> the
    partition's end (epoch seconds), when the caller keeps them (parsing keys is not free).
    """
    if rekey_all is None:
        rekey_all = lambda queue, now, mean: [(rule(j, now, mean), n, j)  # noqa: E731
                                              for _, n, j in queue]
    if ends is None:
        ends = lambda name, part: graph.pipelines[name].partitions.end(part).timestamp()  # noqa: E731
    done = done or {}
    running = running or {}
    waiting: dict[str, int] = {}
    consumers: dict[str, list[str]] = {}
    for name, pipe in graph.pipelines.items():
        needed = 0
        for inp in pipe.inputs:
            if inp.asset in graph.producer or inp.asset in arrivals:
                needed += 1
                consumers.setdefault(inp.asset, []).append(name)
        waiting[name] = needed
    durations = {p: duration(p) for p in graph.pipelines}
    mean = max(sum(durations.values()) / max(len(durations), 1), 1.0)
    free = {name: pool.capacity for name, pool in graph.pools.items()}
    queues: dict[str, list[Entry]] = {n: [] for n in graph.pools}
    events: list[tuple[float, int, str, str]] = []  # (time, order, kind, what)
    seq = 0

    def enqueue(job: Job, now: float) -> None:
        nonlocal seq
        seq += 1
        # keyed at the plan's start: a key taken when each job became ready would compare slack
        # measured at different times
        heapq.heappush(queues[graph.pipelines[job.pipeline].pool], (rule(job, start, mean), seq, job))

    for job in backlog or ():
        if job.pipeline in graph.pipelines:
            enqueue(job, start)
    for pool, slots, until in busy or ():
        free[pool] = free.get(pool, 0) - slots
        events.append((max(until, start), 1, "free", f"{pool}\0{slots}"))
    for source, at in arrivals.items():
        events.append((max(at, start), 0, "asset", source))
    finish: dict[str, float] = dict(done)
    for name in done:
        for asset in graph.pipelines[name].outputs:
            events.append((start, 0, "asset", asset))
    for name, until in running.items():
        pipe = graph.pipelines[name]
        free[pipe.pool] -= pipe.slots
        events.append((max(until, start), 1, "done", name))
    for name, n in waiting.items():
        if n == 0 and name not in done and name not in running:
            enqueue(Job(name, key, 0), start)
    heapq.heapify(events)
    other: list[tuple[Job, float]] = []
    now = start
    spent = len(graph.pipelines)  # the set-up above
    work = work or WORK

    def dispatch(job: Job, pool: str) -> None:
        pipe = graph.pipelines[job.pipeline]
        free[pool] -= pipe.slots
        end = now + durations[job.pipeline]
        if job.partition == key:
            heapq.heappush(events, (end, 1, "done", job.pipeline))
        else:  # another partition's run: it holds its slots, then counts if late
            heapq.heappush(events, (end, 1, "free", f"{pool}\0{pipe.slots}"))
            other.append((job, end))

    def force(wanted: tuple[str, str]) -> None:
        pool = graph.pipelines[wanted[0]].pool
        queue = queues[pool]
        for i, (_, _, job) in enumerate(queue):
            if (job.pipeline, job.partition) == wanted and free[pool] >= graph.pipelines[job.pipeline].slots:
                queue.pop(i)
                heapq.heapify(queue)
                dispatch(job, pool)
                return

    while True:
        # nothing starts until everything there at the start is queued: the forced job and
        # the rule then choose among all that waits, as the engine does
        if not (events and events[0][0] <= start):
            if first is not None:
                force(first)
                first = None
            for pool, queue in queues.items():
                if rekey and len(queue) > 1 and free[pool] > 0:
                    here = max(sum([durations[j.pipeline] for _, _, j in queue]) / len(queue), 1.0)
                    queue[:] = rekey_all(queue, now, here)
                    heapq.heapify(queue)
                    spent += len(queue)
                while queue:
                    job = queue[0][2]
                    if free[pool] < graph.pipelines[job.pipeline].slots:
                        break
                    heapq.heappop(queue)
                    dispatch(job, pool)
        if not events:
            break
        spent += 1
        if spent >= work:
            yield
            spent = 0
        now, _, kind, what = heapq.heappop(events)
        if kind == "free":
            held, count = what.split("\0")
            free[held] += int(count)
            continue
        assets = [what]
        if kind == "done":
            pipe = graph.pipelines[what]
            free[pipe.pool] += pipe.slots
            finish[what] = now
            assets = list(pipe.outputs)
        for asset in assets:
            for consumer in consumers.get(asset, ()):
                waiting[consumer] -= 1
                if waiting[consumer] == 0 and consumer not in done and consumer not in running:
                    enqueue(Job(consumer, key, 0), now)
    misses, tardiness = 0, 0.0
    horizon = 7 * 86400
    for name, pipe in graph.pipelines.items():
        if pipe.deadline is None:
            continue
        due = ends(name, key) + pipe.deadline.total_seconds()
        end = finish.get(name, float("inf"))
        if end > due:
            misses += 1
            tardiness += pipe.priority * (min(end, due + horizon) - due)
    for job, end in other:
        pipe = graph.pipelines[job.pipeline]
        if pipe.deadline is not None:
            due = ends(job.pipeline, job.partition) + pipe.deadline.total_seconds()
            if end > due:
                misses += 1
                tardiness += pipe.priority * (end - due)
    return Outcome(misses, tardiness, finish)
