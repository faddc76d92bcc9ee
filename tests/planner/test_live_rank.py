"""The forecast's fast least-slack ranking (``andon.planner.rank``) gives the very forecast
``Slack.order`` gives, at every step of a simulated line, while durations are learned."""

from __future__ import annotations

from datetime import datetime

from andon.events import Event
from andon.model.graph import Graph
from andon.planner.forecast import forecast, ranking
from andon.planner.live import make_planner
from andon.planner.policies import Slack
from andon.planner.state import PlanningState, R
from andon.sim.generate import generate
from andon.sim.scenario import Scenario, parse_scenario
from andon.sim.simulator import EngineSim


def compare(scenario: Scenario) -> int:
    """Run ``scenario`` under the live jit; at each step forecast both ways; the steps."""
    planner = make_planner("jit", scenario.graph)
    fast, plain = ranking(planner), Slack(planner.graph, planner.stats, planner).order
    clock: list[datetime] = []
    steps = [0]

    class Line:
        stats = planner.stats

        def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                     now: datetime) -> list[R]:
            return planner(graph, state, ready, now)

        def observe(self, state: PlanningState, events: list[Event]) -> None:
            planner.observe(state, events)
            a = forecast(scenario.graph, state, planner, clock[-1], fast)
            b = forecast(scenario.graph, state, planner, clock[-1], plain)
            assert a.deliverables == b.deliverables and a.wake == b.wake
            steps[0] += 1

    class Sim(EngineSim):
        def step(self, event: Event | None, now: datetime) -> None:
            clock.append(now)
            super().step(event, now)

    sim = Sim(scenario, "jit")
    sim.policy = Line()  # type: ignore[assignment]
    sim.run()
    return steps[0]


def test_the_fast_ranking_forecasts_as_least_slack_does() -> None:
    scenario = parse_scenario(generate(pipelines=40, days=2, slots=4), "generated")
    assert compare(scenario) > 100
