"""The forecast (pure): on plan, a late source, capacity contention, a failed run, learning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from andon.engine.core import handle
from andon.engine.state import EngineState
from andon.events import Event, OutputWritten, PartitionAvailable, RunFailed, RunSucceeded
from andon.model.definitions import Asset, Input, Pipeline, Pool
from andon.model.graph import Graph, build_graph
from andon.model.partitions import Partitions
from andon.planner.forecast import MIN_LATE, Deliverable, Forecast, forecast
from andon.planner.policies import Planner, make_policy

DAY = "2026-01-05"
DAILY = Partitions("daily", datetime(2026, 1, 5, tzinfo=UTC))  # DAY is the first partition
EARLY = Partitions("daily", datetime(2026, 1, 1, tzinfo=UTC))  # with days before DAY
END = datetime(2026, 1, 6, tzinfo=UTC)  # the end of partition DAY


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


def at(h: float) -> datetime:
    """``h`` hours after the end of DAY."""
    return END + hours(h)


def pipe(name: str, inputs: list[str], duration: float, deadline: float | None = None,
         pool: str = "default", owner: str = "", scheme: Partitions = DAILY) -> Pipeline:
    return Pipeline(name, tuple(Input(i) for i in inputs), (name,), scheme, command="true",
                    pool=pool, expected_duration=hours(duration), owner=owner,
                    deadline=None if deadline is None else hours(deadline))


def graph(pipelines: list[Pipeline], sources: dict[str, float], slots: int = 4,
          scheme: Partitions = DAILY) -> Graph:
    return build_graph([Asset(s, scheme, source=True, expected_arrival=hours(h))
                        for s, h in sources.items()], pipelines, [Pool("default", slots)])


def one(fc: Forecast, pipeline: str, key: str = DAY) -> Deliverable:
    (found,) = [d for d in fc.deliverables if d.pipeline == pipeline and d.partition == key]
    return found


def feed(g: Graph, state: EngineState, planner: Planner, *events: Event) -> None:
    for ev in events:
        handle(g, state, ev, ev.at, planner)


def arrive(source: str, when: datetime, key: str = DAY) -> PartitionAvailable:
    return PartitionAvailable(id=f"{source}:{key}", at=when, asset=source, partition=key)


def ts(moment: datetime) -> float:
    return moment.timestamp()


# raw lands 2h after the partition end; clean takes 30m and is due 40m after that
LINE = [pipe("clean", ["raw"], 0.5, deadline=2 + 40 / 60, owner="orders-team")]


def test_on_plan_before_the_source_is_due() -> None:
    g = graph(LINE, {"raw": 2})
    fc = forecast(g, EngineState(), make_policy("jit", g), at(1))
    d = one(fc, "clean")
    assert (d.state, d.owner, d.at_risk) == ("waiting", "orders-team", False)
    assert d.predicted_start == ts(at(2)) and d.predicted_finish == ts(at(2.5))
    assert d.due == ts(at(2 + 40 / 60)) and d.slack == 600
    assert d.reason == f"waits for raw {DAY}, expected at 02:00; 10m00s to spare"
    assert not d.slides
    assert fc.wake == ts(at(2))  # the moment the source's expected arrival passes


def test_a_source_that_misses_its_expected_arrival_puts_the_deliverable_at_risk() -> None:
    g = graph(LINE, {"raw": 2})
    fc = forecast(g, EngineState(), make_policy("jit", g), at(2))  # exactly then, no data
    d = one(fc, "clean")
    assert d.at_risk and d.slides
    # later than now by the usual lateness: here a quarter of the 2h offset
    assert d.predicted_finish == ts(at(2.5 + 0.5))
    assert d.reason == (f"raw {DAY} expected at 02:00, now 02:00 and still missing; predicted "
                        "finish 03:00 is 20m00s after the due time 02:40")
    later = forecast(g, EngineState(), make_policy("jit", g), at(2.25))
    assert one(later, "clean").predicted_finish == ts(at(3.25))  # it slides with the clock
    assert "now 02:15 and still missing" in one(later, "clean").reason


def test_the_data_arriving_brings_it_back_on_plan() -> None:
    g = graph(LINE, {"raw": 2})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(2.1)))
    d = one(forecast(g, state, planner, at(2.1)), "clean")
    assert d.state == "running" and not d.at_risk
    assert d.predicted_finish == ts(at(2.6))


def test_a_sliding_deliverable_wakes_the_shell_when_it_would_cross_its_due_time() -> None:
    g = graph([pipe("clean", ["raw"], 0.5, deadline=4)], {"raw": 2})
    planner = make_policy("jit", g)
    fc = forecast(g, EngineState(), planner, at(2))
    d = one(fc, "clean")
    assert not d.at_risk and d.slides and d.slack == 3600  # finish 03:00, due 04:00
    assert fc.wake is not None and abs(fc.wake - ts(at(3))) < 0.01
    crossed = forecast(g, EngineState(), planner, datetime.fromtimestamp(fc.wake, UTC))
    assert one(crossed, "clean").at_risk


def test_a_source_without_history_or_declaration_is_assumed_at_the_partition_end() -> None:
    g = build_graph([Asset("raw", DAILY, source=True)], LINE, [Pool("default", 1)])
    before = one(forecast(g, EngineState(), make_policy("fifo", g), at(-1)), "clean")
    assert before.predicted_start == ts(END) and "no expected arrival" in before.reason
    after = one(forecast(g, EngineState(), make_policy("fifo", g), at(1)), "clean")
    assert after.predicted_start == ts(at(1)) + MIN_LATE


def test_capacity_contention_pushes_the_finish() -> None:
    # one slot; a long run holds it; the report must wait for it to end
    g = graph([pipe("big", ["bulk"], 2), pipe("report", ["raw"], 0.5, deadline=1)],
              {"bulk": 0, "raw": 0}, slots=1)
    state, planner = EngineState(), make_policy("fifo", g)
    feed(g, state, planner, arrive("bulk", at(0)), arrive("raw", at(0.25)))
    assert [r.pipeline for r in state.running()] == ["big"]
    fc = forecast(g, state, planner, at(0.25))
    d = one(fc, "report")
    assert d.state == "queued" and d.at_risk
    assert d.predicted_start == ts(at(2)) and d.predicted_finish == ts(at(2.5))
    assert "waits for a slot in pool 'default'" in d.reason
    assert "1h30m after the due time 01:00" in d.reason
    # with two slots the same work is on plan
    wide = graph([pipe("big", ["bulk"], 2), pipe("report", ["raw"], 0.5, deadline=1)],
                 {"bulk": 0, "raw": 0}, slots=2)
    state2, planner2 = EngineState(), make_policy("fifo", wide)
    feed(wide, state2, planner2, arrive("bulk", at(0)), arrive("raw", at(0.25)))
    assert not one(forecast(wide, state2, planner2, at(0.25)), "report").at_risk


def test_the_policy_order_decides_who_waits() -> None:
    # two ready partitions, one slot: edf runs the one due first, fifo the one queued first
    lines = [pipe("slow_lane", ["a"], 1, deadline=5), pipe("fast_lane", ["b"], 1, deadline=1.5)]
    g = graph(lines + [pipe("blocker", ["c"], 0.5)], {"a": 0, "b": 0, "c": 0}, slots=1)
    for name, first in (("fifo", "slow_lane"), ("edf", "fast_lane")):
        state, planner = EngineState(), make_policy(name, g)
        feed(g, state, planner, arrive("c", at(0)), arrive("a", at(0.1)), arrive("b", at(0.2)))
        fc = forecast(g, state, planner, at(0.2))
        assert one(fc, first).predicted_start == ts(at(0.5)), name


def test_a_downstream_chain_and_a_running_run_past_its_p50() -> None:
    g = graph([pipe("a", ["raw"], 1), pipe("b", ["a"], 1), pipe("c", ["b"], 1, deadline=4)],
              {"raw": 0})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(0)))
    fc = forecast(g, state, planner, at(0.5))
    d = one(fc, "c")
    assert d.predicted_start == ts(at(2)) and d.predicted_finish == ts(at(3)) and not d.at_risk
    assert fc.wake == ts(at(1))  # when a passes its p50
    late = forecast(g, state, planner, at(1.5))  # a still running, past its p50 (= its p90)
    d = one(late, "c")
    assert d.slides and d.predicted_finish == ts(at(1.5 + 2))
    assert d.reason.startswith(f"a {DAY} has run 1h30m, usually 1h00m")


def test_a_failed_run_that_is_not_retried_blocks_the_deliverable() -> None:
    g = graph([pipe("a", ["raw"], 1), pipe("b", ["a"], 1, deadline=6)], {"raw": 0})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(0)))
    feed(g, state, planner, RunFailed(id="f", at=at(0.5), run_id=f"a:{DAY}:1", pipeline="a",
                                      partition=DAY, error_type="ValueError"))
    d = one(forecast(g, state, planner, at(0.5)), "b")
    assert d.state == "blocked" and d.at_risk and d.predicted_finish is None
    assert d.reason.startswith(f"a {DAY} failed (attempt 1) and is not retried")
    assert f"andon run a --partition {DAY}" in d.reason


def test_delivered_partitions_stay_a_day_and_say_when() -> None:
    g = graph(LINE, {"raw": 2})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(2.5)))
    feed(g, state, planner, RunSucceeded(id="s", at=at(3), run_id=f"clean:{DAY}:1",
                                         pipeline="clean", partition=DAY,
                                         outputs=(OutputWritten("clean", DAY),)))
    d = one(forecast(g, state, planner, at(3)), "clean")
    assert d.delivered and not d.at_risk and d.delivered_at == ts(at(3))
    assert d.reason == "delivered at 03:00, 20m00s after the due time 02:40"
    assert d.predicted_start == ts(at(2.5))
    gone = forecast(g, state, planner, at(3 + 25))
    assert all(x.partition != DAY for x in gone.deliverables)


def test_the_window_holds_recent_and_upcoming_partitions_only() -> None:
    g = graph([pipe("clean", ["raw"], 0.5, deadline=2 + 40 / 60, scheme=EARLY)], {"raw": 2},
              scheme=EARLY)
    fc = forecast(g, EngineState(), make_policy("jit", g), at(1))
    # DAY (due in 1h40m), the day after (upcoming) and the day before (due 22h ago, undelivered)
    assert [d.partition for d in fc.deliverables] == ["2026-01-04", DAY, "2026-01-06"]
    assert fc.deliverables[0].at_risk and not fc.deliverables[2].at_risk


def test_nothing_is_expected_after_the_project_end() -> None:
    # [project] end = "2026-01-05": DAY is the last partition
    ending = Partitions("daily", datetime(2026, 1, 1, tzinfo=UTC), END)
    g = graph([pipe("clean", ["raw"], 0.5, deadline=2 + 40 / 60, scheme=ending)], {"raw": 2},
              scheme=ending)
    planner = make_policy("jit", g)
    fc = forecast(g, EngineState(), planner, at(1))
    assert [d.partition for d in fc.deliverables] == ["2026-01-04", DAY]  # not 2026-01-06
    # long after the end: nothing upcoming, nothing at risk, nothing to wake for
    later = forecast(g, EngineState(), planner, at(24 * 30))
    assert later.deliverables == () and later.wake is None
    # the same line without an end expects the days after it, at risk once their data is late
    g = graph([pipe("clean", ["raw"], 0.5, deadline=2 + 40 / 60, scheme=EARLY)], {"raw": 2},
              scheme=EARLY)
    assert any(d.at_risk for d in forecast(g, EngineState(), make_policy("jit", g),
                                           at(24 * 30)).deliverables)


def test_the_forecast_is_deterministic_and_json_ready() -> None:
    g = graph([pipe(f"p{i}", ["raw"], 0.5 + i / 10, deadline=3) for i in range(6)], {"raw": 1},
              slots=2)
    a = forecast(g, EngineState(), make_policy("jit", g), at(0))
    b = forecast(g, EngineState(), make_policy("jit", g), at(0))
    assert a == b
    data = a.view("jit")
    assert data["as_of"] == "2026-01-06T00:00:00.000000Z" and data["policy"] == "jit"
    row = [r for r in data["deliverables"] if r["pipeline"] == "p5" and r["partition"] == DAY][0]
    assert row["due"] == "2026-01-06T03:00:00.000000Z" and row["at_risk"] is False
    # jit is forecast by least slack: the longest runs (least slack) start first
    assert row["predicted_start"] == "2026-01-06T01:00:00.000000Z"
    assert row["slack_seconds"] == 3600.0


def test_a_later_view_moves_what_slides() -> None:
    g = graph(LINE, {"raw": 2})
    fc = forecast(g, EngineState(), make_policy("jit", g), at(2))
    seen = fc.at(ts(at(2.5)))
    assert one(seen, "clean").predicted_finish == ts(at(3.5))
    assert one(seen, "clean", "2026-01-06") == one(fc, "clean", "2026-01-06")  # fixed ones stay


def test_learned_history_moves_the_prediction() -> None:
    g = graph([pipe("clean", ["raw"], 0.5, deadline=2 + 40 / 60, scheme=EARLY)], {"raw": 2},
              scheme=EARLY)
    planner = make_policy("jit", g)
    for day in range(1, 5):  # raw used to land 3h after the partition end
        key = f"2026-01-0{day}"
        planner.observe(EngineState(), [arrive("raw", EARLY.end(key) + hours(3), key)])
    d = one(forecast(g, EngineState(), planner, at(1)), "clean")
    assert d.predicted_start == ts(at(3)) and d.at_risk


def test_a_partition_halted_by_the_andon_cord_waits_for_a_person() -> None:
    from andon.events import CordPulled

    g = graph([pipe("a", ["raw"], 1), pipe("b", ["a"], 1, deadline=6)], {"raw": 0})
    state, planner = EngineState(), make_policy("jit", g)
    feed(g, state, planner, arrive("raw", at(0)))
    before = one(forecast(g, state, planner, at(0.5)), "b")
    assert not before.at_risk and before.predicted_finish == ts(at(2))
    feed(g, state, planner, CordPulled(id="c", at=at(0.5), cord_id=f"raw:{DAY}:1", asset="raw",
                                       partition=DAY, reason="bad rows", by="ann"))
    d = one(forecast(g, state, planner, at(0.5)), "b")
    assert d.state == "blocked" and d.at_risk and d.predicted_finish is None
    assert d.reason == f"b {DAY} cannot run: halted by the andon cord raw:{DAY}:1 (bad rows)"
