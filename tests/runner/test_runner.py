"""The live runner: real store, real executors (in-process and local processes), a fake clock.
Nothing here sleeps to make time pass: the fake clock is moved by hand."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from andon.events import (
    Event,
    RunCancelled,
    RunLaunched,
    RunStarted,
    RunSucceeded,
)
from andon.live.clock import FakeClock, RealClock
from tests.conftest import utc
from tests.executors.helpers import alive, read_pid, wait_until
from tests.runner.harness import Live, open_live

PIPELINES = r'''
import os
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")
andon.source("wide", location="data/wide/{partition}.csv")
andon.source("shaky", location="data/shaky/{partition}.csv")
andon.source("slow_in", location="data/slow_in/{partition}.csv")


def copy(ctx, src, dst):
    text = ctx.inputs[src].read_text() if ctx.inputs[src].exists() else ""
    ctx.output(dst).write_text(text + f"{dst}\n")


@andon.pipeline(inputs=["raw"], outputs=["a"])
def a(ctx):
    copy(ctx, "raw", "a")


@andon.pipeline(inputs=["a"], outputs=["b"])
def b(ctx):
    copy(ctx, "a", "b")


@andon.pipeline(inputs=["b"], outputs=["c"])
def c(ctx):
    copy(ctx, "b", "c")


@andon.pipeline(inputs=["a"], outputs=["frozen"], on_upstream_change="ignore")
def frozen(ctx):
    copy(ctx, "a", "frozen")


for i in range(5):
    def fan(ctx, i=i):
        copy(ctx, "wide", f"fan{i}")
    andon.pipeline(f"fan{i}", inputs=["wide"], outputs=[f"fan{i}"])(fan)


@andon.pipeline(inputs=["shaky"], outputs=["flaky"], retries=2, retry_delay="10s")
def flaky(ctx):
    if ctx.attempt < 3:
        raise RuntimeError(f"flaky on attempt {ctx.attempt}")
    ctx.output("flaky").write_text("finally\n")


@andon.pipeline(inputs=["slow_in"], outputs=["slow"])
def slow(ctx):
    (ctx.project_dir / f"slow-{ctx.partition}.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120  # a failure guard only
    while not (ctx.project_dir / f"gate-{ctx.partition}").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ctx.output("slow").write_text("done\n")
'''

T0 = utc(2026, 1, 10, 6)
DAYS = ["2026-01-05", "2026-01-06", "2026-01-07"]


@pytest.fixture
def root(make_project) -> Path:
    return make_project(PIPELINES)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def live(root: Path, clock: FakeClock) -> Iterator[Live]:
    line = open_live(root, clock)
    yield line
    line.close()


@pytest.fixture
def local(root: Path, clock: FakeClock) -> Iterator[Live]:
    line = open_live(root, clock, executor="local")
    yield line
    line.close()


def summary(live: Live, pipeline: str) -> list[tuple[str, int, str, str]]:
    return [(r["partition"], r["attempt"], r["reason"], r["status"]) for r in live.runs(pipeline)]


def positions(log: list[Event], kind: type, pipeline: str, partition: str) -> list[int]:
    return [i for i, e in enumerate(log) if isinstance(e, kind)
            and getattr(e, "pipeline", "") == pipeline and e.partition == partition]  # type: ignore


# -- trigger, chain, fan-out -------------------------------------------------------------------------

@pytest.mark.parametrize("executor", ["inprocess", "local"])
def test_notify_starts_the_chain_and_it_runs_to_the_end(root, clock, executor) -> None:
    live = open_live(root, clock, executor=executor)
    try:
        assert live.notify("raw", DAYS[0], "x\n") is True
        assert live.runner.quiet()
        for name in ("a", "b", "c", "frozen"):
            assert summary(live, name) == [(DAYS[0], 1, "new_data", "succeeded")], name
        assert (root / f"data/c/{DAYS[0]}").read_text() == "x\na\nb\nc\n"
        log = live.log
        assert positions(log, RunSucceeded, "a", DAYS[0])[0] < positions(log, RunStarted, "b", DAYS[0])[0]
        assert positions(log, RunSucceeded, "b", DAYS[0])[0] < positions(log, RunStarted, "c", DAYS[0])[0]
        c_run = live.runs("c")[0]
        assert c_run["inputs"] == [{"asset": "b", "partition": DAYS[0], "version": 1}]
        assert c_run["outputs"][0]["location"] == f"data/c/{DAYS[0]}"
    finally:
        live.close()


@pytest.mark.parametrize("executor", ["inprocess", "local"])
def test_a_fan_out_completes(root, clock, executor) -> None:
    live = open_live(root, clock, executor=executor)
    try:
        for day in DAYS:
            live.notify("wide", day, f"{day}\n")
        assert live.runner.quiet()
        for i in range(5):
            assert [s[3] for s in summary(live, f"fan{i}")] == ["succeeded"] * 3
        assert live.store.run_counts() == {"succeeded": 15}
    finally:
        live.close()


def test_notifying_the_same_data_twice_records_it_once(live: Live) -> None:
    assert live.notify("raw", DAYS[0], "x\n") is True
    assert live.notify("raw", DAYS[0]) is False
    assert live.runner.drain()
    assert summary(live, "a") == [(DAYS[0], 1, "new_data", "succeeded")]


# -- retries on a fake clock ---------------------------------------------------------------------------

def test_retries_wait_for_their_back_off_without_spinning(live: Live, clock: FakeClock) -> None:
    live.notify("shaky", DAYS[0], "x\n")
    assert live.runner.drain()
    assert summary(live, "flaky") == [(DAYS[0], 1, "new_data", "failed"),
                                      (DAYS[0], 2, "retry", "queued")]
    first = live.runs("flaky")[0]
    assert first["error_type"] == "RuntimeError" and "attempt 1" in first["error_message"]

    turns = live.runner.turns
    time.sleep(0.3)  # the back-off is pending on a clock that does not move by itself
    assert live.runner.turns == turns, "the runner spun while waiting for a retry"

    clock.advance(timedelta(seconds=9))
    assert live.runner.drain()
    assert summary(live, "flaky")[-1][3] == "queued"  # 9 s of a 10 s back-off
    clock.advance(timedelta(seconds=1))
    assert live.runner.drain()
    assert summary(live, "flaky")[1:] == [(DAYS[0], 2, "retry", "failed"),
                                          (DAYS[0], 3, "retry", "queued")]
    clock.advance(timedelta(seconds=19))  # the back-off doubles: 20 s
    assert live.runner.drain()
    assert summary(live, "flaky")[-1][3] == "queued"
    clock.advance(timedelta(seconds=1))
    assert live.runner.drain()
    assert summary(live, "flaky")[-1] == (DAYS[0], 3, "retry", "succeeded")
    started = [e.at for e in live.log if isinstance(e, RunStarted) and e.pipeline == "flaky"]
    assert started == [T0, T0 + timedelta(seconds=10), T0 + timedelta(seconds=30)]


def test_an_idle_runner_does_not_wake_up(root: Path) -> None:
    live = open_live(root, RealClock())
    try:
        live.notify("raw", DAYS[0], "x\n")
        assert live.runner.quiet()
        turns = live.runner.turns
        time.sleep(0.5)
        assert live.runner.turns == turns, "an idle runner woke up with nothing to do"
        live.notify("raw", DAYS[1], "y\n")  # ... and it still answers at once
        assert live.runner.quiet()
        assert live.runner.turns > turns
    finally:
        live.close()


# -- manual runs, backfills and stale consumers --------------------------------------------------------

def test_a_manual_run_remakes_a_partition_and_stale_consumers_rerun_in_order(live: Live) -> None:
    for day in DAYS:
        live.notify("raw", day, f"{day}\n")
    assert live.runner.quiet()
    before = len(live.log)
    live.submit(live.service.run_request("a", DAYS[1], live.now(), "manual", "test"))
    assert live.runner.quiet()

    assert summary(live, "a")[-1] == (DAYS[1], 1, "manual", "succeeded")
    assert live.runs("a")[-1]["run_id"] == f"a:{DAYS[1]}:2"
    for name in ("b", "c"):
        assert summary(live, name)[-1] == (DAYS[1], 1, "upstream_changed", "succeeded"), name
        assert len(live.runs(name)) == 4  # one re-run, only of the re-made partition
    assert len(live.runs("frozen")) == 3  # on_upstream_change="ignore"
    log = live.log[before:]
    order = [(type(e).__name__, e.pipeline) for e in log  # type: ignore[attr-defined]
             if isinstance(e, (RunStarted, RunSucceeded))]
    assert order == [("RunStarted", "a"), ("RunSucceeded", "a"), ("RunStarted", "b"),
                     ("RunSucceeded", "b"), ("RunStarted", "c"), ("RunSucceeded", "c")]
    versions = live.store.partition_versions("c", DAYS[1])
    assert [v["version"] for v in versions] == [1, 2]
    assert live.runs("c")[-1]["inputs"] == [{"asset": "b", "partition": DAYS[1], "version": 2}]


def test_a_backfill_remakes_a_range_and_its_consumers(live: Live) -> None:
    for day in DAYS:
        live.notify("raw", day, f"{day}\n")
    assert live.runner.quiet()
    live.submit(*live.service.backfill("a", DAYS[0], DAYS[2], live.now(), "test"))
    assert live.runner.quiet()
    assert [s for s in summary(live, "a") if s[2] == "backfill"] == [
        (d, 1, "backfill", "succeeded") for d in DAYS]
    for name in ("b", "c"):
        assert sorted(s[0] for s in summary(live, name) if s[2] == "upstream_changed") == DAYS
    for day in DAYS:
        # no consumer read a half-made upstream: each consumer ran after its upstream's re-run
        for up, down in (("a", "b"), ("b", "c")):
            assert positions(live.log, RunSucceeded, up, day)[-1] < \
                positions(live.log, RunStarted, down, day)[-1]


# -- the local executor inside the runner: launch, cancel ----------------------------------------------

def test_run_launched_records_the_pid_and_the_log_path(local: Live) -> None:
    local.notify("raw", DAYS[0], "x\n")
    assert local.runner.quiet()
    run = local.runs("a")[0]
    run_dir = local.root / ".andon/runs" / run["run_id"]
    assert run["status"] == "succeeded"
    assert run["pid"] == read_pid(run_dir / "pid") > 0
    assert run["log_path"] == str(run_dir / "log.txt")
    assert run["startup_seconds"] > 0 and run["work_seconds"] >= 0
    kinds = [type(e).__name__ for _, e in local.store.events()
             if getattr(e, "run_id", "") == run["run_id"]]
    assert kinds == ["RunQueued", "RunStarted", "RunLaunched", "RunSucceeded"]


def test_quiet_in_process_runs_record_no_launch(live: Live) -> None:
    """An in-process run has no process; a launch (pointing at its log) is recorded only when it
    wrote something, so a cascade of quiet runs costs no file-system work."""
    live.notify("raw", DAYS[0], "x\n")
    assert live.runner.quiet()
    run_id = live.runs("a")[0]["run_id"]
    kinds = [type(e).__name__ for _, e in live.store.events() if getattr(e, "run_id", "") == run_id]
    assert kinds == ["RunQueued", "RunStarted", "RunSucceeded"]
    assert live.runs("a")[0]["log_path"] == ""


def test_cancel_a_running_run(local: Live) -> None:
    local.notify("slow_in", DAYS[0], "x\n")
    local.wait_for(lambda log: any(isinstance(e, RunLaunched) for e in log), "the launch")
    run = local.runs("slow")[0]
    pid = read_pid(local.root / f"slow-{DAYS[0]}.pid")
    assert run["status"] == "running" and run["pid"] == pid
    local.submit(local.service.cancel(run["run_id"], local.now(), "tester", "not needed"))
    local.wait_for(lambda log: any(isinstance(e, RunCancelled) for e in log), "the cancel")
    run = local.store.run(run["run_id"])
    assert run is not None and run["status"] == "cancelled"
    assert run["error_type"] == "Cancelled" and run["error_message"] == "not needed"
    wait_until(lambda: not alive(pid), "the process to end")
    assert local.runner.quiet()
    assert len(local.runs("slow")) == 1  # a cancelled run is not retried by itself


def test_a_turn_the_store_refuses_is_answered_with_the_error_and_forgotten(live: Live) -> None:
    original = live.store.append
    refused: list[int] = []

    def append_once_refused(events):  # type: ignore[no-untyped-def]
        if not refused:
            refused.append(len(events))
            raise OSError("disk full")
        return original(events)

    live.store.append = append_once_refused  # type: ignore[method-assign]
    path = live.root / f"data/raw/{DAYS[0]}.csv"
    path.parent.mkdir(parents=True)
    path.write_text("x\n")
    future = live.runner.submit(live.service.notify("raw", DAYS[0], live.now()))
    with pytest.raises(OSError, match="disk full"):
        future.result(30)
    assert refused and live.store.count_events() == 0
    assert live.notify("raw", DAYS[0]) is True  # the caller tries again
    assert live.runner.quiet()
    assert summary(live, "a") == [(DAYS[0], 1, "new_data", "succeeded")]


def test_an_in_process_run_that_logs_is_launched_before_it_ends(root: Path,
                                                              clock: FakeClock) -> None:
    (root / "pipelines.py").write_text((root / "pipelines.py").read_text() + '''

@andon.pipeline(inputs=["raw"], outputs=["talk_out"])
def talk(ctx):
    ctx.log.info("hello from %s", ctx.partition)
''')
    live = open_live(root, clock, executor="inprocess")
    try:
        live.notify("raw", DAYS[0], "x\n")
        assert live.runner.quiet()
        run = live.runs("talk")[0]
        kinds = [type(e).__name__ for _, e in live.store.events()
                 if getattr(e, "run_id", "") == run["run_id"]]
        assert kinds == ["RunQueued", "RunStarted", "RunLaunched", "RunSucceeded"]
        text = live.service.log_text(run["run_id"])
        assert f"hello from {DAYS[0]}" in text
    finally:
        live.close()
