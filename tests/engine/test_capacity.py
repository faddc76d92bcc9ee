"""Pools cap how many slots run at once; queued runs start first come, first served."""

from __future__ import annotations

from andon.events import RunStarted
from tests.engine.harness import Line, graph, pipe, source, started

DAYS = [f"2026-01-0{d}" for d in range(1, 7)]


def test_a_pool_never_runs_more_than_its_capacity_and_starts_in_arrival_order() -> None:
    line = Line(graph([source("raw")], [pipe("clean", ["raw"])], default=2))
    for day in DAYS:
        line.notify("raw", day)

    assert line.running() == ["clean:2026-01-01:1", "clean:2026-01-02:1"]
    assert line.queued() == [f"clean:{d}:1" for d in DAYS[2:]]
    assert line.state.pool_used["default"] == 2

    order: list[str] = list(line.running())
    while line.running():
        out = line.succeed(line.running()[0])
        order += started(out)
        assert len(line.running()) <= 2
        assert line.state.pool_used["default"] == len(line.running())
    assert order == [f"clean:{d}:1" for d in DAYS]  # FIFO
    assert line.state.pool_used["default"] == 0


def test_runs_take_their_slots_and_a_big_run_waits_for_enough_room() -> None:
    g = graph([source("raw")], [pipe("big", ["raw"], slots=3), pipe("small", ["raw"])], default=4)
    line = Line(g)

    out = line.notify("raw", "2026-01-01")  # big (3 slots) and small (1 slot) fill the pool
    assert sorted(started(out)) == ["big:2026-01-01:1", "small:2026-01-01:1"]
    assert line.state.pool_used["default"] == 4

    out = line.notify("raw", "2026-01-02")
    assert started(out) == []
    line.succeed("small:2026-01-01:1")  # 1 slot free: big 01-02 needs 3, small 01-02 fits
    assert line.running() == ["big:2026-01-01:1", "small:2026-01-02:1"]
    assert line.queued() == ["big:2026-01-02:1"]

    out = line.succeed("big:2026-01-01:1")
    assert started(out) == ["big:2026-01-02:1"]
    assert [e.slots for e in out.events if isinstance(e, RunStarted)] == [3]


def test_pools_are_separate() -> None:
    g = graph([source("raw")], [pipe("etl", ["raw"]), pipe("train", ["raw"], pool="gpu")],
              default=4, gpu=1)
    line = Line(g)
    for day in DAYS[:3]:
        line.notify("raw", day)

    running = line.running()
    assert sorted(r for r in running if r.startswith("etl")) == [f"etl:{d}:1" for d in DAYS[:3]]
    assert [r for r in running if r.startswith("train")] == ["train:2026-01-01:1"]
    assert line.state.pool_used == {"default": 3, "gpu": 1}


def test_max_concurrent_caps_one_pipeline_below_its_pool() -> None:
    g = graph([source("raw")], [pipe("serial", ["raw"], max_concurrent=1), pipe("free", ["raw"])],
              default=8)
    line = Line(g)
    for day in DAYS[:3]:
        line.notify("raw", day)

    assert [r for r in line.running() if r.startswith("serial")] == ["serial:2026-01-01:1"]
    assert len([r for r in line.running() if r.startswith("free")]) == 3
    out = line.succeed("serial:2026-01-01:1")
    assert started(out) == ["serial:2026-01-02:1"]
