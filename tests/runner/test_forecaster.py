"""The live plan's forecast in a forked child (``andon.live.forecaster``, for graphs above 300
pipelines): the same forecast, texts, paths and events to record as on the runner's thread, at
every step of a simulated line; the runner never waits for it; a child that fails leaves the
forecast to the runner's thread; and a stopped plan leaves no child behind."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta

import pytest

from andon.events import Event
from andon.live.forecaster import HUNG, LARGE, POLL, ForkedPlan, live_plan
from andon.planner.forecast import Forecast
from andon.planner.live import LivePlan, make_planner
from andon.planner.state import PlanningState
from andon.sim.generate import generate
from andon.sim.scenario import parse_scenario
from andon.sim.simulator import EngineSim
from tests.planner.line import drive

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="forks")


def _whole(fc: Forecast | None) -> list[object]:
    assert fc is not None
    return [fc.now, fc.wake, *((d, d.reason, d.critical_path) for d in fc.deliverables)]


def _plain(events: list[Event]) -> list[dict[str, object]]:
    return [{**vars(e), "name": e.name} for e in events]


def test_a_forked_forecast_is_the_runner_threads_forecast() -> None:
    scenario = parse_scenario(generate(pipelines=40, days=2, slots=4), "generated")
    graph = scenario.graph
    planner = make_planner("jit", graph)
    inline = LivePlan(graph, planner, fresh=0.0)
    forked = ForkedPlan(graph, make_planner("jit", graph))
    forked.fresh = 0.0
    steps = [0]

    def observe(state: PlanningState, events: list[Event], now: datetime) -> None:
        for plan in (inline, forked):
            plan.learn(state, events)
        assert inline.stale(events, now) == forked.stale(events, now)
        expected = inline.replan(state, now)
        assert forked.replan(state, now) == []  # forked: nothing yet, never waiting
        assert forked.wake == now + timedelta(seconds=POLL)  # only its look, however late
        assert forked.settle(30.0)
        assert forked.stale([], now)
        got = forked.replan(state, now)
        assert _plain(got) == _plain(expected)
        assert _whole(forked.latest) == _whole(inline.latest)
        assert forked.summary() == inline.summary() and forked.wake == inline.wake
        for plan in (inline, forked):
            plan.learn(state, expected)
        steps[0] += 1

    drive(scenario, planner, observe)
    assert steps[0] > 100 and forked.forked == steps[0] and forked.failed == 0
    forked.close()


def test_a_failed_child_leaves_the_forecast_to_the_runners_thread() -> None:
    scenario = parse_scenario(generate(pipelines=20, days=1, slots=2), "generated")
    plan = ForkedPlan(scenario.graph, make_planner("jit", scenario.graph))
    state = EngineSim(scenario, "jit").state
    now = datetime.fromisoformat("2026-01-05T06:00:00+00:00")

    def fail(state: PlanningState, now: datetime) -> dict[str, object]:
        raise RuntimeError("no forecast")

    plan._forecast = fail  # type: ignore[method-assign]
    assert plan.replan(state, now) == [] and plan.settle(30.0)
    events = plan.replan(state, now)  # the child ended with status 1: forecast in line
    assert plan.failed == 1 and plan.forked == 0 and plan.latest is not None
    assert [e.name for e in events] and plan.latest.deliverables


def test_a_closed_plan_leaves_no_child() -> None:
    scenario = parse_scenario(generate(pipelines=20, days=1, slots=2), "generated")
    plan = ForkedPlan(scenario.graph, make_planner("jit", scenario.graph))
    state = EngineSim(scenario, "jit").state
    plan.replan(state, datetime.fromisoformat("2026-01-05T06:00:00+00:00"))
    assert plan._child is not None
    pid = plan._child[0]
    plan.close()
    assert plan._child is None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def test_only_large_graphs_forecast_in_a_child() -> None:
    small = parse_scenario(generate(pipelines=LARGE, days=1, slots=2), "small").graph
    large = parse_scenario(generate(pipelines=LARGE + 1, days=1, slots=2), "large").graph
    assert type(live_plan(small, make_planner("jit", small))) is LivePlan
    assert type(live_plan(large, make_planner("jit", large))) is ForkedPlan


def test_a_hung_child_is_ended_and_the_runners_thread_forecasts() -> None:
    scenario = parse_scenario(generate(pipelines=20, days=1, slots=2), "generated")
    plan = ForkedPlan(scenario.graph, make_planner("jit", scenario.graph))
    state = EngineSim(scenario, "jit").state
    now = datetime.fromisoformat("2026-01-05T06:00:00+00:00")

    def hang(state: PlanningState, now: datetime) -> dict[str, object]:
        time.sleep(60)
        return {}

    plan._forecast = hang  # type: ignore[method-assign]
    assert plan.replan(state, now) == [] and not plan.settle(0.2)
    assert plan.replan(state, now) == []  # under way: nothing yet
    assert plan._child is not None
    pid = plan._child[0]
    plan._forked_at -= HUNG  # as if it had run that long
    events = plan.replan(state, now)
    assert plan.failed == 1 and plan._child is None and events and plan.latest is not None
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
