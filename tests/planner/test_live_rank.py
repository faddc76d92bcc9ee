"""The forecast's fast least-slack ranking (``andon.planner.rank``) and its ready queues
(``schedule.SlackQueues``) give the very forecast ``Slack.order`` gives when the schedule sorts
its ready work at every dispatch, at every step of a simulated line while durations are learned:
the same deliverables, times, wake-ups, reasons and critical paths."""

from __future__ import annotations

import math
from datetime import datetime
from fractions import Fraction

from andon.events import Event
from andon.planner.forecast import Forecast, forecast, ranking
from andon.planner.live import make_planner
from andon.planner.memo import Memo
from andon.planner.policies import Slack
from andon.planner.schedule import FUTURE, Node, SlackQueues
from andon.planner.state import PlanningState
from andon.sim.generate import generate
from andon.sim.scenario import Scenario, parse_scenario
from tests.planner.line import drive


def _whole(fc: Forecast) -> list[object]:
    """Everything a forecast says, the texts and paths too (a deliverable compares without)."""
    return [fc.wake, *((d, d.reason, d.critical_path) for d in fc.deliverables)]


def compare(scenario: Scenario) -> int:
    """Run ``scenario`` under the live jit; at each step forecast both ways; the steps."""
    planner = make_planner("jit", scenario.graph)
    fast, plain = ranking(planner), Slack(planner.graph, planner.stats, planner).order
    memo = Memo(scenario.graph)
    steps = [0]

    def observe(state: PlanningState, events: list[Event], now: datetime) -> None:
        planner.observe(state, events)
        a = forecast(scenario.graph, state, planner, now, fast, memo)
        b = forecast(scenario.graph, state, planner, now, plain)
        assert _whole(a) == _whole(b)
        steps[0] += 1

    drive(scenario, planner, observe)
    return steps[0]


def test_the_fast_ranking_forecasts_as_least_slack_does() -> None:
    scenario = parse_scenario(generate(pipelines=40, days=2, slots=4), "generated")
    assert compare(scenario) > 100


def test_slack_that_rounds_the_same_goes_in_queue_order() -> None:
    """Two runs whose due - duration differ by less than the slack's rounding: the heap sees
    them apart, the sorted walk sees a tie and takes the earlier in the queue; so do the
    queues."""
    graph = parse_scenario(generate(pipelines=2, days=1, slots=1), "tie").graph
    now = 1_767_600_000.0
    due = now + 1000.0
    short, long = 0.1, math.nextafter(0.1, 1.0)
    assert (due - now) - short == (due - now) - long  # the same slack, rounded
    assert Fraction(due) - Fraction(long) < Fraction(due) - Fraction(short)  # not exactly
    first, second = Node("p_0000", "k", FUTURE, 1), Node("p_0001", "k", FUTURE, 2)
    first.duration, second.duration = short, long
    for node in (first, second):
        node.pool, node.slots, node.ready = "default", 1, now
    terms = {id(first): (due, short), id(second): (due, long)}
    queues = SlackQueues(graph, lambda n: terms[id(n)], now)
    queues.add(second)
    queues.add(first)
    assert queues.exact(now)
    free = {"default": 1}
    assert queues.dispatch(now, False, free, {}) == [first]
    assert free == {"default": 0} and first.finish == now + short and second.start is None
    free["default"] = 1
    assert queues.dispatch(now + 5, False, free, {}) == [second]
    assert second.start == now + 5 and queues.drain() == []
