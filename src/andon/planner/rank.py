"""The forecast's least-slack ranking, fast: the same order as ``policies.Slack.order`` (the
same floats, compared the same way) with each partition's due time and its pipeline's duration
looked up once while neither can have moved, instead of through the planner's chain of calls at
every dispatch of every forecast (most of a forecast's time on 1,000 pipelines).

It also tells the schedule its terms (``LeastSlack.terms``): a node's rank at ``now`` is
``(due - now) - duration``, then queue order, so the schedule can keep ready work in queues
ordered once instead of sorting it at every dispatch (``schedule.SlackQueues``)."""

from __future__ import annotations

from collections.abc import Callable

from andon.planner.policies import INF, Planner
from andon.planner.schedule import Node

Terms = Callable[[Node], tuple[float, float]]  # a node -> (due, predicted duration)


class LeastSlack:
    """Ready work ranked by least slack (due time - now - predicted duration, then queue order)
    under ``planner``'s due times and statistics; as ``Slack(graph, stats, planner).order``.
    Pure: it may be asked about moments in the future."""

    def __init__(self, planner: Planner) -> None:
        self.planner = planner
        self.cache: dict[tuple[str, str], tuple[float, float]] = {}
        self.seen: tuple[int, object] = (-1, None)  # the statistics' version, the due times

    def terms(self) -> Terms | None:
        """(due, duration) of a node under the current statistics and due times; None when
        nothing is due anywhere (the order is then first come first)."""
        planner, stats = self.planner, self.planner.stats
        offsets = planner.offsets()
        if not offsets:
            return None
        if self.seen[0] != stats.version or self.seen[1] is not offsets:  # something moved
            self.cache.clear()
            self.seen = (stats.version, offsets)
        cache = self.cache

        def terms(node: Node) -> tuple[float, float]:
            found = cache.get((node.pipeline, node.partition))
            if found is None:
                offset = offsets.get(node.pipeline)
                due = INF if offset is None else planner.partition_end(node.pipeline,
                                                                       node.partition) + offset
                found = cache[(node.pipeline, node.partition)] = (
                    due, stats.duration(node.pipeline))
            return found

        return terms

    def __call__(self, ready: list[Node], now: float) -> list[Node]:
        if len(ready) < 2:
            return ready
        terms = self.terms()
        if terms is None:
            return ready
        keyed = []
        for node in ready:
            due, duration = terms(node)
            keyed.append((due - now - duration, node.seq, node))
        keyed.sort(key=lambda k: (k[0], k[1]))
        return [k[2] for k in keyed]


def least_slack(planner: Planner) -> LeastSlack:
    """The ranking for ``planner`` (build it once per planner: it keeps its lookups)."""
    return LeastSlack(planner)
