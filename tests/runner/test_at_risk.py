"""Live at-risk warnings: the runner re-plans after each turn and at the moment a source's expected
arrival passes, and records ``deliverable.at_risk`` (once) and ``deliverable.recovered``; at the due
time of a deliverable still undelivered, ``deliverable.missed`` (once). Real
store, real runner, a fake clock moved by hand (nothing sleeps to make time pass)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from andon.events import DeliverableAtRisk, DeliverableMissed, DeliverableRecovered, Event
from andon.live.clock import FakeClock
from tests.conftest import utc
from tests.runner.harness import Live, open_live

PIPELINES = r'''
import time

import andon

andon.source("raw", expected_arrival="2h", owner="ingest@example.com")
andon.source("slow_raw", expected_arrival="2h")


@andon.pipeline(inputs=["raw"], outputs=["orders"], deadline="2h40m", expected_duration="30m",
                owner="orders@example.com")
def clean(ctx):
    ctx.output("orders").write_text("ok\n")


@andon.pipeline(inputs=["slow_raw"], outputs=["slow_orders"], deadline="2h40m",
                expected_duration="30m", owner="orders@example.com")
def slow_clean(ctx):
    deadline = time.monotonic() + 120  # a failure guard only
    while not (ctx.project_dir / "gate").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ctx.output("slow_orders").write_text("ok\n")
'''

DAY = "2026-01-05"
END = utc(2026, 1, 6)  # the end of partition DAY
EXPECTED = END + timedelta(hours=2)  # raw's expected arrival
DUE = END + timedelta(hours=2, minutes=40)


@pytest.fixture
def root(make_project) -> Path:
    return make_project(PIPELINES, start=DAY)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(END + timedelta(hours=1))


@pytest.fixture
def live(root: Path, clock: FakeClock) -> Iterator[Live]:
    line = open_live(root, clock)
    yield line
    line.close()


def risk(log: list[Event], pipeline: str = "clean", kind: type = DeliverableAtRisk) -> list[Event]:
    return [e for e in log if isinstance(e, kind) and e.pipeline == pipeline  # type: ignore[attr-defined]
            and e.partition == DAY]  # type: ignore[attr-defined]


def test_a_late_source_warns_in_the_turn_its_expected_arrival_passes(live: Live,
                                                                    clock: FakeClock) -> None:
    assert live.runner.drain()
    assert risk(live.log) == []
    assert live.runner.plan.wake == EXPECTED  # the runner sleeps until then, no polling
    before = live.runner.turns
    clock.set(EXPECTED)  # wakes the runner (a fake clock does not move by itself)
    live.wait_for(lambda log: risk(log), "the at-risk event")
    (event,) = risk(live.log)
    assert isinstance(event, DeliverableAtRisk)
    assert timedelta(0) <= event.at - EXPECTED < timedelta(seconds=1)
    assert live.runner.turns == before + 1  # the very turn the clock crossed that moment
    assert event.id == f"at_risk:clean:{DAY}:1"
    assert event.owner == "orders@example.com"
    assert event.due == DUE and event.predicted_finish == END + timedelta(hours=3)
    assert event.reason.startswith(f"raw {DAY} expected at 02:00, now 02:00 and still missing")
    assert live.store.count_events("deliverable.at_risk") == 2  # slow_clean's source is late too

    clock.set(EXPECTED + timedelta(minutes=5))  # still late: no second warning
    assert live.runner.drain()
    assert len(risk(live.log)) == 1

    clock.set(EXPECTED + timedelta(minutes=10))
    assert live.notify("raw", DAY, "x\n")  # the data lands; clean runs and delivers by 02:10
    assert live.runner.quiet()
    (back,) = risk(live.log, kind=DeliverableRecovered)
    assert isinstance(back, DeliverableRecovered)
    assert back.id == f"recovered:clean:{DAY}:1" and back.at == clock.now()
    assert back.predicted_finish == clock.now() and back.reason.startswith("delivered at 02:10")
    plan = {(d["pipeline"], d["partition"]): d for d in live.service.plan(clock.now())["deliverables"]}
    assert plan[("clean", DAY)]["state"] == "delivered"
    assert plan[("slow_clean", DAY)]["at_risk"] is True


def test_back_on_plan_while_the_run_is_still_going(root: Path, clock: FakeClock) -> None:
    live = open_live(root, clock, executor="local")
    try:
        clock.set(EXPECTED)
        live.wait_for(lambda log: risk(log, "slow_clean"), "the at-risk event")
        clock.set(EXPECTED + timedelta(minutes=5))
        path = root / "data/slow_raw" / DAY
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x\n")
        assert live.notify("slow_raw", DAY)
        # started at 02:05, usually 30m: predicted to finish 02:35, before the 02:40 due time
        live.wait_for(lambda log: risk(log, "slow_clean", DeliverableRecovered), "recovered")
        (back,) = risk(live.log, "slow_clean", DeliverableRecovered)
        assert isinstance(back, DeliverableRecovered)
        assert back.predicted_finish == EXPECTED + timedelta(minutes=35)
        assert back.reason == "5m00s to spare"
        (root / "gate").write_text("")
        assert live.runner.quiet()
    finally:
        (root / "gate").write_text("")
        live.close()


def test_a_restart_remembers_the_warning_and_learns_from_history(root: Path,
                                                               clock: FakeClock) -> None:
    live = open_live(root, clock)
    clock.set(EXPECTED)
    live.wait_for(lambda log: risk(log), "the at-risk event")
    clock.set(EXPECTED + timedelta(minutes=10))
    assert live.notify("raw", DAY, "x\n")
    assert live.runner.quiet()
    live.close()

    again = open_live(root, clock)
    try:
        assert again.runner.drain()
        assert again.store.count_events("deliverable.at_risk") == 2  # not warned twice
        assert again.runner.plan.open == {("slow_clean", DAY): 1}
        # raw landed 2h10m after the partition end: the next day is predicted from that
        assert again.runner.policy.stats.arrival("raw") == (7800.0, 7800.0)
    finally:
        again.close()


def test_the_runner_wakes_at_the_due_time_and_records_the_miss_once(root: Path,
                                                                    clock: FakeClock) -> None:
    live = open_live(root, clock)
    try:
        clock.set(EXPECTED)
        live.wait_for(lambda log: len(risk(log)) + len(risk(log, "slow_clean")) == 2, "at risk")
        assert live.runner.plan.wake == DUE  # asleep until the due time, no polling
        clock.set(DUE)
        live.wait_for(lambda log: risk(log, kind=DeliverableMissed)
                      and risk(log, "slow_clean", DeliverableMissed), "the misses")
        (missed,) = risk(live.log, kind=DeliverableMissed)
        assert isinstance(missed, DeliverableMissed)
        assert missed.id == f"missed:clean:{DAY}" and missed.at == DUE and missed.due == DUE
        assert missed.owner == "orders@example.com"
        clock.set(DUE + timedelta(minutes=30))  # still undelivered: not again
        assert live.runner.drain()
        assert live.store.count_events("deliverable.missed") == 2
    finally:
        live.close()
    again = open_live(root, clock)
    try:
        assert again.runner.drain()
        assert again.runner.plan.missed == {("clean", DAY), ("slow_clean", DAY)}
        clock.set(DUE + timedelta(hours=1))
        assert again.runner.drain()
        assert not risk(again.log, kind=DeliverableMissed)  # learned from the log, not redone
        assert again.store.count_events("deliverable.missed") == 2
    finally:
        again.close()


def test_without_deadlines_the_runner_does_not_plan(make_project, clock: FakeClock) -> None:
    root = make_project(PIPELINES.replace('deadline="2h40m",', ""), start=DAY)
    live = open_live(root, clock)
    try:
        clock.set(EXPECTED + timedelta(hours=5))
        assert live.runner.drain()
        assert not live.runner.plan.enabled and live.runner.plan.wake is None
        assert live.store.count_events("deliverable.at_risk") == 0
    finally:
        live.close()
