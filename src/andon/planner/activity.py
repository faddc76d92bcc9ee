"""An activity list for the day ahead, improved by local search on the model (issue 17).

The RCPSP / weighted-tardiness way: a schedule is a priority list of jobs (pipeline, partition)
and a decoder, the parallel schedule-generation scheme of ``lookahead.simulate_day`` (whenever a
slot frees, the first waiting job of the list starts). ``jit`` offers the list's first run of a
contended pool to its rollout as one more candidate (``policies.Jit``); dispatching by the list
itself measured worse (docs/decisions.md, "An activity list ... (issue 17, step 4)").

``ActivityPlanner.plan``: the candidate lists are the previous plan's list (warm start: finished
jobs fall out, new ones go in at their place in the best rule's list) and the order in which each
classic rule starts the jobs in its own what-if; each is decoded on p50 and on p90 durations and
the best is kept, so on the model the list is never worse than any rule ("fortified"); the base
rule's list wins ties, then the previous one. Then a deterministic budget of moves (a late
deliverable and the jobs upstream of it, moved earlier together by a few positions) is tried,
keeping only clear improvements on p50 and p90 both (``_clearly``). Pure: no I/O, no clock; the work is counted in decodes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from andon.model.graph import Graph
from andon.planner.lookahead import Job, Key, Outcome, simulate_day

Item = tuple[str, str]  # (pipeline, partition)
Score = tuple[int, float, int, float]  # misses, weighted tardiness (priority x s): p50, p90
Duration = Callable[[str], float]
LAST = 1e18  # the key of a job the list does not name: after every listed one


@dataclass(frozen=True)
class Day:
    """What a plan of partition ``key`` starts from (``lookahead.simulate_day``'s arguments)."""

    key: str
    start: float
    arrivals: dict[str, float]
    busy: list[tuple[str, int, float]]
    backlog: list[Job]
    done: dict[str, float]
    running: dict[str, float]


@dataclass(frozen=True)
class Rule:
    """A classic rule as a source of candidate lists: its sort key and whether it re-keys."""

    key: Key
    dynamic: bool


@dataclass(frozen=True)
class Plan:
    items: list[Item]
    score: Score
    source: str  # "warm", a rule's index ("rule 0"...), or "search" (improved by a move)


class ActivityPlanner:
    """Plans a day as an activity list (see the module's docstring). ``budget``: the local
    search's evaluations a plan (each decodes the list twice, on p50 and p90)."""

    SHIFTS = (1, 3, 8, 24)  # how many positions earlier a late chain is tried

    def __init__(self, graph: Graph, durations: tuple[Duration, Duration], budget: int = 12) -> None:
        self.graph = graph
        self.durations = durations
        self.budget = budget
        self.decodes = 0  # every simulate_day call (the work done, for reports and tests)
        self._upstream: dict[str, tuple[str, ...]] = {}

    def _run(self, day: Day, duration: Duration, key: Key, rekey: bool) -> Outcome:
        self.decodes += 1
        return simulate_day(self.graph, day.key, day.arrivals, duration, key, day.start, day.busy,
                            day.backlog, day.done, day.running, rekey)

    def decode(self, day: Day, items: Sequence[Item]) -> tuple[Score, Outcome]:
        """The list's schedule on p50 durations and its score on p50 and p90 together."""
        pos = {item: i for i, item in enumerate(items)}

        def key(job: Job, now: float, mean: float) -> tuple[float, int]:
            return (pos.get((job.pipeline, job.partition), LAST), job.seq)

        typical = self._run(day, self.durations[0], key, False)
        slow = self._run(day, self.durations[1], key, False)
        return _score(typical, slow), typical

    def plan(self, day: Day, rules: Sequence[Rule], warm: Sequence[Item] | None = None) -> Plan:
        """The best list among the candidates, improved by the local search."""
        candidates: list[tuple[str, list[Item]]] = []
        for i, rule in enumerate(rules):
            outcome = self._run(day, self.durations[0], rule.key, rule.dynamic)
            candidates.append((f"rule {i}", outcome.started))
        if warm:
            candidates.insert(1, ("warm", _merge(warm, candidates[0][1])))
        best: tuple[Score, Outcome, list[Item], str] | None = None
        for source, items in candidates:
            score, outcome = self.decode(day, items)
            if best is None or _clearly(score, best[0]):  # the base rule's, then the warm, on ties
                best = (score, outcome, items, source)
        assert best is not None, "plan needs at least one rule"
        score, outcome, items, source = best
        spent = 0
        while spent < self.budget:
            improved = False
            for moved in self._moves(day, items, outcome):
                if spent >= self.budget:
                    break
                spent += 1
                new_score, new_outcome = self.decode(day, moved)
                if _clearly(new_score, score):
                    score, outcome, items, source = new_score, new_outcome, moved, "search"
                    improved = True
                    break
            if not improved:
                break
        return Plan(items, score, source)

    def _moves(self, day: Day, items: list[Item], outcome: Outcome) -> list[list[Item]]:
        """Neighbours of ``items``: for each late deliverable of the day, heaviest first, the
        deliverable and its unstarted upstream jobs moved earlier together by each of
        ``SHIFTS`` positions (relative order kept)."""
        late = []
        for name, pipe in self.graph.pipelines.items():
            if pipe.deadline is None or name in day.done:
                continue
            due = pipe.partitions.end(day.key).timestamp() + pipe.deadline.total_seconds()
            end = outcome.finish.get(name, float("inf"))
            if end > due:
                late.append((-pipe.priority * min(end - due, 7 * 86400.0), name))
        late.sort()
        pos = {item: i for i, item in enumerate(items)}
        out = []
        for _, name in late:
            chain = [(p, day.key) for p in (name, *self.upstream(name)) if (p, day.key) in pos]
            if not chain:
                continue
            first = min(pos[c] for c in chain)
            for shift in self.SHIFTS:
                if first - shift < 0 and shift != self.SHIFTS[0]:
                    break
                out.append(_shift(items, {c for c in chain}, shift))
        return out

    def upstream(self, pipeline: str) -> tuple[str, ...]:
        """The pipelines whose outputs ``pipeline`` needs, transitively (same partition)."""
        found = self._upstream.get(pipeline)
        if found is None:
            seen: dict[str, None] = {}
            todo = [pipeline]
            while todo:
                pipe = self.graph.pipelines[todo.pop()]
                for inp in pipe.inputs:
                    producer = self.graph.producer.get(inp.asset)
                    if producer is not None and producer not in seen and producer != pipeline:
                        seen[producer] = None
                        todo.append(producer)
            found = self._upstream[pipeline] = tuple(seen)
        return found


def _clearly(new: Score, old: Score) -> bool:
    """Better beyond the model's noise, on typical (p50) and on slow (p90) durations both: no
    more misses on either, and on each fewer misses or 5 % (and a priority-minute) less
    weighted tardiness."""
    if new[0] > old[0] or new[2] > old[2]:
        return False
    return all(n_m < o_m or n_w < o_w * 0.95 - 60
               for n_m, n_w, o_m, o_w in ((new[0], new[1], old[0], old[1]),
                                          (new[2], new[3], old[2], old[3])))


def _score(typical: Outcome, slow: Outcome) -> Score:
    return (typical.misses, typical.weighted_tardiness, slow.misses, slow.weighted_tardiness)


def _shift(items: list[Item], moving: set[Item], shift: int) -> list[Item]:
    """``items`` with each of ``moving`` placed ``shift`` positions earlier, just before the item
    it lands on (the relative order of the moved and of the others kept)."""
    ranked = sorted(range(len(items)),
                    key=lambda i: i - shift - 0.5 if items[i] in moving else float(i))
    return [items[i] for i in ranked]


def _merge(warm: Sequence[Item], base: Sequence[Item]) -> list[Item]:
    """The previous list for the new situation: items still to plan in their old order, items
    it did not know inserted at their position in ``base`` (the best rule's list)."""
    now = set(base)
    out = [i for i in warm if i in now]
    known = set(out)
    for index, item in enumerate(base):
        if item not in known:
            out.insert(min(index, len(out)), item)
    return out
