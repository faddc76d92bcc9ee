"""The lineage of one data set, laid out for drawing: everything upstream and downstream of it,
data sets and pipelines as nodes in columns (longest path from the left), ordered within a
column to keep edges short (barycentre sweeps), edges as curves. Coordinates only: the template
draws them as SVG, so every name is escaped there."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from andon.model.graph import Graph

COL_WIDTH = 158
ROW_HEIGHT = 44
NODE_WIDTH = 128
NODE_HEIGHT = 30
MARGIN = 12
MAX_DEPTH = 8  # pipelines upstream and downstream shown at most


@dataclass
class Node:
    id: str  # "a:NAME" or "p:NAME"
    kind: str  # asset | source | pipeline
    name: str
    layer: int = 0
    x: float = 0.0
    y: float = 0.0
    focus: bool = False
    state: str = ""


@dataclass(frozen=True, slots=True)
class Edge:
    """An edge from node ``source`` to ``target`` (ids), as an SVG path ``d``; ``upstream``:
    both ends are upstream of the focus."""

    source: str
    target: str
    upstream: bool
    d: str


@dataclass
class Layout:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    width: float = 0.0
    height: float = 0.0
    truncated: bool = False


def _neighbours(graph: Graph) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Edges of the bipartite graph: asset -> consuming pipeline -> output asset."""
    down: dict[str, set[str]] = defaultdict(set)
    up: dict[str, set[str]] = defaultdict(set)
    for pipe in graph.pipelines.values():
        for inp in pipe.inputs:
            down["a:" + inp.asset].add("p:" + pipe.name)
            up["p:" + pipe.name].add("a:" + inp.asset)
        for out in pipe.outputs:
            down["p:" + pipe.name].add("a:" + out)
            up["a:" + out].add("p:" + pipe.name)
    return down, up


def _reach(start: str, step: dict[str, set[str]], depth: int) -> tuple[set[str], bool]:
    seen, frontier, truncated = {start}, [start], False
    for _ in range(depth * 2):  # two hops per pipeline (asset -> pipeline -> asset)
        nxt = [n for f in frontier for n in step.get(f, ()) if n not in seen]
        seen.update(nxt)
        frontier = nxt
    if any(n not in seen for f in frontier for n in step.get(f, ())):
        truncated = True
    return seen, truncated


def layout(graph: Graph, focus: str, states: dict[str, str] | None = None) -> Layout:
    """Lay out the lineage of data set ``focus``; ``states`` colours nodes by id."""
    down, up = _neighbours(graph)
    start = "a:" + focus
    below, cut_down = _reach(start, down, MAX_DEPTH)
    above, cut_up = _reach(start, up, MAX_DEPTH)
    ids = below | above
    succ = {n: sorted(m for m in down.get(n, ()) if m in ids) for n in ids}
    pred = {n: sorted(m for m in up.get(n, ()) if m in ids) for n in ids}
    layer: dict[str, int] = {}
    for n in _topological(ids, pred, succ):
        layer[n] = max((layer[p] + 1 for p in pred[n]), default=0)
    columns: dict[int, list[str]] = defaultdict(list)
    for n in sorted(ids):
        columns[layer[n]].append(n)
    order = {n: i for col in columns.values() for i, n in enumerate(col)}
    for sweep in range(4):  # barycentre ordering, alternating directions
        forward = sweep % 2 == 0
        for col in sorted(columns, reverse=not forward):
            nbrs = pred if forward else succ
            def centre(n: str, nbrs: dict[str, list[str]] = nbrs) -> float:
                near = nbrs[n]
                return sum(order[m] for m in near) / len(near) if near else order[n]
            columns[col].sort(key=lambda n: (centre(n), n))
            for i, n in enumerate(columns[col]):
                order[n] = i
    tallest = max(len(c) for c in columns.values())
    out = Layout(truncated=cut_down or cut_up)
    nodes: dict[str, Node] = {}
    for col, members in columns.items():
        offset = (tallest - len(members)) * ROW_HEIGHT / 2
        for i, n in enumerate(members):
            kind, name = n.split(":", 1)
            if kind == "a":
                kind = "source" if graph.assets[name].source else "asset"
            else:
                kind = "pipeline"
            nodes[n] = Node(n, kind, name, col, MARGIN + col * COL_WIDTH,
                            MARGIN + offset + i * ROW_HEIGHT, n == start, (states or {}).get(n, ""))
    out.nodes = sorted(nodes.values(), key=lambda n: (n.layer, n.y))
    for n in ids:
        for m in succ[n]:
            a, b = nodes[n], nodes[m]
            x1, y1 = a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2
            x2, y2 = b.x, b.y + NODE_HEIGHT / 2
            mid = (x1 + x2) / 2
            out.edges.append(Edge(n, m, n in above and m in above,
                                  f"M{x1:.0f},{y1:.0f} C{mid:.0f},{y1:.0f} {mid:.0f},{y2:.0f} "
                                  f"{x2:.0f},{y2:.0f}"))
    out.width = MARGIN * 2 + (max(columns) + 1) * COL_WIDTH - (COL_WIDTH - NODE_WIDTH)
    out.height = MARGIN * 2 + tallest * ROW_HEIGHT - (ROW_HEIGHT - NODE_HEIGHT)
    return out


def _topological(ids: set[str], pred: dict[str, list[str]], succ: dict[str, list[str]]
                 ) -> list[str]:
    waiting = {n: len(pred[n]) for n in ids}
    ready = sorted(n for n, k in waiting.items() if k == 0)
    out = []
    while ready:
        n = ready.pop()
        out.append(n)
        for m in succ[n]:
            waiting[m] -= 1
            if waiting[m] == 0:
                ready.append(m)
    return out
