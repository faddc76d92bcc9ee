"""Dispatch policies: given the queued runs whose inputs are all present, which start first.

A policy is called by the engine with (graph, state, ready runs, now) and returns the runs to
start, best first; it may leave a run out to keep its slot free for a more urgent one (``jit``).
The same objects run live and in the simulator.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from andon.events import Event, RunSucceeded
from andon.model.graph import Graph
from andon.planner.due import latest_finish_offsets, weights
from andon.planner.stats import Stats

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

    name = "fifo"

    def __init__(self, graph: Graph, stats: Stats | None = None) -> None:
        self.graph = graph
        self.stats = stats or stats_for(graph)
        self.weight = weights(graph)
        self._offsets: dict[str, float] | None = None
        self._ends: dict[tuple[str, str], float] = {}

    # -- learning --------------------------------------------------------------------------------

    def observe(self, state: Any, events: Iterable[Event]) -> None:
        """Learn from recorded events (run durations)."""
        for ev in events:
            if isinstance(ev, RunSucceeded):
                run = state.runs.get(ev.run_id)
                if run is not None and run.started_at is not None:
                    self.stats.observe_duration(ev.pipeline, (ev.at - run.started_at).total_seconds())
                    self._offsets = None

    # -- due times -------------------------------------------------------------------------------

    def offsets(self) -> dict[str, float]:
        if self._offsets is None:
            self._offsets = latest_finish_offsets(self.graph, self.stats.duration)
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

    def order(self, ready: list[Any], now: float) -> list[Any]:
        return ready

    def __call__(self, graph: Graph, state: Any, ready: list[Any], now: datetime) -> list[Any]:
        return self.order(ready, now.timestamp())


class Fifo(Planner):
    """First come, first served."""

    name = "fifo"


class Edf(Planner):
    """Earliest due time first (deadlines propagated upstream)."""

    name = "edf"

    def order(self, ready: list[Any], now: float) -> list[Any]:
        return sorted(ready, key=lambda r: (self.due(r.pipeline, r.partition), r.seq))


class Slack(Planner):
    """Least slack first: due time minus now minus the predicted duration."""

    name = "slack"

    def order(self, ready: list[Any], now: float) -> list[Any]:
        return sorted(ready, key=lambda r: (self.slack(r.pipeline, r.partition, now), r.seq))


class Atc(Planner):
    """Apparent tardiness cost (Vepsalainen & Morton): weight over duration, discounted by how
    much slack is left relative to the average duration."""

    name = "atc"
    k = 2.0

    def index(self, run: Any, now: float, mean: float) -> float:
        dur = max(self.stats.duration(run.pipeline), 1.0)
        w = self.weight.get(run.pipeline, 0.0) + 0.01  # undated work still gets done
        slack = self.slack(run.pipeline, run.partition, now)
        if slack == INF:
            return w / dur * 1e-6
        return w / dur * math.exp(-max(slack, 0.0) / (self.k * mean))

    def order(self, ready: list[Any], now: float) -> list[Any]:
        if len(ready) < 2:
            return ready
        mean = sum(self.stats.duration(r.pipeline) for r in ready) / len(ready)
        mean = max(mean, 1.0)
        return sorted(ready, key=lambda r: (-self.index(r, now, mean), r.seq))


class Jit(Atc):
    """The default: weighted least slack among runs that are late or about to be, apparent
    tardiness cost for the rest."""

    name = "jit"

    def order(self, ready: list[Any], now: float) -> list[Any]:
        if len(ready) < 2:
            return ready
        mean = max(sum(self.stats.duration(r.pipeline) for r in ready) / len(ready), 1.0)

        def key(r: Any) -> tuple[float, float, int]:
            slack = self.slack(r.pipeline, r.partition, now)
            w = self.weight.get(r.pipeline, 0.0)
            if slack < mean and w > 0:  # urgent: the most important, least slack first
                return (0.0, slack / w, r.seq)
            return (1.0, -self.index(r, now, mean), r.seq)

        return sorted(ready, key=key)


POLICIES: dict[str, type[Planner]] = {
    "fifo": Fifo, "edf": Edf, "slack": Slack, "atc": Atc, "jit": Jit,
}


def make_policy(name: str, graph: Graph, stats: Stats | None = None) -> Planner:
    try:
        return POLICIES[name](graph, stats)
    except KeyError:
        raise ValueError(f"unknown policy {name!r}; known: {', '.join(POLICIES)}") from None
