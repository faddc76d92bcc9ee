"""jit's rollout (``policies.Jit``): at a contended decision, which run of the pool starts first,
scored on what-if days (``lookahead.simulate_day``) of several worlds.

A *world* is one guess of what the planner cannot know yet: every pipeline's duration, the
arrival of every source of the day not landed yet, the end of every executing run. The model
worlds are the typical one (p50 durations, p50 arrivals, runs ending at their p50) and a slow one
(p90 durations). Sampled worlds draw each of these from the learned observations
(``stats.Series.draw``: the newest weigh most; a missing source lands after now, an executing run
ends after its elapsed time), from a generator seeded by the day and the decision's time: a
decision is deterministic, and every candidate is scored on the same worlds (common random
numbers: a difference between candidates is not a difference between draws).

A candidate is a run started now, or one slot of the pool kept idle until the next executing run
ends (the rule then chooses among what is ready, a run just released among them). It is started
in each world and the day continued under each of the base rules; its value in a continuation is
its outcome in each world (the models) or its mean over the worlds (misses, weighted tardiness),
and it is worth its best continuation. Pure: no I/O, no clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from andon.planner.lookahead import Key, Outcome, Rekey, day_steps, planned
from andon.planner.policies import Planner
from andon.planner.state import R, Work

if TYPE_CHECKING:
    from andon.planner.policies import Jit, _Load


@dataclass(frozen=True)
class World:
    """What a what-if day takes as given: durations by pipeline, arrivals by source (epoch
    seconds), the other partitions' executing runs (pool, slots, end) and the day's (pipeline ->
    end)."""

    durations: dict[str, float]
    arrivals: dict[str, float]
    busy: list[tuple[str, int, float]]
    running: dict[str, float]


def model_worlds(jit: Jit, load: _Load, arrivals: dict[str, float]) -> list[World]:
    """The typical world and the slow one (p90 durations, otherwise typical)."""
    names = list(jit.graph.pipelines)
    return [World({p: duration(p) for p in names}, arrivals, load.busy, load.running)
            for duration in (jit.stats.duration, jit.stats.duration_p90)]


def sampled_worlds(jit: Jit, key: str, now: float, k: int) -> list[World]:
    """``k`` worlds drawn from the learned observations (see the module's docstring)."""
    graph, stats, state = jit.graph, jit.stats, jit._state
    rng = random.Random(f"{key}/{now!r}")
    out = []
    for _ in range(k):
        durations = {}
        for name in graph.pipelines:
            series = stats.durations.get(name)
            drawn = series.draw(rng) if series is not None else None
            durations[name] = drawn if drawn is not None else stats.duration(name)
        arrivals = {}
        for asset in graph.assets.values():
            if not asset.source:
                continue
            part = state.partitions.get((asset.name, key)) if state is not None else None
            end = asset.partitions.end(key).timestamp()
            if part is not None:
                arrivals[asset.name] = part.at.timestamp()
                continue
            series = stats.arrivals.get(asset.name)
            offset = series.draw(rng, now - end) if series is not None else None
            arrivals[asset.name] = end + offset if offset is not None else now
        busy, running = [], {}
        for run in state.running() if state is not None else ():
            if run.started_at is None or run.pipeline not in graph.pipelines:
                continue
            began = run.started_at.timestamp()
            series = stats.durations.get(run.pipeline)
            took = series.draw(rng, now - began) if series is not None else None
            end = max(began + took if took is not None else now, now)
            if run.partition == key:
                running[run.pipeline] = end
            else:
                busy.append((run.pool, run.slots, end))
        out.append(World(durations, arrivals, busy, running))
    return out


def day(jit: Jit, key: str, now: float, world: World, load: _Load, rule: Planner,
        keys: tuple[Key, Rekey], first: tuple[str, str] | None) -> Outcome:
    """The what-if day of ``key`` in ``world``, ``first`` started now, then ``rule``."""
    return planned(day_in_steps(jit, key, now, world, load, rule, keys, first))


def day_in_steps(jit: Jit, key: str, now: float, world: World, load: _Load, rule: Planner,
                 keys: tuple[Key, Rekey], first: tuple[str, str] | None = None
                 ) -> Generator[None, None, Outcome]:
    """``day`` in slices of work (``lookahead.day_steps``): the day's plan under a rule, spread
    over several decisions on a large graph."""
    return day_steps(jit.graph, key, world.arrivals, world.durations.__getitem__, keys[0], now,
                     world.busy, load.backlog, load.done, world.running, rule.dynamic,
                     first=first, rekey_all=keys[1], ends=jit.partition_end)


def rule_score(outs: list[Outcome], sampled: bool) -> tuple[float, float, float, float]:
    """A rule's plan of the day in each world (``day``), scored for the day's choice of rule
    (``policies._better``): (misses, weighted tardiness) in the typical world then in the slow
    one; or, on sampled worlds, their means twice."""
    if not sampled:
        return (outs[0].misses, outs[0].weighted_tardiness, outs[1].misses,
                outs[1].weighted_tardiness)
    misses = sum(o.misses for o in outs) / len(outs)
    wt = sum(o.weighted_tardiness for o in outs) / len(outs)
    return (misses, wt, misses, wt)


Table = list[list[list[Outcome]]]  # candidate -> continuation -> world -> outcome


def candidates(jit: Jit, ready: list[R], out: list[R], free: dict[str, int],
               now: float) -> list[R]:
    """The runs that may start first: the base order's and each continuation rule's first
    choice among the ready runs of the base's pool (none when all of them may start)."""
    pool = jit.graph.pipelines[out[0].pipeline].pool
    mine = [r for r in ready if jit.graph.pipelines[r.pipeline].pool == pool]
    if len(mine) <= free.get(pool, 0):
        return []
    cands: list[R] = [out[0]]
    for rule in jit.continuations:
        first = Planner.order(rule, mine, now)[0]
        if first not in cands:
            cands.append(first)
    return cands if len(cands) > 1 else []


def table(jit: Jit, key: str, now: float, cands: Sequence[Work | None], worlds: list[World],
          load: _Load, rules: list[Planner] | None = None) -> Table:
    """Every candidate's outcome under every continuation rule in every world (a candidate
    None: nothing forced, the rule decides from the start)."""
    rules = list(jit.continuations) if rules is None else rules
    keys = {rule.name: rule.what_if_keys() for rule in rules}  # one decision: keys stand still
    return [[[day(jit, key, now, w, load, rule, keys[rule.name],
                  None if c is None else (c.pipeline, c.partition))
              for w in worlds] for rule in rules] for c in cands]


def idle_worlds(worlds: list[World], pool: str, now: float) -> list[World] | None:
    """``worlds`` with one slot of ``pool`` kept idle until the next executing run ends (a slot
    left for a run about to be ready); None when nothing executes in one of them."""
    out = []
    for w in worlds:
        ends = [e for e in (*w.running.values(), *(e for _, _, e in w.busy)) if e > now]
        if not ends:
            return None
        out.append(World(w.durations, w.arrivals, [*w.busy, (pool, 1, min(ends))], w.running))
    return out


def per_world_best(tab: Table) -> list[list[tuple[int, float]]]:
    """Each candidate's best continuation in each world, as (misses, weighted tardiness)."""
    return [[min((o[w].misses, o[w].weighted_tardiness) for o in cand)
             for w in range(len(cand[0]))] for cand in tab]


def mean_value(tab: Table, miss_weight: float = 0.0) -> list[tuple[float, float]]:
    """Each candidate's best continuation by its mean over the worlds: (mean weighted
    tardiness + ``miss_weight`` x mean misses, mean misses)."""
    out = []
    for cand in tab:
        best = None
        for outs in cand:
            n = len(outs)
            wt = sum(o.weighted_tardiness for o in outs) / n
            misses = sum(o.misses for o in outs) / n
            value = (wt + miss_weight * misses, misses)
            best = value if best is None or value < best else best
        assert best is not None
        out.append(best)
    return out


def roll_out(jit: Jit, ready: list[R], out: list[R], free: dict[str, int], now: float
             ) -> list[R]:
    """``out`` with its first run replaced by a better candidate of its pool, or with one run of
    that pool fewer to keep a slot idle (``Jit.wait``), if either is better (see
    ``policies.Jit``)."""
    cands = candidates(jit, ready, out, free, now)
    if not cands:
        return out
    key = max((r.partition for r in ready), key=lambda k: (len(k), k))
    try:
        arrivals = jit._arrivals(key)
    except ValueError:  # a key outside the partitions (before their start)
        return out
    load = jit._load(key, now)
    pool = jit.graph.pipelines[cands[0].pipeline].pool
    score: Callable[[Table], list[Any]]
    better: Callable[[Any, Any], bool]
    if not jit.worlds:  # the models: better on the typical and on the slow world
        worlds = model_worlds(jit, load, arrivals)
        score = per_world_best
        better = lambda new, old: all(  # noqa: E731
            n[0] <= o[0] and n[1] < o[1] - 60 for n, o in zip(new, old))
    else:  # sampled worlds: better in the mean
        worlds = sampled_worlds(jit, key, now, jit.worlds)
        score = lambda tab: mean_value(tab, jit.miss_weight)  # noqa: E731
        better = lambda new, old: new[1] <= old[1] and new[0] < old[0] - jit.margin  # noqa: E731
    values: list[Any] = score(table(jit, key, now, cands, worlds, load))
    idle = idle_worlds(worlds, pool, now) if jit.wait and free.get(pool, 0) else None
    if idle is not None:  # one more candidate: keep a slot idle
        values += score(table(jit, key, now, [None], idle, load))
    ok = [i for i in range(1, len(values)) if better(values[i], values[0])]
    if not ok:
        return out
    pick = min(ok, key=lambda i: values[i])
    jit.rolled += 1
    if pick == len(cands):  # keep a slot idle: the pool starts one run fewer
        return _one_fewer(jit, out, pool, free[pool])
    chosen = cands[pick]
    return [chosen, *[r for r in out if r is not chosen]]


def _one_fewer(jit: Jit, out: list[R], pool: str, free: int) -> list[R]:
    """``out`` with as many runs of ``pool`` as fit in one slot fewer than ``free``."""
    left, kept = free - 1, []
    for r in out:
        pipe = jit.graph.pipelines[r.pipeline]
        if pipe.pool == pool:
            if left < pipe.slots:
                continue
            left -= pipe.slots
        kept.append(r)
    return kept
