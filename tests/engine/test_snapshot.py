"""Engine-state snapshots and settled days out of memory never change a decision.

A snapshot read back (through JSON and zlib, as the store keeps it) plus the events after it
builds the very state a replay of the whole log builds, and decides the same next turns; a state
that let settled days go and reads them back before each event that may touch them decides,
event by event, exactly what the state that kept everything decides."""

from __future__ import annotations

import json
import zlib
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from andon.engine import archive
from andon.engine.core import Decisions, decide, handle, mark_all, replay
from andon.engine.snapshot import (
    SnapshotError,
    graph_digest,
    state_from_data,
    state_to_data,
    state_to_data_steps,
)
from andon.engine.state import EngineState, apply
from andon.events import Event
from andon.model.definitions import Input
from andon.model.graph import Graph
from andon.model.partitions import LastN
from andon.model.status import RunStatus
from tests.engine.harness import START, Line, graph, pipe, snapshot, source
from tests.engine.test_replay import _play, graphs, steps


def _through_storage(state: EngineState) -> EngineState:
    body = zlib.compress(json.dumps(state_to_data(state)).encode())
    return state_from_data(json.loads(zlib.decompress(body)))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=15, max_size=50), cut=st.floats(0, 1))
def test_a_snapshot_and_the_events_after_it_build_what_the_whole_log_builds(
        g: Graph, plan: list[tuple[str, int, int, int]], cut: float) -> None:
    line, _ = _play(g, plan)
    k = int(cut * len(line.log))
    state = _through_storage(replay(g, line.log[:k]))
    for event in line.log[k:]:
        apply(g, state, event)
    full = replay(g, line.log)

    assert snapshot(state) == snapshot(full)
    # the same decisions on the next turns: after a restart, and a while later
    mark_all(g, state)
    mark_all(g, full)
    for later in (timedelta(0), timedelta(hours=2)):
        ours, theirs = decide(g, state, line.now + later), decide(g, full, line.now + later)
        assert ours.events == theirs.events and ours.cancel == theirs.cancel


def test_queued_runs_are_the_runs_themselves_once_read_back() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"])], default=1)
    line = Line(g)
    line.notify("raw", "2026-01-01")
    line.notify("raw", "2026-01-02")  # queued: the pool is full
    state = _through_storage(line.state)
    queued = next(iter(state.queue))

    assert state.queue[queued] is state.runs[queued]
    assert state.last_end == {} and state.runs[queued].status is RunStatus.QUEUED


@pytest.mark.parametrize("data", [
    [], {"runs": [["x", {"run_id": "x"}]]}, {"partitions": [[["a", "k"], {"version": "one"}]]},
    {"queue": ["nowhere"]}, {"seq": "many"},
])
def test_a_snapshot_that_does_not_fit_the_state_is_refused(data: Any) -> None:
    with pytest.raises(SnapshotError):
        state_from_data(data)


def test_the_digest_changes_with_what_the_engine_reads_of_the_definitions() -> None:
    base = graph([source("raw")], [pipe("a", ["raw"])])
    assert graph_digest(base) == graph_digest(graph([source("raw")], [pipe("a", ["raw"])]))
    assert graph_digest(base) != graph_digest(graph([source("raw")], [pipe("a", ["raw"],
                                                                              retries=2)]))
    assert graph_digest(base) != graph_digest(
        graph([source("raw")], [pipe("a", [Input("raw", LastN(2))])]))


# -- settled days out of memory ----------------------------------------------------------------

DAY = timedelta(days=1)


def _day(n: int) -> str:
    return (START + n * DAY).strftime("%Y-%m-%d")


class Twin(Line):
    """A line whose every event is also handled by a second state that lets settled days go
    (``settle``) and reads them back before an event that may touch them; each decision of
    the two must be the same."""

    def __init__(self, g: Graph, keep_days: int = 2) -> None:
        super().__init__(g, START + 2 * DAY)
        self.lean = EngineState()
        self.kept: dict[str, Any] = {}  # day -> its data, through JSON as the store keeps it
        self.keep_days = keep_days
        self.reach = archive.reach_days(g)
        self.spread = archive.spread_days(g, self.reach or 0)
        self.brought_back = 0

    def send(self, event: Event) -> Decisions:
        wanted = archive.needs(event, self.kept, self.reach or 0, self.spread)
        for day in wanted:
            archive.restore(self.lean, self.kept.pop(day))
        self.brought_back += len(wanted)
        ours = handle(self.graph, self.lean, event, self.now)
        theirs = super().send(event)
        assert ours.events == theirs.events and ours.cancel == theirs.cancel
        return theirs

    def tick(self, by: timedelta = timedelta(0)) -> Decisions:
        ours = decide(self.graph, self.lean, self.now + by)
        theirs = super().tick(by)
        assert ours.events == theirs.events
        return theirs

    def settle(self) -> list[str]:
        assert self.reach is not None
        days = archive.evictable(self.lean, archive.horizon(self.now, self.keep_days, self.reach),
                                 self.reach)
        out = archive.extract(self.lean, days)
        self.kept.update(json.loads(json.dumps(out)))
        return days

    def whole(self) -> EngineState:
        for day in sorted(self.kept):
            archive.restore(self.lean, self.kept.pop(day))
        return self.lean


def _lines() -> Graph:
    return graph([source("raw"), source("fx")], [
        pipe("clean", ["raw"], retries=1),
        pipe("join", ["clean", "fx"]),
        pipe("week", [Input("join", LastN(3))]),
    ], default=2)


day_steps = st.lists(st.tuples(st.sampled_from(
    ["day"] * 3 + ["finish"] * 6 + ["late", "backfill", "fail", "tick", "settle"]),
    st.integers(0, 30)), min_size=10, max_size=70)


def _play_days(line: Twin, plan: list[tuple[str, int]]) -> None:
    today = 0
    for kind, n in plan:
        line.now += timedelta(hours=3)
        if kind == "day":  # the next day's data lands
            line.notify("raw", _day(today))
            line.notify("fx", _day(today))
            today += 1
            line.now = max(line.now, START + (today + 1) * DAY)
        elif kind == "finish" and line.running():
            line.succeed(line.running()[n % len(line.running())])
        elif kind == "fail" and line.running():
            line.fail(line.running()[n % len(line.running())])
        elif kind == "late" and today:  # an old day's source delivered again, changed
            line.notify("raw", _day(n % today), fingerprint=f"again{n}")
        elif kind == "backfill" and today:
            line.request("join", _day(n % today), reason="backfill")
        elif kind == "tick":
            line.tick(timedelta(minutes=n))
        elif kind == "settle":
            line.settle()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plan=day_steps)
def test_letting_settled_days_go_changes_no_decision(plan: list[tuple[str, int]]) -> None:
    line = Twin(_lines())
    _play_days(line, plan)
    line.run_all()
    line.settle()

    assert snapshot(line.whole()) == snapshot(line.state)


def test_the_days_a_queued_run_reads_stay_though_they_are_past_the_horizon() -> None:
    """The case the property above found: the clock runs ahead of the runs, so a day still
    queued lies before the horizon, and the days its window reads must stay with it; it starts
    when another run ends, an event that names none of them."""
    line = Twin(_lines())
    _play_days(line, [("day", 0)] * 3 + [("finish", 0), ("day", 0)] + [("finish", 0)] * 7)
    assert list(line.lean.queue) == ["week:2026-01-03:1"]  # reads join of 01-01 .. 01-03
    assert archive.horizon(line.now, line.keep_days, 2) == "2026-01-02"

    assert "2026-01-01" not in line.settle()
    line.run_all()  # each decision the same as with everything kept (``Twin.send``)
    line.settle()
    assert snapshot(line.whole()) == snapshot(line.state)


def test_a_year_of_days_leaves_only_the_last_ones_in_memory() -> None:
    line = Twin(_lines())
    for d in range(60):
        line.notify("raw", _day(d))
        line.notify("fx", _day(d))
        line.run_all()
        line.now += DAY
        if d % 10 == 9:
            line.settle()
    days_in_memory = {archive.day_of(k) for _, k in line.lean.partitions}

    # the horizon: keep_days (2) and the window's reach (2) before now, plus today
    assert len(days_in_memory) <= 2 + 2 + 10 and len(line.kept) >= 45
    assert len(line.lean.runs) < len(line.state.runs) / 3
    # a late delivery of an old day brings back that day and the days after it, re-makes it
    # and its window's readers exactly as the state that kept everything does
    line.notify("raw", _day(5), fingerprint="corrected")
    line.run_all()
    assert line.brought_back > 0
    assert line.version("clean", _day(5)) == 2 and line.version("week", _day(7)) == 2
    assert snapshot(line.whole()) == snapshot(line.state)


def test_a_graph_whose_mappings_are_not_known_keeps_everything() -> None:
    class Odd:
        def upstream_keys(self, key: str, down: Any, up: Any) -> list[str]:
            return [key]

        def downstream_keys(self, key: str, up: Any, down: Any) -> list[str]:
            return [key]

        def describe(self) -> str:
            return "odd"

    assert archive.reach_days(_lines()) == 2
    assert archive.spread_days(_lines(), 2) == 6  # three pipelines in a row
    assert archive.reach_days(graph([source("raw")], [pipe("a", [Input("raw", Odd())])])) is None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=15, max_size=50), step=st.integers(1, 5))
def test_the_conversion_a_piece_at_a_time_gives_the_same_data(
        g: Graph, plan: list[tuple[str, int, int, int]], step: int) -> None:
    line, _ = _play(g, plan)
    state = replay(g, line.log)
    pieces = state_to_data_steps(state, step)
    pauses = 0
    while True:
        try:
            next(pieces)
        except StopIteration as done:
            data = done.value
            break
        pauses += 1
    assert data == state_to_data(state)
    # a pause after every field at least, and within the runs every ``step`` of them
    assert pauses >= len(state.runs) // step
    assert snapshot(state_from_data(json.loads(json.dumps(data)))) == snapshot(state)
