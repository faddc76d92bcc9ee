"""A simulated line driven by a live planner, for tests that look at every step: the simulator's
engine on its virtual clock, the planner dispatching, and a callback after each step."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from andon.events import Event
from andon.model.graph import Graph
from andon.planner.policies import Planner
from andon.planner.state import PlanningState, R
from andon.sim.scenario import Scenario
from andon.sim.simulator import EngineSim

Observe = Callable[[PlanningState, list[Event], datetime], None]


def drive(scenario: Scenario, planner: Planner, observe: Observe) -> None:
    """Run ``scenario`` with ``planner`` dispatching; after each step, ``observe(state, events
    of the step, the clock)``."""
    clock: list[datetime] = []

    class Line:
        stats = planner.stats

        def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                     now: datetime) -> list[R]:
            return planner(graph, state, ready, now)

        def observe(self, state: PlanningState, events: list[Event]) -> None:
            observe(state, events, clock[-1])

    class Sim(EngineSim):
        def step(self, event: Event | None, now: datetime) -> None:
            clock.append(now)
            super().step(event, now)

    sim = Sim(scenario, "jit")
    sim.policy = Line()  # type: ignore[assignment]
    sim.run()
