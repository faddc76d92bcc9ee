"""The plan as a view: typed fields for code, its JSON object for the API, one ``to_json``."""

from __future__ import annotations

import json

from andon.engine.state import EngineState
from andon.planner.forecast import forecast
from andon.planner.policies import make_policy
from andon.planner.views import FirstPlan, PlannedDeliverable, PlanStep, PlanView
from tests.planner.test_forecast import DAY, at, graph, pipe


def test_a_plan_reads_as_its_json_and_its_fields_are_typed() -> None:
    g = graph([pipe("clean", ["raw"], 0.5, deadline=3)], {"raw": 1})
    plan = forecast(g, EngineState(), make_policy("fifo", g), at(0)).view("fifo")
    assert isinstance(plan, PlanView) and plan.policy == "fifo" and plan.problems == ()
    (d,) = [d for d in plan.deliverables if d.partition == DAY]
    assert isinstance(d, PlannedDeliverable) and d.due == "2026-01-06T03:00:00.000000Z"
    assert all(isinstance(s, PlanStep) for s in d.critical_path or ())
    data = json.loads(json.dumps(plan.to_json()))
    assert plan == data and list(data) == ["as_of", "policy", "at_risk", "deliverables",
                                           "problems"]
    assert list(data["deliverables"][0])[-2:] == ["critical_path", "first_plan"]
    assert [s["name"] for s in data["deliverables"][0]["critical_path"]] == ["raw", "clean"]


def test_without_detail_the_critical_path_is_not_walked() -> None:
    g = graph([pipe("clean", ["raw"], 0.5, deadline=3)], {"raw": 1})
    fc = forecast(g, EngineState(), make_policy("fifo", g), at(0))
    plan = fc.view("fifo", paths=False)
    assert all(d.critical_path is None for d in plan.deliverables)
    assert all("critical_path" not in vars(d) for d in fc.deliverables)  # never asked for


def test_a_first_plan_is_its_json_in_the_deliverable() -> None:
    first = FirstPlan("2026-01-06T01:00:00.000000Z", None, "2026-01-06T00:30:00.000000Z")
    assert first.to_json() == {"predicted_start": "2026-01-06T01:00:00.000000Z",
                               "predicted_finish": None,
                               "planned_at": "2026-01-06T00:30:00.000000Z"}
