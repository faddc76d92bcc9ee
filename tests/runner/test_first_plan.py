"""The plan as first made: the live runner records ``deliverable.planned`` when a deliverable
first appears in its plan, and that baseline stays while the prediction moves and across a
restart. Real store, real runner, a fake clock moved by hand."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from andon.events import DeliverablePlanned, Event
from andon.events.codec import format_time
from andon.live.clock import FakeClock
from tests.conftest import utc
from tests.runner.harness import Live, open_live

PIPELINES = r'''
import andon

andon.source("raw", expected_arrival="2h")


@andon.pipeline(inputs=["raw"], outputs=["orders"], deadline="2h40m", expected_duration="30m")
def clean(ctx):
    ctx.output("orders").write_text("ok\n")
'''

DAY = "2026-01-05"
END = utc(2026, 1, 6)  # the end of partition DAY


def iso(hours: float) -> str:
    return format_time(END + timedelta(hours=hours))


@pytest.fixture
def root(make_project) -> Path:  # type: ignore[no-untyped-def]
    return make_project(PIPELINES, start=DAY)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(END + timedelta(hours=1))


def served(root: Path, clock: FakeClock) -> Live:
    line = open_live(root, clock)
    line.service.live_plan = line.runner.plan.view  # the scheduler's own plan, as `andon up`
    return line


def planned(log: list[Event]) -> list[DeliverablePlanned]:
    return [e for e in log if isinstance(e, DeliverablePlanned) and e.partition == DAY]


def row(live: Live) -> dict[str, Any]:
    (found,) = [d for d in live.service.plan(live.now())["deliverables"]
                if d["pipeline"] == "clean" and d["partition"] == DAY]
    return found


def test_the_first_plan_stays_while_the_prediction_moves_and_across_a_restart(
        root: Path, clock: FakeClock) -> None:
    live = served(root, clock)
    try:
        live.wait_for(planned, "the first plan")
        (event,) = planned(live.log)
        assert event.id == f"planned:clean:{DAY}" and event.policy == "jit"
        first = {"predicted_start": iso(2), "predicted_finish": iso(2.5), "planned_at": iso(1)}
        now = row(live)
        assert now["first_plan"] == first and now["predicted_finish"] == iso(2.5)
        assert [s["name"] for s in now["critical_path"]] == ["raw", "clean"]

        clock.set(END + timedelta(hours=2, minutes=10))  # raw is late: the prediction moves
        live.wait_for(lambda log: any(e.name == "deliverable.at_risk" for e in log), "at risk")
        moved = row(live)
        assert moved["at_risk"] and moved["predicted_finish"] > iso(2.5)
        assert moved["first_plan"] == first
        assert moved["critical_path"][0]["state"] == "overdue"
    finally:
        live.close()

    again = served(root, clock)
    try:
        assert again.runner.drain()
        # the new scheduler planned both again; the store kept the first plans
        assert again.store.count_events("deliverable.planned") == 2  # DAY and the next day
        assert again.runner.plan.planned == {("clean", DAY), ("clean", "2026-01-06")}
        assert row(again)["first_plan"] == first
        again.service.live_plan = None  # no scheduler: the log is replayed
        assert row(again)["first_plan"] == first
    finally:
        again.close()
