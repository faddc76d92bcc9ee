"""The log is the truth: replaying it rebuilds exactly the state that live handling built, and a
restart that replays and decides again derives the very same events (same ids), so the store,
which ignores an id it already holds, records nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from andon.events import Event, RunQueued, RunStarted
from andon.model.definitions import Input
from andon.model.graph import Graph
from andon.model.partitions import LastN
from andon.model.status import RunStatus
from tests.engine.harness import Line, graph, pipe, rebuilt, restart, snapshot, source

DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    """A random acyclic line: 1-2 sources, 1-5 pipelines each reading earlier data sets."""
    sources = [f"s{i}" for i in range(draw(st.integers(1, 2)))]
    pipes = []
    known = list(sources)
    for i in range(draw(st.integers(1, 5))):
        names = draw(st.lists(st.sampled_from(known), min_size=1, max_size=3, unique=True))
        inputs: list[str | Input] = [
            Input(n, LastN(2)) if draw(st.integers(0, 5)) == 0 else n for n in names]
        pipes.append(pipe(
            f"p{i}", inputs, retries=draw(st.integers(0, 2)),
            retry_delay=timedelta(minutes=draw(st.integers(0, 3))),
            max_concurrent=draw(st.integers(0, 2)),
            on_upstream_change=draw(st.sampled_from(["rerun", "rerun", "ignore"])),
            pool=draw(st.sampled_from(["default", "small"]))))
        known.append(f"p{i}")
    return graph([source(s) for s in sources], pipes,
                 default=draw(st.integers(1, 3)), small=1)


# one step of the outside world: (kind, a, b, c); the numbers pick among what exists then.
# Arrivals and executor reports are the common steps, so that lines really run.
KINDS = ["notify"] * 3 + ["finish"] * 5 + ["request", "cancel", "tick"]
steps = st.tuples(st.sampled_from(KINDS), st.integers(0, 9), st.integers(0, 2), st.integers(0, 2))


Step = tuple[int, int, datetime, list[str]]


def _play(g: Graph, plan: list[tuple[str, int, int, int]]) -> tuple[Line, list[Step]]:
    """Drive a line through ``plan``; return it and, per step, where the events the engine
    derived sit in the log (start, end) and the time it decided at."""
    line = Line(g)
    sources = sorted(a.name for a in g.assets.values() if a.source)
    pipelines = sorted(g.pipelines)
    derived: list[Step] = []
    for kind, a, b, c in plan:
        line.now += timedelta(minutes=1)
        before, commands = len(line.log), len(line.commands)
        if kind == "notify":
            line.notify(sources[a % len(sources)], DAYS[b], fingerprint=f"v{c}")
        elif kind == "request":
            line.request(pipelines[a % len(pipelines)], DAYS[b])
        elif kind == "finish" and line.running():
            run_id = line.running()[a % len(line.running())]
            # mostly success; sometimes a failure or a run killed by the executor
            (line.succeed, line.succeed, line.succeed, line.fail, line.killed)[(b + c * 3) % 5](run_id)
        elif kind == "cancel" and line.state.active:
            active = sorted(line.state.active.values())
            line.cancel(active[a % len(active)])
        elif kind == "tick":
            line.tick(timedelta(minutes=a + 1))
        else:
            continue
        start = before if kind == "tick" else before + 1
        derived.append((start, len(line.log), line.now, line.commands[commands:]))
        _check_invariants(line, line.log[start:])
    return line, derived


def _check_invariants(line: Line, new: list[Event]) -> None:
    g, state = line.graph, line.state
    for event in new:
        if isinstance(event, RunStarted):  # no work starts before every input exists
            wanted = g.input_keys(event.pipeline, event.partition)
            assert [(r.asset, r.partition) for r in event.inputs] == wanted
            assert all(r.version > 0 for r in event.inputs)
        if isinstance(event, RunQueued):
            assert event.reason in ("new_data", "manual", "upstream_changed", "retry")
            assert (event.not_before is not None) == (event.reason == "retry")
    for name, pool in g.pools.items():
        assert 0 <= state.pool_used.get(name, 0) <= pool.capacity
    for name, pipeline in g.pipelines.items():
        if pipeline.max_concurrent:
            assert state.running_per_pipeline.get(name, 0) <= pipeline.max_concurrent
    active = [r for r in state.runs.values() if not r.status.ended]
    assert len({(r.pipeline, r.partition) for r in active}) == len(active)  # one at a time


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=15, max_size=60))
def test_replaying_the_log_rebuilds_the_live_state(g: Graph,
                                                   plan: list[tuple[str, int, int, int]]) -> None:
    line, _ = _play(g, plan)

    rebuilt(line)  # and the log survives its storage form unchanged


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=15, max_size=50))
def test_a_restart_derives_the_same_events_with_the_same_ids(
        g: Graph, plan: list[tuple[str, int, int, int]]) -> None:
    line, derived = _play(g, plan)

    for start, end, now, cancel in derived:
        # the scheduler died after recording the input event but before its consequences:
        # the restarted one replays what was recorded and decides again
        state, again = restart(g, line.log[:start], now)
        assert _ids(again.events) == _ids(line.log[start:end])
        assert again.events == line.log[start:end]
        # cancels still owed are asked again (the old process may have died first), and only those
        assert set(cancel) <= set(again.cancel)
        assert all(state.runs[r].status is RunStatus.RUNNING for r in again.cancel)


def test_a_restart_after_everything_was_recorded_decides_nothing_new() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"], retries=1), pipe("b", ["a"])], default=1)
    line = Line(g)
    for day in DAYS:
        line.notify("raw", day)
    line.fail(line.running()[0])
    line.succeed(line.running()[0])

    state, out = restart(g, line.log, line.now)

    assert out.events == [] and out.cancel == []
    assert snapshot(state) == snapshot(line.state)


def test_derived_event_ids_name_the_run_and_what_happened_to_it() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"])]))
    line.notify("raw", DAYS[0])
    line.request("a", DAYS[0])
    line.succeed("a:2026-01-01:1")
    ids = [e.id for e in line.log if isinstance(e, (RunQueued, RunStarted))]
    assert ids == ["queued:a:2026-01-01:1", "started:a:2026-01-01:1",
                   "queued:a:2026-01-01:2", "started:a:2026-01-01:2"]
    assert all(r.status is not RunStatus.QUEUED for r in line.state.runs.values())


def _ids(events: list[Event]) -> list[str]:
    return [e.id for e in events]
