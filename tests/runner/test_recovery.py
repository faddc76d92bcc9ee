"""A runner that stops (or dies) while runs execute, and its successor on the same store: runs are
adopted, results that arrived meanwhile are recorded, runs that never began are started."""

from __future__ import annotations

from pathlib import Path

import pytest

from andon.events import RunLaunched, RunSucceeded
from andon.executors.base import Report, RunSpec
from andon.executors.inprocess import InProcessExecutor
from andon.live.clock import RealClock
from andon.live.runner import Runner
from andon.live.service import Service
from andon.project.load import load_project
from andon.store.sql import Store
from tests.executors.helpers import alive, read_pid, wait_until
from tests.runner.harness import Live, open_live
from tests.runner.test_runner import PIPELINES

DAY = "2026-01-05"


@pytest.fixture
def root(make_project) -> Path:
    return make_project(PIPELINES)


def launched(log: list) -> bool:  # type: ignore[type-arg]
    return any(isinstance(e, RunLaunched) for e in log)


def succeeded(pipeline: str):  # type: ignore[no-untyped-def]
    return lambda log: any(isinstance(e, RunSucceeded) and e.pipeline == pipeline for e in log)


def test_a_successor_adopts_a_run_that_still_executes(root: Path) -> None:
    first = open_live(root, RealClock(), executor="local")
    first.notify("slow_in", DAY, "x\n")
    first.wait_for(launched, "the launch")
    pid = read_pid(root / f"slow-{DAY}.pid")
    first.runner.stop()  # the scheduler goes away; the run does not
    first.store.close()

    second = open_live(root, RealClock(), executor="local")
    try:
        assert second.runner.executor.running() == [f"slow:{DAY}:1"]  # type: ignore[attr-defined]
        assert alive(pid)
        (root / f"gate-{DAY}").touch()
        second.wait_for(succeeded("slow"), "the adopted run's result")
        assert [(r["attempt"], r["status"]) for r in second.runs("slow")] == [(1, "succeeded")]
        assert second.runs("slow")[0]["outputs"][0]["asset"] == "slow"
    finally:
        second.close()
        first.runner.executor.shutdown()


def test_a_result_that_arrived_while_nobody_watched_is_recorded(root: Path) -> None:
    first = open_live(root, RealClock(), executor="local")
    first.notify("slow_in", DAY, "x\n")
    first.wait_for(launched, "the launch")
    first.runner.stop()
    first.store.close()
    (root / f"gate-{DAY}").touch()
    result = root / f".andon/runs/slow:{DAY}:1/result.json"
    wait_until(result.exists, "the run to finish")

    second = open_live(root, RealClock(), executor="local")
    try:
        second.wait_for(succeeded("slow"), "the result")
        assert [(r["attempt"], r["status"]) for r in second.runs("slow")] == [(1, "succeeded")]
    finally:
        second.close()


class Vanishing:
    """An executor that "dies" before spawning anything: ``start`` returns and nothing runs."""

    name = "vanishing"

    def start(self, spec: RunSpec, report: Report) -> int:
        return 0

    def cancel(self, run_id: str) -> None: ...

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        return False

    def shutdown(self) -> None: ...


def vanishing_line(root: Path) -> Live:
    """A runner whose executor never spawns anything, as if it died each time right after the
    run was recorded as started."""
    project = load_project(root)
    (root / ".andon").mkdir(exist_ok=True)
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    runner = Runner(project.graph, store, Vanishing(), root, root / ".andon/runs", RealClock())
    runner.recover()
    runner.start()
    return Live(project, store, runner, Service(project.graph, store, root), RealClock())


def test_a_run_that_never_began_is_started_by_the_successor_without_a_failure(root: Path) -> None:
    first = vanishing_line(root)
    first.notify("raw", DAY, "x\n")
    assert first.runner.drain()
    assert [r["status"] for r in first.runs("a")] == ["running"]  # "started", never spawned
    first.close()

    second = open_live(root, RealClock(), executor="local")
    try:
        second.wait_for(succeeded("c"), "the chain to finish")
        assert [(r["attempt"], r["status"]) for r in second.runs("a")] == [(1, "succeeded")]
        assert second.runs("a")[0]["pid"] > 0
    finally:
        second.close()


def test_an_in_process_run_cut_short_by_a_crash_is_lost_and_retried_per_policy(root: Path) -> None:
    first = vanishing_line(root)
    first.notify("shaky", DAY, "x\n")
    assert first.runner.drain()
    first.close()

    project = first.project
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    successor = Runner(project.graph, store, InProcessExecutor(
        lambda name: project.graph.pipelines[name].fn), root, root / ".andon/runs", RealClock())
    assert successor.recover() == 1
    successor.start()
    try:
        assert successor.drain()
        runs = list(reversed(store.runs("flaky")))
        assert (runs[0]["attempt"], runs[0]["status"], runs[0]["error_type"]) == (
            1, "failed", "ProcessLost")
        assert runs[1]["attempt"] == 2 and runs[1]["reason"] == "retry"  # flaky has retries=2
    finally:
        successor.stop()
        store.close()
