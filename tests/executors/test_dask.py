"""The Dask executor on a real ``distributed.LocalCluster`` of two worker processes (one cluster
for the module): outputs and results, the log streamed back while a run runs (capped, secrets
masked), pools as worker resources, cancel, timeout, and a worker killed with SIGKILL under a run
(reported lost, from Dask's own KilledWorker)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from andon.executors.base import RunSpec, spec_for
from andon.executors.dask import DaskExecutor
from andon.executors.daskcluster import DASK_CONFIG, local_cluster
from andon.model.status import LOST_ERROR
from andon.project.load import Project
from tests.executors.helpers import (
    WAIT_FOR,
    Reports,
    alive,
    dask_worker_of,
    project_with_raw,
    read_pid,
    wait_until,
)

pytest.importorskip("distributed")  # the dev extra has it (its configuration loaded first)
dask = pytest.importorskip("dask")

PIPELINES = r'''
import os
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")

''' + WAIT_FOR + r'''

def hold(ctx, name):
    """Note this process (pid, its worker's pid), then wait for the test's gate."""
    (ctx.project_dir / f"{name}-{ctx.partition}.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / f"gate-{name}-{ctx.partition}")


@andon.pipeline(inputs=["raw"], outputs=["clean"], locations={"clean": "data/clean/{partition}.csv"},
                secrets=["TEST_DASK_SECRET"])
def clean(ctx):
    lines = ctx.inputs["raw"].read_text().splitlines()
    ctx.output("clean").write_text("\n".join(x.upper() for x in lines) + "\n")
    ctx.set_rows("clean", len(lines))
    ctx.log_metric("lines", len(lines))
    print("cleaned", ctx.partition, "with", os.environ.get("TEST_DASK_SECRET"))
    print("andon's own:", os.environ.get("ANDON_API_TOKEN", "none"))


@andon.pipeline(inputs=["raw"], outputs=["chatty"])
def chatty(ctx):
    print("first line", flush=True)
    hold(ctx, "chatty")
    print("x" * 20000)
    ctx.output("chatty").write_text("ok\n")


@andon.pipeline(inputs=["raw"], outputs=["boom"])
def boom(ctx):
    raise ValueError("bad row in " + ctx.partition)


@andon.pipeline(inputs=["raw"], outputs=["gated"])
def gated(ctx):
    hold(ctx, "gated")


@andon.pipeline(inputs=["raw"], outputs=["slow"], timeout="3s")
def slow(ctx):
    hold(ctx, "slow")


@andon.pipeline(inputs=["raw"], outputs=["single"], pool="one")
def single(ctx):
    busy = ctx.project_dir / f"busy-{os.getppid()}"  # one per worker (its fork server)
    try:
        fd = os.open(busy, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        (ctx.project_dir / "overlap").write_text(ctx.partition)
        raise
    (ctx.project_dir / f"single-{ctx.partition}.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / "gate-single")
    os.close(fd)
    busy.unlink()
    ctx.output("single").write_text("ok\n")
'''

# one cluster for the module: under pytest-xdist its tests stay on one worker
pytestmark = pytest.mark.xdist_group("dask_cluster")
DAY = "2026-01-05"
POOLS = {"default": 4, "one": 1}
SECRET = "hunter2-dask-secret"


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[Any, Any]]:
    """Two worker processes holding half of each pool (``pool-default`` 2, ``pool-one`` 1)."""
    with dask.config.set(DASK_CONFIG):
        cluster, client = local_cluster(POOLS, None)
        yield cluster, client
        client.close()
        cluster.close()


@pytest.fixture
def project(make_project) -> Project:
    return project_with_raw(lambda text: make_project(text, pools=POOLS), PIPELINES, DAY,
                            "a 1\nb 2\n")


@pytest.fixture
def executor(cluster, project) -> Iterator[DaskExecutor]:
    _, client = cluster
    pools = {n: (p.pool, 1) for n, p in project.graph.pipelines.items()}
    environ = {**os.environ, "TEST_DASK_SECRET": SECRET, "ANDON_API_TOKEN": "tok-never-seen"}
    ex = DaskExecutor(client, pools, environ, max_log_bytes=8192, kill_grace=0.5)
    yield ex
    for run_id in ex.running():
        ex.cancel(run_id)
    wait_until(lambda: not ex.running(), "the test's runs to end")


def spec(project: Project, pipeline: str, partition: str = DAY, n: int = 1) -> RunSpec:
    return spec_for(project.graph, f"{pipeline}:{partition}:{n}", pipeline, partition, 1,
                    project.root, project.root / ".andon/runs")


def test_a_run_succeeds_on_a_worker_with_its_outputs_metrics_and_log(project, executor) -> None:
    reports = Reports()
    s = spec(project, "clean")
    assert executor.start(s, reports) == 0  # the run's process is on a worker, not here
    res = reports.wait(s.run_id)
    assert res.ok, (res, s.log_path.read_text())
    (out,) = res.outputs
    assert out.location == f"data/clean/{DAY}.csv" and out.rows == 2
    assert (project.root / out.location).read_text() == "A 1\nB 2\n"
    assert res.metrics == {"lines": 2.0}
    log = s.log_path.read_text()
    assert f"cleaned {DAY} with ***" in log and SECRET not in log  # masked on the worker
    assert "andon's own: none" in log  # no ANDON_* variable reaches a run


def test_a_failure_gives_its_class_message_and_traceback(project, executor) -> None:
    reports = Reports()
    s = spec(project, "boom")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "ValueError"
    assert res.error_message == f"bad row in {DAY}"
    assert "Traceback" in s.log_path.read_text()


def test_the_log_streams_while_the_run_runs_and_is_capped(project, executor) -> None:
    reports = Reports()
    s = spec(project, "chatty")
    executor.start(s, reports)
    wait_until(lambda: s.log_path.exists() and "first line" in s.log_path.read_text(),
               "the first line in log.txt while the run waits")
    assert s.run_id not in reports.results  # still running
    (project.root / f"gate-chatty-{DAY}").touch()
    res = reports.wait(s.run_id)
    assert res.ok
    log = s.log_path.read_bytes()
    assert len(log) <= 8192 and b"bytes left out] ..." in log  # max_log_bytes held here
    assert log.startswith(b"first line")


def test_cancel_ends_the_run_on_its_worker(project, executor) -> None:
    reports = Reports()
    s = spec(project, "gated")
    executor.start(s, reports)
    pid = read_pid(project.root / f"gated-{DAY}.pid")
    executor.cancel(s.run_id)
    res = reports.wait(s.run_id)
    assert res.cancelled and res.error_type == "Cancelled"
    wait_until(lambda: not alive(pid), "the run's process to end")


def test_a_timeout_kills_the_run_on_its_worker(project, executor) -> None:
    reports = Reports()
    s = spec(project, "slow")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert res.error_type == "Timeout" and "timeout of 3s" in res.error_message
    # on a loaded machine the timeout (counted from the spawn) may come before user code ran
    pid_file = project.root / f"slow-{DAY}.pid"
    if pid_file.exists():
        pid = read_pid(pid_file)
        wait_until(lambda: not alive(pid), "the run's process to end")


def test_a_pool_is_a_worker_resource(project, executor) -> None:
    """Each worker holds one slot of ``one``: four runs of it never share a worker, and two
    run at once at most (one per worker)."""
    reports = Reports()
    days = ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08"]
    specs = [spec(project, "single", day) for day in days]
    for s in specs:
        executor.start(s, reports)
    started = lambda: [d for d in days if (project.root / f"single-{d}.pid").exists()]  # noqa: E731
    wait_until(lambda: len(started()) == 2, "two runs of pool one to start")
    workers = {dask_worker_of(read_pid(project.root / f"single-{d}.pid"))[0] for d in started()}
    assert len(workers) == 2  # one on each worker
    waiting = spec(project, "single", "2026-01-09")  # no worker has room: cancel it queued
    executor.start(waiting, reports)
    executor.cancel(waiting.run_id)
    assert reports.wait(waiting.run_id).cancelled
    (project.root / "gate-single").touch()
    for s in specs:
        assert reports.wait(s.run_id).ok
    assert not (project.root / "overlap").exists()
    assert not (project.root / "single-2026-01-09.pid").exists()  # the cancelled one never ran


def test_without_the_extra_the_error_says_how_to_install_it(monkeypatch) -> None:
    import sys

    from andon.executors.dask import distributed_module
    from andon.model.errors import ConfigError

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(ConfigError) as err:
        distributed_module()
    assert "pip install 'andon[dask]'" in str(err.value) and err.value.exit_code == 2


def test_the_log_of_a_run_goes_to_its_own_folder(project, executor) -> None:
    reports = Reports()
    s = spec(project, "clean", n=3)
    executor.start(s, reports)
    assert reports.wait(s.run_id).ok
    assert Path(s.run_dir).is_dir() and (Path(s.run_dir) / "spec.json").exists()
    assert not (Path(s.run_dir) / "result.json").exists()  # the result came back through Dask


def test_andon_connects_to_a_running_scheduler_by_its_address(cluster, project) -> None:
    """``dask_scheduler``: the executor is a client of that scheduler (here the module's
    cluster, as a remote one would be); a scheduler that cannot be reached stops the start."""
    from andon.executors import daskcluster
    from andon.model.errors import ConfigError
    from andon.project.settings import resolve

    address = cluster[0].scheduler_address
    settings = resolve(project.root, {"executor": "dask"}, {}, {"dask_scheduler": address})
    ex = daskcluster.make_dask_executor(settings, project)
    try:
        assert ex.cluster is None and ex.health()["mode"] == address
        reports = Reports()
        s = spec(project, "clean", n=4)
        ex.start(s, reports)
        assert reports.wait(s.run_id).ok
    finally:
        ex.close()
    nobody = resolve(project.root, {}, {}, {"dask_scheduler": "tcp://127.0.0.1:9"})
    daskcluster.CONNECT_TIMEOUT, saved = 1.0, daskcluster.CONNECT_TIMEOUT
    try:
        with pytest.raises(ConfigError) as err:
            daskcluster.make_dask_executor(nobody, project)
    finally:
        daskcluster.CONNECT_TIMEOUT = saved
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in str(err.value)



def test_a_worker_killed_under_a_run_reports_it_lost_and_its_fork_server_dies(project,
                                                                             executor) -> None:
    """SIGKILL to the worker process running a run: Dask errs the task (KilledWorker, with no
    allowed failures), the run is lost, and the worker's fork server dies with its worker,
    taking the run's process along. Last in the module: the nanny starts a new worker."""
    reports = Reports()
    s = spec(project, "gated", n=2)
    executor.start(s, reports)
    pid = read_pid(project.root / f"gated-{DAY}.pid")
    worker, server = dask_worker_of(pid)
    assert server, "the run was spawned, not forked by its worker's fork server"
    os.kill(worker, signal.SIGKILL)
    res = reports.wait(s.run_id)
    assert res.error_type == LOST_ERROR and "KilledWorker" in res.error_message
    wait_until(lambda: not alive(server), "the worker's fork server to die with its worker")
    wait_until(lambda: not alive(pid), "the run's process to die with its worker")
