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
Terms = Callable[[Node], tuple[float, float]]  # a node -> (due, predicted duration)


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
        # least slack keeps ready work in a queue per pool, ordered once (``SlackQueues``)
        terms: Callable[[], Terms | None] | None = getattr(order, "terms", None)
        found = terms() if terms is not None else None
        self.queues = SlackQueues(graph, found, t) if found is not None else None
        # nodes not queued yet are numbered as the engine would queue them: when they are ready
        nodes = self.nodes = list(nodes)
        self.arrivals = list(arrivals)
        self.seq = max((n.seq for n in nodes if n.kind != FUTURE), default=0)
        for node in self.arrivals:
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
        if self.queues is not None:
            self.queues.add(node)
        else:
            self.ready.append(node)

    def run(self, t: float) -> None:
        """Simulate to the end. Then each node's ``dependents`` are dropped: what is left points
        upstream only (``inputs``, ``cause``), so a schedule is freed by reference counting once
        its forecast is, not by the cyclic collector, whose full passes over a live plan's
        nodes were the tail of its re-plans."""
        now, now_slides = t, True
        while True:
            self._dispatch(now, now_slides)
            if not self.heap:
                for node in (*self.nodes, *self.arrivals):
                    node.dependents = []
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
        if self.queues is not None:
            if self.queues.exact(now):
                for node in self.queues.dispatch(now, now_slides, self.free, self.busy):
                    self._push(now + node.duration, node)  # its finish
                return
            self.ready, self.queues = self.queues.drain(), None  # out of its range: sort
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


class SlackQueues:
    """Ready work under least slack without sorting it at each dispatch, for the same starts in
    the same order as sorting by ``((due - now) - duration, seq)`` and walking that.

    Each pool has a heap keyed by the exact value of ``due - duration`` (a float and its
    rounding error, so no two values compare equal that are not) and then ``seq``. While
    ``due - now`` is exact (Sterbenz: ``now / 2 <= due <= 2 * now``, so for any epoch time of
    this century), the rounded slack ``(due - now) - duration`` is a monotonic function of that
    value, so the heap's order is the sorted order except where two different values round to
    the same slack: those come out of the heap next to each other and are put in ``seq`` order,
    as the sort does. Work with no due time (infinite slack) ranks after all the rest in ``seq``
    order: it has a heap of its own. Pools are independent (a pipeline's ready work is all in its
    pool), so a pool is walked only while it has room, and the runs started are handed back in
    the order the single sorted walk would have started them. ``exact`` says when the premise
    fails (the schedule then sorts, as without the queues)."""

    def __init__(self, graph: Graph, terms: Terms, t: float) -> None:
        self.graph, self.terms = graph, terms
        self.heaps: dict[str, tuple[list[_Entry], list[_Entry]]] = {}  # pool -> due, no due
        self.least = min((p.slots for p in graph.pipelines.values()), default=1)
        self.lo_due, self.hi_due = INF, -INF  # the finite due times queued so far
        self.t = t

    def add(self, node: Node) -> None:
        due, duration = self.terms(node)
        heaps = self.heaps.get(node.pool)
        if heaps is None:
            heaps = self.heaps[node.pool] = ([], [])
        if due == INF:
            heapq.heappush(heaps[1], (INF, 0.0, node.seq, due, duration, node))
            return
        hi = due - duration
        back = hi - due
        lo = (due - (hi - back)) + (-duration - back)  # the rounding error (TwoSum)
        self.lo_due, self.hi_due = min(self.lo_due, due), max(self.hi_due, due)
        heapq.heappush(heaps[0], (hi, lo, node.seq, due, duration, node))

    def exact(self, now: float) -> bool:
        """Whether ``due - now`` is exact for every queued due time (and ``now`` is an epoch
        time): the premise of the heap's order."""
        return self.least >= 1 and now > 0 and (
            self.hi_due == -INF or (now <= 2 * self.lo_due and self.hi_due <= 2 * now))

    def drain(self) -> list[Node]:
        """Every queued node (they leave the queues)."""
        out = [entry[-1] for both in self.heaps.values() for heap in both for entry in heap]
        self.heaps = {}
        return out

    def dispatch(self, now: float, now_slides: bool, free: dict[str, int],
                 busy: dict[str, int]) -> list[Node]:
        """Start what fits at ``now``; the nodes started, in the order the sorted walk starts
        them (their ``start``, ``finish``, ``waited`` and ``slides`` set)."""
        started: list[tuple[float, int, Node]] = []
        for pool, (due, rest) in self.heaps.items():
            if free.get(pool, 0) >= self.least:
                self._walk(pool, due, True, now, now_slides, free, busy, started)
                if rest:
                    self._walk(pool, rest, False, now, now_slides, free, busy, started)
        if len(started) > 1:
            started.sort(key=lambda s: (s[0], s[1]))
        return [s[2] for s in started]

    def _walk(self, pool: str, heap: list[_Entry], ties: bool, now: float, now_slides: bool,
              free: dict[str, int], busy: dict[str, int],
              started: list[tuple[float, int, Node]]) -> None:
        """Start ``pool``'s work from ``heap`` while the pool has room; ``ties``: put runs of
        equal slack in ``seq`` order (the heap of work with no due time is in it already)."""
        pipelines = self.graph.pipelines
        skipped = []
        while heap and free.get(pool, 0) >= self.least:
            entry = heapq.heappop(heap)
            slack = (entry[3] - now) - entry[4]
            group = [entry]
            if ties:
                while heap and (heap[0][3] - now) - heap[0][4] == slack:
                    group.append(heapq.heappop(heap))
                if len(group) > 1:
                    group.sort(key=_seq)
            for entry in group:
                node = entry[-1]
                cap = pipelines[node.pipeline].max_concurrent
                if free.get(pool, 0) < node.slots or (cap and busy.get(node.pipeline, 0) >= cap):
                    skipped.append(entry)
                    continue
                free[pool] -= node.slots
                busy[node.pipeline] = busy.get(node.pipeline, 0) + 1
                node.start, node.finish = now, now + node.duration
                node.waited = now > node.ready
                node.slides = now_slides if node.waited else node.ready_slides
                started.append((slack, node.seq, node))
        for entry in skipped:
            heapq.heappush(heap, entry)


_Entry = tuple[float, float, int, float, float, Node]  # exact due - duration, seq, terms, node


def _seq(entry: _Entry) -> int:
    return entry[2]
