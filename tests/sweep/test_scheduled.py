"""The scheduled sweep (`[sweep] every`): the project gets the built-in pipeline `andon_sweep`,
the engine requests it once per period (at once on the first start, then at each period's
start, counted from the epoch), and its run — `andon sweep --apply` against the running
scheduler — is a normal run: on the board, in the runs, in the manual when it fails."""

from __future__ import annotations

import time
from datetime import timedelta

import httpx

from andon.engine.core import decide, next_wakeup, replay
from andon.events import RunQueued, RunRequested
from andon.live.clock import FakeClock
from andon.model.lifecycle import SWEEP_PIPELINE
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import ensure_local_token
from andon.store.sql import Store
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import PIPELINES
from tests.web.conftest import auth_header, running

T0 = utc(2026, 3, 1, 9)
DAILY = '[sweep]\nevery = "1d"\n'


def test_the_engine_requests_one_sweep_per_period(make_project: ProjectFactory) -> None:
    graph = load_project(make_project(PIPELINES, extra=DAILY)).graph
    assert SWEEP_PIPELINE in graph.pipelines and graph.sweep_every == timedelta(days=1)
    state = replay(graph, [])
    out = decide(graph, state, T0)
    (asked,) = [e for e in out.events if isinstance(e, RunRequested)]
    assert asked.pipeline == SWEEP_PIPELINE and asked.reason == "schedule"
    assert any(isinstance(e, RunQueued) and e.pipeline == SWEEP_PIPELINE for e in out.events)
    assert not [e for e in decide(graph, state, T0 + timedelta(hours=1)).events
                if isinstance(e, RunRequested)]  # once per period
    assert next_wakeup(state, T0, graph) == utc(2026, 3, 2)  # the next midnight UTC
    again = replay(graph, out.events)  # a restart knows the period was requested
    assert not [e for e in decide(graph, again, T0 + timedelta(hours=2)).events
                if isinstance(e, RunRequested)]
    later = decide(graph, again, utc(2026, 3, 4, 5)).events  # three days asleep: one request
    assert len([e for e in later if isinstance(e, RunRequested)]) == 1


def test_without_every_there_is_no_sweep_pipeline(make_project: ProjectFactory) -> None:
    graph = load_project(make_project(PIPELINES)).graph
    assert SWEEP_PIPELINE not in graph.pipelines and graph.sweep_every is None
    assert next_wakeup(replay(graph, []), T0, graph) is None


def test_the_scheduled_sweep_runs_as_a_normal_run(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES, extra=DAILY)
    spare = root / "data/spare/2026-02-27.csv"
    spare.parent.mkdir(parents=True)
    spare.write_text("a\n")
    clock = FakeClock(T0)
    project = load_project(root)
    settings = resolve(root, {}, {}, project.settings_table)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    ensure_local_token(settings, Store(settings.database_url))  # as `andon up` makes it
    with running(root, executor="local", clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        op = auth_header(line)
        assert client.post("/api/v1/notify", json={"asset": "spare", "partition": "2026-02-27"},
                           headers=op).status_code == 201
        assert client.post("/api/v1/deprecations", headers=op, json={
            "name": "spare", "delete_after": "2026-03-20", "reason": "unused"}).status_code == 201

        def sweeps() -> list[dict[str, object]]:
            return client.get("/api/v1/runs", params={"pipeline": SWEEP_PIPELINE}).json()

        _until(lambda: [r["status"] for r in sweeps()] == ["succeeded"])  # the first, at start
        assert spare.exists()
        clock.set(utc(2026, 3, 22, 0, 5))  # the date has passed; a new day, a new sweep
        _until(lambda: [r["status"] for r in sweeps()] == ["succeeded", "succeeded"])
        assert not spare.exists()
        (standing,) = client.get("/api/v1/deprecations").json()["deprecations"]
        assert standing["state"] == "deleted"
        assert SWEEP_PIPELINE in client.get("/").text  # a line of the board


def _until(predicate, timeout: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
