"""How many Dask workers andon's queue and forecast need (pure): ready runs now, work the
forecast says starts soon, a retry's back-off, and zero when nothing is ready or coming."""

from __future__ import annotations

from andon.engine.state import EngineState
from andon.executors.daskadapt import HORIZON, Demand, demand_of, pool_shares, workers_needed
from andon.planner.forecast import forecast
from andon.planner.policies import make_policy
from tests.planner.test_forecast import DAY, LINE, arrive, at, feed, graph, ts

SHARES = {"default": 2, "gpu": 1}
CAPS = {"default": 4, "gpu": 1}


def test_shares_spread_each_pool_over_the_workers() -> None:
    assert pool_shares({"default": 4, "gpu": 1, "io": 5}, 2) == {"default": 2, "gpu": 1, "io": 3}
    assert pool_shares({"default": 4}, 0) == {"default": 4}


def test_nothing_ready_nor_coming_needs_no_worker() -> None:
    assert workers_needed(Demand(), SHARES, CAPS, 0.0) == 0


def test_ready_slots_over_a_workers_share_capped_by_the_pool() -> None:
    assert workers_needed(Demand({"default": 3}), SHARES, CAPS, 0.0) == 2
    assert workers_needed(Demand({"default": 40}), SHARES, CAPS, 0.0) == 2  # capacity 4
    assert workers_needed(Demand({"default": 1, "gpu": 1}), SHARES, CAPS, 0.0) == 1
    assert workers_needed(Demand({"unheld": 3}), SHARES, CAPS, 0.0) == 0  # no worker holds it


def test_coming_work_counts_only_within_the_horizon() -> None:
    demand = Demand({}, ((100.0, "default", 1), (100.0 + HORIZON + 50, "default", 2)))
    assert workers_needed(demand, SHARES, CAPS, 0.0) == 1
    assert workers_needed(demand, SHARES, CAPS, 160.0) == 2  # the later one is near now
    assert workers_needed(demand, {"default": 1}, CAPS, 200.0) == 3


def test_the_forecast_asks_for_a_worker_just_before_the_source_lands() -> None:
    g = graph(LINE, {"raw": 2})  # raw is expected 2h after the day ends; clean runs then
    state = EngineState()
    pools = {"clean": ("default", 1)}
    planner = make_policy("jit", g)
    early = demand_of(state, forecast(g, state, planner, at(1)), pools)
    assert early.now == {} and early.coming == ((ts(at(2)), "default", 1),)
    assert workers_needed(early, {"default": 1}, CAPS, ts(at(1))) == 0  # an hour early: none
    assert workers_needed(early, {"default": 1}, CAPS, ts(at(2)) - 60) == 1  # a minute before

    feed(g, state, planner, arrive("raw", at(2)))  # clean is queued now: ready
    ready = demand_of(state, forecast(g, state, planner, at(2)), pools)
    assert ready.now == {"default": 1} and ready.coming == ()  # counted once
    assert workers_needed(ready, {"default": 1}, CAPS, ts(at(2))) == 1
    assert DAY in {r.partition for r in state.runs.values()}
