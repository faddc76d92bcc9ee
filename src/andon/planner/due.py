"""Due times along the graph: every upstream partition gets its own latest finish.

A pipeline with a deadline must finish by the partition end plus the deadline. Its upstream must
finish early enough for it to run: the latest finish of a producer is the earliest over its
consumers of (their latest finish minus their predicted duration). Computed once per graph and
duration estimate, as offsets from the partition end.
"""

from __future__ import annotations

from collections.abc import Callable

from andon.model.graph import Graph


def consumer_pipelines(graph: Graph) -> dict[str, set[str]]:
    """Pipeline -> the pipelines that read one of its outputs."""
    consumers: dict[str, set[str]] = {p: set() for p in graph.pipelines}
    for name, pipe in graph.pipelines.items():
        for inp in pipe.inputs:
            producer = graph.producer.get(inp.asset)
            if producer:
                consumers[producer].add(name)
    return consumers


def latest_finish_offsets(graph: Graph, duration: Callable[[str], float],
                          consumers: dict[str, set[str]] | None = None) -> dict[str, float]:
    """Seconds after the partition end by which each pipeline must finish; pipelines with no
    deadline anywhere downstream are absent. ``consumers``: ``consumer_pipelines(graph)`` when
    the caller keeps it (it depends on the graph only; the offsets move with the durations)."""
    consumers = consumer_pipelines(graph) if consumers is None else consumers
    offsets: dict[str, float] = {}
    for name in reversed(graph.order):
        pipe = graph.pipelines[name]
        candidates = [pipe.deadline.total_seconds()] if pipe.deadline is not None else []
        candidates += [offsets[c] - duration(c) for c in consumers[name] if c in offsets]
        if candidates:
            offsets[name] = min(candidates)
    return offsets


def weights(graph: Graph) -> dict[str, float]:
    """The weight of each pipeline's timeliness: its own priority if it has a deadline, else the
    largest priority of the deadlines it feeds (an upstream of an important delivery matters)."""
    consumers = consumer_pipelines(graph)
    out: dict[str, float] = {}
    for name in reversed(graph.order):
        pipe = graph.pipelines[name]
        own = float(pipe.priority) if pipe.deadline is not None else 0.0
        out[name] = max([own] + [out[c] for c in consumers[name]])
    return out
