"""Cords on random lines: replaying the log rebuilds the cords exactly, a restart derives the same
events, no run of a halted partition starts, and no run reads a version known to be bad."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from andon.engine.cords import CordStatus
from andon.events import CordPulled, Event, RunStarted
from andon.model.graph import Graph
from tests.engine.cordlib import pull, resolve
from tests.engine.harness import Line, rebuilt, restart
from tests.engine.test_replay import DAYS, graphs

KINDS = ["notify"] * 3 + ["finish"] * 6 + ["request", "tick", "pull", "resolve", "fix"]
steps = st.tuples(st.sampled_from(KINDS), st.integers(0, 9), st.integers(0, 2), st.integers(0, 2))


def _play(g: Graph, plan: list[tuple[str, int, int, int]]) -> tuple[Line, list[tuple[int, int]]]:
    line = Line(g)
    sources = sorted(a.name for a in g.assets.values() if a.source)
    pipelines = sorted(g.pipelines)
    assets = sorted(g.assets)
    spans: list[tuple[int, int]] = []
    for kind, a, b, c in plan:
        line.now += timedelta(minutes=1)
        before = len(line.log)
        book = line.state.cords
        if kind == "notify":
            line.notify(sources[a % len(sources)], DAYS[b], fingerprint=f"v{c}")
        elif kind == "request":
            line.request(pipelines[a % len(pipelines)], DAYS[b])
        elif kind == "finish" and line.running():
            run_id = line.running()[a % len(line.running())]
            (line.succeed, line.succeed, line.succeed, line.fail, line.killed)[(b + c * 3) % 5](run_id)
        elif kind == "tick":
            line.tick(timedelta(minutes=a + 1))
        elif kind == "pull":
            where = (assets[a % len(assets)], DAYS[b])
            if line.state.version(*where) == 0 or where in book.open_on:
                continue
            pull(line, *where)
        elif kind in ("resolve", "fix"):
            pulled = sorted(k for k, v in book.cords.items() if v.status is CordStatus.PULLED)
            if not pulled:
                continue
            resolve(line, pulled[a % len(pulled)], manual_fix=kind == "fix")
        else:
            continue
        if kind != "tick":
            before += 1
        spans.append((before, len(line.log)))
        _check(line, line.log[before:])
    return line, spans


def _check(line: Line, new: list[Event]) -> None:
    book = line.state.cords
    for event in new:
        if isinstance(event, RunStarted):
            key = (event.pipeline, event.partition)
            assert key not in book.halted, f"{event.run_id} started while a cord halts it"
            assert not any(i in book.bad for i in event.inputs), f"{event.run_id} reads bad data"
    for cord in book.cords.values():
        if cord.status.open:
            assert book.open_on[(cord.asset, cord.partition)] == cord.cord_id


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=20, max_size=70))
def test_replaying_a_log_with_cords_rebuilds_the_live_state(
        g: Graph, plan: list[tuple[str, int, int, int]]) -> None:
    line, _ = _play(g, plan)

    assert rebuilt(line).cords.owed == {}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(g=graphs(), plan=st.lists(steps, min_size=20, max_size=50))
def test_a_restart_with_cords_derives_the_same_events(
        g: Graph, plan: list[tuple[str, int, int, int]]) -> None:
    line, spans = _play(g, plan)

    for start, end in spans:
        if not any(isinstance(e, CordPulled) for e in line.log[start - 1:start]):
            continue  # the interesting restarts: right after a pull was recorded
        _, again = restart(g, line.log[:start], line.log[start - 1].at)
        assert [e.id for e in again.events] == [e.id for e in line.log[start:end]]
