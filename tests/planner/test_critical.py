"""The critical path of a deliverable (pure): the chain of upstream partitions that decides when
it finishes — what is still to happen as the forecast's schedule has it, what happened as the log
says — each step with its latest finish (the due time propagated upstream)."""

from __future__ import annotations

from andon.engine.state import EngineState
from andon.events import OutputWritten, RunFailed, RunSucceeded
from andon.planner.critical import Step
from andon.planner.forecast import Deliverable, forecast
from andon.planner.policies import make_policy
from tests.planner.test_forecast import DAY, arrive, at, feed, graph, one, pipe, ts

# raw lands 30m after the partition end; a, b and c take an hour each; c is due at 04:00
CHAIN = [pipe("a", ["raw"], 1), pipe("b", ["a"], 1), pipe("c", ["b"], 1, deadline=4)]


def steps(d: Deliverable) -> list[tuple[str, str, str]]:
    return [(s.kind, s.name, s.state) for s in d.critical_path]


def done(pipeline: str, when: float) -> RunSucceeded:
    return RunSucceeded(id=f"ok:{pipeline}", at=at(when), run_id=f"{pipeline}:{DAY}:1",
                        pipeline=pipeline, partition=DAY,
                        outputs=(OutputWritten(pipeline, DAY),))


def test_the_critical_path_of_a_chain_is_every_step_back_to_its_source() -> None:
    g = graph(CHAIN, {"raw": 0.5})
    d = one(forecast(g, EngineState(), make_policy("jit", g), at(0)), "c")
    assert [s.name for s in d.critical_path if s.kind == "run"] == ["a", "b", "c"]
    assert steps(d) == [("arrival", "raw", "expected"), ("run", "a", "waiting"),
                        ("run", "b", "waiting"), ("run", "c", "waiting")]
    raw, a, b, c = d.critical_path
    assert (raw.start, raw.finish) == (None, ts(at(0.5)))
    assert (a.start, a.finish, b.finish) == (ts(at(0.5)), ts(at(1.5)), ts(at(2.5)))
    assert (c.start, c.finish) == (d.predicted_start, d.predicted_finish)
    # the latest finish of each step: the due time propagated upstream (planner/due.py)
    assert (a.latest_finish, b.latest_finish, c.latest_finish) == \
        (ts(at(2)), ts(at(3)), ts(at(4)))
    assert raw.latest_finish == ts(at(1)), "the latest start of the step that reads it"


def test_steps_that_happened_are_actual_and_the_rest_planned() -> None:
    g = graph(CHAIN, {"raw": 0.5})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(0.75)), done("a", 2.1))  # b starts at 02:06
    d = one(forecast(g, state, planner, at(2.25)), "c")
    assert steps(d) == [("arrival", "raw", "done"), ("run", "a", "done"),
                        ("run", "b", "running"), ("run", "c", "waiting")]
    raw, a, b, c = d.critical_path
    assert raw.finish == ts(at(0.75))
    assert (a.start, a.finish) == (ts(at(0.75)), ts(at(2.1)))
    assert a.finish > (a.latest_finish or 0), "a finished after its own latest finish"
    assert (b.start, b.finish, c.finish) == (ts(at(2.1)), ts(at(3.1)), ts(at(4.1)))

    feed(g, state, planner, done("b", 3.1), done("c", 4.1))
    delivered = one(forecast(g, state, planner, at(4.1)), "c")
    assert delivered.delivered
    assert steps(delivered) == [("arrival", "raw", "done"), ("run", "a", "done"),
                                ("run", "b", "done"), ("run", "c", "done")]
    assert delivered.critical_path[-1].finish == delivered.delivered_at


def test_the_input_that_comes_last_is_on_the_path() -> None:
    # c reads a fast and a slow branch: the slow one decides when c can start
    g = graph([pipe("fast", ["raw"], 0.5), pipe("slow", ["raw"], 2),
               pipe("c", ["fast", "slow"], 1, deadline=5)], {"raw": 0})
    state, planner = EngineState(), make_policy("jit", g)
    d = one(forecast(g, state, planner, at(0)), "c")
    assert [s.name for s in d.critical_path] == ["raw", "slow", "c"]
    feed(g, state, planner, arrive("raw", at(0)), done("fast", 0.5), done("slow", 2.5))
    d = one(forecast(g, state, planner, at(2.5)), "c")
    assert steps(d) == [("arrival", "raw", "done"), ("run", "slow", "done"), ("run", "c", "running")]


def test_a_failed_run_on_the_way_is_where_the_path_stops_moving() -> None:
    g = graph(CHAIN, {"raw": 0})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(0)))
    feed(g, state, planner, RunFailed(id="f", at=at(0.5), run_id=f"a:{DAY}:1", pipeline="a",
                                      partition=DAY, error_type="ValueError"))
    d = one(forecast(g, state, planner, at(0.5)), "c")
    assert steps(d) == [("arrival", "raw", "done"), ("run", "a", "blocked"),
                        ("run", "b", "waiting"), ("run", "c", "waiting")]
    assert all(s.finish is None for s in d.critical_path[1:])


def test_an_overdue_source_slides_with_the_clock_in_a_later_view_and_in_json() -> None:
    g = graph(CHAIN, {"raw": 0.5})
    fc = forecast(g, EngineState(), make_policy("jit", g), at(1))  # raw is 30m overdue
    raw = one(fc, "c").critical_path[0]
    assert raw.state == "overdue" and raw.slides
    later = one(fc.at(ts(at(1.5))), "c")
    assert later.critical_path[0].finish == raw.finish + 1800
    assert later.critical_path[-1].finish == later.predicted_finish
    assert raw.finish > (raw.latest_finish or 0)
    row = [r for r in fc.view("jit")["deliverables"]
           if r["pipeline"] == "c" and r["partition"] == DAY][0]
    assert [s["name"] for s in row["critical_path"]] == ["raw", "a", "b", "c"]
    assert row["critical_path"][1] == {
        "kind": "run", "name": "a", "partition": DAY, "state": "waiting",
        "start": "2026-01-06T01:07:30.000000Z", "finish": "2026-01-06T02:07:30.000000Z",
        "latest_finish": "2026-01-06T02:00:00.000000Z"}


def test_a_step_is_plain_data() -> None:
    step = Step("run", "a", DAY, "waiting", 10.0, 20.0, 30.0, slides=True)
    assert step.shifted(5) == Step("run", "a", DAY, "waiting", 15.0, 25.0, 30.0, slides=True)
    assert Step("arrival", "raw", DAY, "overdue", None, 1.0, None).shifted(5) == \
        Step("arrival", "raw", DAY, "overdue", None, 6.0, None)
