"""The offline write path (``andon.live.offline.submit``): with no scheduler running, a write is
decided by the engine as one turn of ``andon up`` would decide it. Real SQLite files, real
projects on disk, a fake clock; nothing is launched (a null executor online)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from andon.events import Event, RunQueued, RunStarted
from andon.events.codec import to_dict
from andon.executors.base import Report, RunSpec
from andon.live.clock import FakeClock
from andon.live.offline import submit
from andon.live.runner import Runner
from andon.live.service import Service
from andon.model.errors import AndonError
from andon.project.load import load_project
from andon.store.sql import Store
from tests.conftest import utc

PIPELINES = r'''
import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    pass


@andon.pipeline(inputs=["clean"], outputs=["report"])
def report(ctx):
    pass
'''
DAYS = ["2026-01-05", "2026-01-06", "2026-01-07"]
START = utc(2026, 1, 8, 6)


class NullExecutor:
    """Starts nothing and never reports: the online twin of the offline path's null executor
    (inline, so the runner records no RunLaunched for it)."""

    name = "null"
    inline = True

    def start(self, spec: RunSpec, report: Report) -> int:
        return 0

    def cancel(self, run_id: str) -> None:
        pass

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        return True

    def shutdown(self) -> None:
        pass


def _store(root: Path) -> Store:
    (root / ".andon").mkdir(exist_ok=True)
    return Store(f"sqlite:///{root / '.andon' / 'andon.db'}")


def _log(store: Store) -> list[dict[str, Any]]:
    return [to_dict(e) for e in store.iter_events()]


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(PIPELINES, pools={"default": 1})


def test_a_notify_offline_is_decided_at_once(project: Path) -> None:
    graph = load_project(project).graph
    store = _store(project)
    event = Service(graph, store, project).notify("raw", DAYS[0], START)
    assert submit(graph, store, [event], START) == [True]
    names = [type(e).__name__ for e in store.iter_events()]
    assert names == ["PartitionAvailable", "RunQueued", "RunStarted"]
    (run,) = store.runs("clean", None, None, limit=10)
    assert run["status"] == "running"  # the read model records what the engine decided
    assert submit(graph, store, [event], START) == [False]  # the same data again: once
    assert len(_log(store)) == 3
    store.close()


def test_the_next_up_adopts_what_was_decided_offline(project: Path) -> None:
    """A run the engine started offline never began: the next scheduler starts it."""
    graph = load_project(project).graph
    store = _store(project)
    svc = Service(graph, store, project)
    submit(graph, store, [svc.notify("raw", d, START) for d in DAYS[:2]], START)
    started = [e for e in store.iter_events() if isinstance(e, RunStarted)]
    queued = [e for e in store.iter_events() if isinstance(e, RunQueued)]
    assert len(started) == 1 and len(queued) == 2  # one slot: one runs, one waits

    launched: list[str] = []

    class Counting(NullExecutor):
        def start(self, spec: RunSpec, report: Report) -> int:
            launched.append(spec.run_id)
            return 0

        def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
            return False  # never began (no spec written): the runner starts it again

    clock = FakeClock(START)
    runner = Runner(graph, store, Counting(), project, project / ".andon" / "runs", clock)
    assert runner.recover() == 1
    assert launched == [started[0].run_id]
    store.close()


def test_a_batch_is_one_turn_answered_per_event(project: Path) -> None:
    """Each event answered in order; one already seen in the batch is skipped like one in the
    log; what the engine decided follows the event it came from."""
    graph = load_project(project).graph
    store = _store(project)
    svc = Service(graph, store, project)
    first = svc.notify("raw", DAYS[0], START)
    request = svc.run_request("report", DAYS[0], START, "manual", "cli")
    assert submit(graph, store, [first, first, request], START) == [True, False, True]
    names = [type(e).__name__ for e in store.iter_events()]
    assert names == ["PartitionAvailable", "RunQueued", "RunStarted", "RunRequested"]
    store.close()


# -- the property: offline and online give the same log ------------------------------------------

REQUEST = st.one_of(
    st.tuples(st.just("notify"), st.sampled_from(DAYS)),
    st.tuples(st.just("run"), st.sampled_from(["clean", "report"]), st.sampled_from(DAYS)),
    st.tuples(st.just("backfill"), st.sampled_from(["clean", "report"])),
    st.tuples(st.just("cancel"), st.integers(0, 5)),
    st.tuples(st.just("pull"), st.sampled_from(["raw", "clean"]), st.sampled_from(DAYS)),
    st.tuples(st.just("resolve"), st.integers(0, 3), st.booleans()),
    st.tuples(st.just("wait"), st.integers(1, 120)),
)


def _build(svc: Service, store: Store, req: tuple[Any, ...], now: Any) -> list[Event]:
    """The events one request makes, built by the service against the read models (as the CLI
    and the API build them); [] when the service refuses it."""
    kind = req[0]
    try:
        if kind == "notify":
            return [svc.notify("raw", req[1], now)]
        if kind == "run":
            return [svc.run_request(req[1], req[2], now, "manual", "cli")]
        if kind == "backfill":
            return list(svc.backfill(req[1], DAYS[0], DAYS[-1], now, "cli"))
        if kind == "cancel":
            runs = sorted(r["run_id"] for r in store.runs(None, None, None, limit=1000))
            return [svc.cancel(runs[req[1] % len(runs)], now, "cli")] if runs else []
        if kind == "pull":
            return [svc.cord_pull(req[1], req[2], "bad rows", now, "tester")]
        if kind == "resolve":
            cords = sorted(c["cord_id"] for c in svc.cords(everything=True))
            return [svc.cord_resolve(cords[req[1] % len(cords)], "fixed", now, "tester",
                                     req[2])] if cords else []
    except AndonError:
        return []
    return []


@pytest.fixture
def twin(make_project: Callable[..., Path]) -> Iterator[Callable[[], tuple[Path, Path]]]:
    def make() -> tuple[Path, Path]:
        return (make_project(PIPELINES, pools={"default": 1}),
                make_project(PIPELINES, pools={"default": 1}))
    yield make


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(REQUEST, min_size=1, max_size=12))
def test_offline_and_online_give_the_same_log(twin: Callable[[], tuple[Path, Path]],
                                              requests: list[tuple[Any, ...]]) -> None:
    off_root, on_root = twin()
    graph = load_project(on_root).graph
    clock = FakeClock(START)
    on_store = _store(on_root)
    runner = Runner(graph, on_store, NullExecutor(), on_root, on_root / ".andon" / "runs", clock)
    on_svc = Service(graph, on_store, on_root)
    runner.recover()
    runner.start()
    try:
        for req in requests:
            if req[0] == "wait":
                clock.advance(timedelta(seconds=req[1]))
                assert runner.drain()
                continue
            now = clock.now()
            events = _build(on_svc, on_store, req, now)
            on = [f.result(30) for f in [runner.submit(e) for e in events]]
            assert runner.drain()
            off_store = _store(off_root)  # a fresh store for every write, as the CLI opens one
            off = submit(load_project(off_root).graph, off_store, events, now)
            off_store.close()
            assert off == on, req
    finally:
        runner.stop()
    off_store = _store(off_root)
    off_log, on_log = _log(off_store), _log(on_store)
    off_store.close()
    on_store.close()
    assert off_log == on_log
