"""Live planning (pure): the policy setting, learning from a log, at-risk and missed events once
each."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.engine.core import replay
from andon.engine.state import EngineState
from andon.events import (
    DeliverableAtRisk,
    DeliverableMissed,
    DeliverablePlanned,
    DeliverableRecovered,
    Event,
    OutputWritten,
    RunSucceeded,
)
from andon.model.errors import ConfigError
from andon.planner import cpsat
from andon.planner.live import LivePlan, make_planner, plan_from_log
from tests.planner.test_forecast import DAY, LINE, arrive, at, feed, graph


def test_the_policy_names_and_a_missing_extra_are_configuration_errors(monkeypatch) -> None:
    g = graph(LINE, {"raw": 2})
    assert make_planner("edf", g).name == "edf"
    with pytest.raises(ConfigError, match="policy 'fastest' is not known") as bad:
        make_planner("fastest", g)
    assert "jit" in bad.value.hint
    monkeypatch.setattr(cpsat, "available", lambda: False)
    with pytest.raises(ConfigError, match="needs OR-Tools") as missing:
        make_planner("cpsat", g)
    assert "andon[opt]" in missing.value.hint


def warnings(events: list[Event]) -> list[Event]:
    """The events but the first plans."""
    return [e for e in events if not isinstance(e, DeliverablePlanned)]


def test_at_risk_once_then_recovered_with_deterministic_ids() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    first = live.replan(state, at(1))
    assert warnings(first) == [] and live.wake == at(2)
    live.learn(state, first)
    (warn,) = live.replan(state, at(2))
    assert isinstance(warn, DeliverableAtRisk) and warn.id == f"at_risk:clean:{DAY}:1"
    assert warn.at == at(2) and warn.due == at(2 + 40 / 60) and warn.predicted_finish == at(3)
    live.learn(state, [warn])
    assert live.replan(state, at(2.1)) == []  # still at risk: not again
    feed(g, state, live.planner, arrive("raw", at(2.1)))
    (back,) = live.replan(state, at(2.1))
    assert isinstance(back, DeliverableRecovered) and back.id == f"recovered:clean:{DAY}:1"
    assert back.predicted_finish == at(2.6)
    live.learn(state, [back])
    assert live.open == {} and live.count == {("clean", DAY): 1}


def test_a_late_delivery_closes_the_warning_without_claiming_recovery() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    live.learn(state, live.replan(state, at(2)))
    feed(g, state, live.planner, arrive("raw", at(3)),
         RunSucceeded(id="s", at=at(3.5), run_id=f"clean:{DAY}:1", pipeline="clean",
                      partition=DAY, outputs=(OutputWritten("clean", DAY),)))
    assert live.replan(state, at(3.5)) == []
    assert ("clean", DAY) not in live.open


def test_the_first_plan_is_recorded_once_and_a_moved_prediction_does_not_replace_it() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    made = live.replan(state, at(1))
    assert [e.id for e in made] == [f"planned:clean:{DAY}", "planned:clean:2026-01-06"]
    first = made[0]
    assert isinstance(first, DeliverablePlanned) and first.at == at(1)
    assert (first.predicted_start, first.predicted_finish, first.due) == \
        (at(2), at(2.5), at(2 + 40 / 60))
    assert first.policy == "jit" and first.owner == "orders-team"
    live.learn(state, made)
    # raw is late: the prediction moves past the due time; the first plan is not made again
    (warn,) = live.replan(state, at(2))
    assert isinstance(warn, DeliverableAtRisk) and warn.predicted_finish == at(3)
    live.learn(state, [warn])
    assert live.replan(state, at(2.5)) == []


def test_a_deliverable_is_first_planned_once_it_has_a_prediction_and_not_when_delivered(
        ) -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    feed(g, state, live.planner, arrive("raw", at(2)),
         RunSucceeded(id="s", at=at(2.5), run_id=f"clean:{DAY}:1", pipeline="clean",
                      partition=DAY, outputs=(OutputWritten("clean", DAY),)))
    # first seen delivered (a scheduler started after the fact): no plan to compare with
    assert [e.id for e in live.replan(state, at(3))] == ["planned:clean:2026-01-06"]


def test_the_planner_forgets_first_plans_that_left_its_window() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    live.learn(state, live.replan(state, at(1)))
    assert live.planned == {("clean", DAY), ("clean", "2026-01-06")}
    live.replan(state, at(24 * 5))
    assert ("clean", DAY) not in live.planned


def test_a_log_replayed_remembers_warnings_and_teaches_arrivals() -> None:
    g = graph(LINE, {"raw": 2})
    warn = DeliverableAtRisk(id=f"at_risk:clean:{DAY}:1", at=at(2), pipeline="clean",
                             partition=DAY, due=at(2.5))
    log = [arrive("raw", at(3)), warn]
    live = LivePlan(g, make_planner("jit", g))
    state = replay(g, live.tap(log))
    live.seed(state)
    assert live.open == {("clean", DAY): 1}
    assert live.planner.stats.arrival("raw") == (3 * 3600.0, 3 * 3600.0)
    list(live.tap([]))  # a second replay starts from scratch
    assert live.open == {} and live.count == {}


def test_plan_from_a_log_without_a_scheduler() -> None:
    g = graph(LINE, {"raw": 2})
    plan = plan_from_log(g, [arrive("raw", at(2.25))], "fifo", at(2.5), replay)
    assert plan["policy"] == "fifo" and plan["as_of"].startswith("2026-01-06T02:30")
    (row,) = [d for d in plan["deliverables"] if d["partition"] == DAY]
    # raw is there but nothing ran it (no scheduler): it could start now and finish at 03:00
    assert row["at_risk"] is True and row["predicted_finish"].startswith("2026-01-06T03:00")


def missed(events: list[Event]) -> list[DeliverableMissed]:
    return [e for e in events if isinstance(e, DeliverableMissed)]


def test_a_deliverable_undelivered_at_its_due_time_is_missed_once_when_the_plan_wakes() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    log: list[Event] = []
    now = at(1)
    # the shell's loop with a fake clock: sleep until the plan's wake, re-plan, record, learn
    while now < at(3):
        made = live.replan(state, now)
        live.learn(state, made)
        log += made
        assert missed(made) == [] or now == at(2 + 40 / 60)
        assert live.wake is not None and live.wake > now
        now = live.wake
    (miss,) = missed(log)
    assert miss.id == f"missed:clean:{DAY}" and miss.at == at(2 + 40 / 60)  # woken at the due time
    assert (miss.pipeline, miss.partition, miss.owner) == ("clean", DAY, "orders-team")
    assert miss.due == at(2 + 40 / 60) and miss.predicted_finish is not None
    assert miss.reason
    assert [e.id for e in log if isinstance(e, DeliverableAtRisk)] == [f"at_risk:clean:{DAY}:1"]
    assert live.missed == {("clean", DAY)}
    assert missed(live.replan(state, at(3.5))) == []  # still undelivered: not again
    feed(g, state, live.planner, arrive("raw", at(4)),
         RunSucceeded(id="s", at=at(4.5), run_id=f"clean:{DAY}:1", pipeline="clean",
                      partition=DAY, outputs=(OutputWritten("clean", DAY),)))
    assert missed(live.replan(state, at(4.5))) == []  # delivered late: it was missed already


def test_a_restarted_plan_learns_the_missed_deliverables_from_the_log() -> None:
    g = graph(LINE, {"raw": 2})
    first = LivePlan(g, make_planner("jit", g))
    (miss,) = missed(first.replan(EngineState(), at(3)))  # a scheduler that started late
    again = LivePlan(g, make_planner("jit", g))
    state = replay(g, again.tap([miss]))
    again.seed(state)
    assert again.missed == {("clean", DAY)}
    assert missed(again.replan(state, at(3.5))) == []
    list(again.tap([]))  # a second replay starts from scratch
    assert again.missed == set()


def test_a_deliverable_delivered_by_its_due_time_is_not_missed() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g)), EngineState()
    live.learn(state, live.replan(state, at(1)))
    feed(g, state, live.planner, arrive("raw", at(2)),
         RunSucceeded(id="s", at=at(2.5), run_id=f"clean:{DAY}:1", pipeline="clean",
                      partition=DAY, outputs=(OutputWritten("clean", DAY),)))
    assert missed(live.replan(state, at(2.5))) == []
    assert missed(live.replan(state, at(5))) == []
    assert live.missed == set()


def test_the_live_jit_does_not_roll_out_on_the_runner_thread() -> None:
    from pathlib import Path

    from andon.planner.live import make_planner
    from andon.planner.policies import Jit
    from andon.sim.scenario import load_scenario

    graph = load_scenario(Path(__file__).resolve().parents[2]
                          / "benchmarks/scenarios/midday-switch.json").graph
    live = make_planner("jit", graph)
    assert isinstance(live, Jit) and not live.rollout
    assert Jit(graph).rollout  # the simulator's jit rolls out


def test_a_forecast_sees_what_moved_it_within_fresh_seconds_of_the_clock() -> None:
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g), fresh=1.0), EngineState()
    live.learn(state, live.replan(state, at(1)))
    assert live.wake == at(2)  # raw's p50: nothing moved
    soon = at(1) + timedelta(seconds=0.5)
    landed = arrive("raw", soon)
    feed(g, state, live.planner, landed)
    # half a second after the latest forecast: the next waits for the rest of the second ...
    assert not live.stale([landed], soon) and live.wake == at(1) + timedelta(seconds=1)
    assert not live.stale([], at(1) + timedelta(seconds=0.9))
    # ... and then sees the arrival though no event came with its turn
    assert live.stale([], at(1) + timedelta(seconds=1))
    live.replan(state, at(1) + timedelta(seconds=1))
    assert live.latest is not None and live.wake != at(1) + timedelta(seconds=1)
    later = at(1) + timedelta(seconds=5)
    assert live.stale([arrive("raw", later, "2026-01-06")], later)  # the window has passed
    eager = LivePlan(g, make_planner("jit", g), fresh=0.0)
    eager.replan(state, later)
    assert eager.stale([arrive("raw", later, "2026-01-06")], later)  # 0: every move at once
    eager.replan(state, later)
    assert not eager.stale([], later)  # nothing moved since, no timer came


def test_a_line_with_nothing_else_waiting_forecasts_at_once_whatever_its_clock() -> None:
    # a fake or stopped clock must not leave a moved plan unforecast once the line is at rest
    g = graph(LINE, {"raw": 2})
    live, state = LivePlan(g, make_planner("jit", g), fresh=1.0), EngineState()
    live.learn(state, live.replan(state, at(1)))
    landed = arrive("raw", at(1))
    feed(g, state, live.planner, landed)
    assert not live.stale([landed], at(1))  # more work waits: coalesced
    assert live.stale([], at(1), idle=True)  # at rest: the moved plan is forecast now
    live.replan(state, at(1))
    assert not live.stale([], at(1), idle=True)  # nothing moved since: nothing to do
