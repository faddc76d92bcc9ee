"""What a forecast derives from the graph alone, kept across the forecasts of one graph (a live
plan re-plans after every event; a forecast of 1,000 pipelines otherwise parses the same
partition keys and walks the same mappings each time).

Pure: a cache keyed by graph-derived facts, never by the engine's state. Bounded: the partition
keys in play move on with the clock, so the caches are dropped whole once they hold ``LIMIT``
entries, and rebuilt from the keys in play.
"""

from __future__ import annotations

from datetime import UTC, datetime

from andon.model.graph import Graph
from andon.model.partitions import Partitions

LIMIT = 200_000  # entries per cache before it is dropped (a few days of 1,000 pipelines)

# (asset, partition key, the pipeline that makes the asset or None for a source)
Inputs = tuple[tuple[str, str, str | None], ...]


class Memo:
    """The forecast's graph-derived lookups for ``graph``: every input of a partition with its
    producer, the deadline pipelines, and the partition keys of a window of time."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self._inputs: dict[tuple[str, str], Inputs | None] = {}
        self._windows: dict[tuple[Partitions, float, float], list[str]] = {}
        # the pipelines with a deadline: (name, scheme, deadline seconds, outputs)
        self.deadlines = tuple(
            (p.name, p.partitions, p.deadline.total_seconds(), p.outputs)
            for p in graph.pipelines.values() if p.deadline is not None)

    def inputs(self, pipeline: str, key: str) -> Inputs | None:
        """What partition ``key`` of ``pipeline`` reads (``Graph.input_keys``), each with its
        producer; None when it reads partitions before the first one."""
        try:
            return self._inputs[(pipeline, key)]
        except KeyError:
            try:
                producer = self.graph.producer
                found = tuple((asset, up, producer.get(asset))
                              for asset, up in self.graph.input_keys(pipeline, key))
            except ValueError:
                found = None
            if len(self._inputs) >= LIMIT:
                self._inputs.clear()
            self._inputs[(pipeline, key)] = found
            return found

    def window(self, scheme: Partitions, lo: float, hi: float) -> list[str]:
        """The keys of ``scheme`` from the partition of moment ``lo`` to that of ``hi`` (epoch
        seconds; ``Partitions.keys``, which stops at the scheme's end)."""
        found = self._windows.get((scheme, lo, hi))
        if found is None:
            first = scheme.key_of(datetime.fromtimestamp(lo, UTC))
            last = scheme.key_of(datetime.fromtimestamp(hi, UTC))
            if len(self._windows) >= 64:  # one (lo, hi) per forecast: the latest few suffice
                self._windows.clear()
            found = self._windows[(scheme, lo, hi)] = scheme.keys(first, last)
        return found
