"""A small graph whose assets have owners and subscribers, for notification tests."""

from __future__ import annotations

from datetime import UTC, datetime

from andon.model.definitions import Asset, Input, Pipeline, Pool
from andon.model.graph import Graph, build_graph
from andon.model.partitions import LastN, Partitions

AT = datetime(2026, 1, 6, 5, tzinfo=UTC)
DAILY = Partitions("daily", datetime(2026, 1, 1, tzinfo=UTC))
TOKEN = "sekrit-token-123"


def graph() -> Graph:
    """raw -> clean -> weekly (a 7-day window) ; raw is owned by the hook, clean by a person."""
    assets = [Asset("raw", DAILY, source=True, owner="alerts", subscribers=("ana@example.com",))]
    pipes = [Pipeline("clean", (Input("raw"),), ("clean",), DAILY, command="true",
                      owner="bo@example.com"),
             Pipeline("weekly", (Input("clean", LastN(7)),), ("weekly",), DAILY, command="true")]
    return build_graph(assets, pipes, [Pool("default", 4)])
