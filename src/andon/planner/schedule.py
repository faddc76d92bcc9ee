"""The forward list-schedule behind the forecast: nodes (runs, partitions to make, source
arrivals), their inputs, and a simulation from ``now`` that starts each piece of work when its
inputs exist and its pool has room, in a given order. Pure; no clock, no I/O."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable

from andon.model.graph import Graph

INF = float("inf")

ARRIVAL, RUNNING, QUEUED, FUTURE, BLOCKED = "arrival", "running", "queued", "future", "blocked"


class Node:
    """One piece of work (or a source arrival) in the schedule."""

    __slots__ = ("pipeline", "partition", "kind", "seq", "duration", "pool", "slots", "pending",
                 "ready", "ready_slides", "cause", "dependents", "deps", "start", "finish",
                 "slides", "waited", "expected", "late", "note", "inputs")

    def __init__(self, pipeline: str, partition: str, kind: str, seq: int) -> None:
        self.pipeline, self.partition, self.kind, self.seq = pipeline, partition, kind, seq
        self.duration, self.pool, self.slots = 0.0, "", 0
        self.pending = 0
        self.ready, self.ready_slides = -INF, False
        self.cause: Node | None = None  # the input that arrived last (what the start waited for)
        self.dependents: list[Node] = []
        self.deps: list[tuple[str, tuple[str, str]]] = []
        self.inputs: list[Node] = []  # the nodes of ``deps``
        self.start: float | None = None
        self.finish: float | None = None
        self.slides = False  # start and finish move with the clock
        self.waited = False  # started later than it was ready: its pool was full
        self.expected = 0.0  # arrivals: the p50 moment; runs: the p50 end
        self.late = False  # an overdue arrival, or a run past its p50
        self.note = ""


Order = Callable[[list[Node], float], list[Node]]  # ready work, now (epoch s) -> best first


class Schedule:
    """Simulate forward from ``t``: each node's start and finish."""

    def __init__(self, nodes: Iterable[Node], arrivals: Iterable[Node], graph: Graph,
                 order: Order, t: float) -> None:
        self.graph, self.order = graph, order
        self.free = {name: pool.capacity for name, pool in graph.pools.items()}
        self.busy: dict[str, int] = {}
        self.heap: list[tuple[float, int, Node]] = []
        self.ready: list[Node] = []
        self.count = 0
        # nodes not queued yet are numbered as the engine would queue them: when they are ready
        nodes = list(nodes)
        self.seq = max((n.seq for n in nodes if n.kind != FUTURE), default=0)
        for node in arrivals:
            self._push(node.finish if node.finish is not None else t, node)
        for node in nodes:
            if node.kind == RUNNING:
                self._push(node.finish if node.finish is not None else t, node)
                self.free[node.pool] = self.free.get(node.pool, 0) - node.slots
                self.busy[node.pipeline] = self.busy.get(node.pipeline, 0) + 1
            elif node.kind == QUEUED and node.expected > t:  # a retry waiting for its back-off
                self._push(node.expected, node)
            elif node.kind != BLOCKED and node.pending == 0:
                node.ready, node.ready_slides = t, True
                self._ready(node)

    def _push(self, at: float, node: Node) -> None:
        self.count += 1
        heapq.heappush(self.heap, (at, self.count, node))

    def _ready(self, node: Node) -> None:
        if node.kind == FUTURE:
            self.seq += 1
            node.seq = self.seq
        self.ready.append(node)

    def run(self, t: float) -> None:
        now, now_slides = t, True
        while True:
            self._dispatch(now, now_slides)
            if not self.heap:
                return
            now, now_slides = self.heap[0][0], False
            while self.heap and self.heap[0][0] == now:
                _, _, node = heapq.heappop(self.heap)
                if node.kind == QUEUED and node.start is None:  # its back-off ended
                    node.ready = now
                    self._ready(node)
                    continue
                now_slides = now_slides or node.slides
                if node.kind != ARRIVAL:
                    self.free[node.pool] += node.slots
                    self.busy[node.pipeline] -= 1
                for dep in node.dependents:
                    dep.pending -= 1
                    if now > dep.ready or (now == dep.ready and node.slides):
                        dep.ready, dep.ready_slides, dep.cause = now, node.slides, node
                    if dep.pending == 0 and dep.kind != BLOCKED:
                        self._ready(dep)

    def _dispatch(self, now: float, now_slides: bool) -> None:
        """Start what fits at ``now``, in the policy's order. When nothing else will happen, a
        run the policy held back starts anyway (the plan must not stall)."""
        if not self.ready:
            return
        ready = sorted(self.ready, key=lambda n: n.seq)
        ranked = self.order(ready, now) if len(ready) > 1 else ready
        if not self.heap and len(ranked) < len(ready):
            listed = {id(n) for n in ranked}
            ranked = [*ranked, *(n for n in ready if id(n) not in listed)]
        started: set[int] = set()
        for node in ranked:
            pipe = self.graph.pipelines[node.pipeline]
            if self.free.get(node.pool, 0) < node.slots:
                continue
            if pipe.max_concurrent and self.busy.get(node.pipeline, 0) >= pipe.max_concurrent:
                continue
            self.free[node.pool] -= node.slots
            self.busy[node.pipeline] = self.busy.get(node.pipeline, 0) + 1
            node.start, node.finish = now, now + node.duration
            node.waited = now > node.ready
            node.slides = now_slides if node.waited else node.ready_slides
            self._push(node.finish, node)
            started.add(id(node))
        self.ready = [n for n in ready if id(n) not in started]
