"""docs/deploy.md followed end to end on one machine, as a test: a real PostgreSQL (the suite's),
a Dask scheduler and two workers started as the guide starts them (``dask scheduler`` with
``allowed-failures`` 0, ``dask worker --resources pool-default=...``, separate processes), two
``andon up`` with ``executor = "dask"`` on the scheduler's address and one database. Partitions
flow through the standby's API, the leader is killed with ``kill -9`` while a run is executing
on a Dask worker, the standby takes over: the run in flight is ended on its worker, recorded
lost and retried, every notified partition is made exactly once, no acknowledged notification
is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.executors.tree import read_proc
from andon.store.sql import Store
from tests.conftest import ProjectFactory
from tests.executors.helpers import alive, read_pid
from tests.pg import free_port
from tests.team.members import notify, pair, until
from tests.team.test_failover import days

distributed = pytest.importorskip("distributed")

DASK = str(Path(sys.executable).with_name("dask"))
WORKERS = 2
# attempt 1 of SLOW waits (a run in flight when the leader dies); every other run is quick
PIPELINES = """
import os
import time

import andon

andon.source("raw", partitions="daily")

@andon.pipeline(inputs=["raw"], outputs=["clean"], partitions="daily", retries=2,
                retry_delay="100ms")
def clean(ctx):
    if ctx.partition == {slow!r} and ctx.attempt == 1:
        (ctx.project_dir / "slow.pid").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120  # a failure guard: the new leader ends this run
        while time.monotonic() < deadline:
            time.sleep(0.05)
    ctx.output("clean").write_text(f"{{ctx.partition}} {{ctx.attempt}}\\n")
"""


class DaskCluster:
    """``dask scheduler`` and ``WORKERS`` × ``dask worker`` as docs/deploy.md starts them, each
    a process of its own; ``address`` is the scheduler's."""

    def __init__(self, root: Path) -> None:
        self.address = f"tcp://127.0.0.1:{free_port()}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
        env["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"] = "0"  # as the guide's unit says
        self.log = (root.parent / "dask.log").open("ab")
        port = self.address.rsplit(":", 1)[1]
        self.scheduler = subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
            cwd=root, env=env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
        self.workers = [subprocess.Popen(
            [DASK, "worker", self.address, "--nworkers", "1", "--nthreads", "4",
             "--resources", "pool-default=4", "--name", f"w{i}", "--no-dashboard"],
            cwd=root, env=env, stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL)
            for i in range(WORKERS)]
        with distributed.Client(self.address, timeout=60) as client:
            client.wait_for_workers(WORKERS, timeout=120)

    def runs_on_a_worker(self, pid: int) -> bool:
        """Whether process ``pid`` descends from one of the ``dask worker`` processes."""
        ours = {w.pid for w in self.workers}
        proc = read_proc(pid)
        while proc is not None and proc.ppid > 1:
            if proc.ppid in ours:
                return True
            proc = read_proc(proc.ppid)
        return False

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                proc.terminate()
        for proc in [*self.workers, self.scheduler]:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.log.close()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[DaskCluster]:
    folder = tmp_path / "dask"
    folder.mkdir()
    running = DaskCluster(folder)
    try:
        yield running
    finally:
        running.stop()


@pytest.mark.slow
def test_two_andon_up_on_dask_and_postgresql_fail_over_making_each_partition_once(
        make_project: ProjectFactory, postgres_database: str, cluster: DaskCluster,
        tmp_path: Path) -> None:
    before, slow, after = days(4), days(1, first=4)[0], days(4, first=5)
    root = make_project(PIPELINES.format(slow=slow))
    dask = {"ANDON_EXECUTOR": "dask", "ANDON_DASK_SCHEDULER": cluster.address}
    leader, standby = pair(root, postgres_database, (tmp_path / "a", tmp_path / "b"), dask)
    store = Store(postgres_database)

    def made(keys: set[str]) -> bool:
        return {p.partition for p in store.partitions("clean")} >= keys

    try:
        assert (leader.started_as, standby.started_as) == ("leader", "standby")
        first_token = standby.status()["leader"]["token"]
        for key in before:  # through the standby: forwarded to the leader
            assert notify([standby.url], standby.token, key) == standby.url
        assert until(lambda: made(set(before))), leader.lines[-20:]
        notify([standby.url], standby.token, slow)
        pid = read_pid(root / "slow.pid")  # attempt 1 executes on a Dask worker...
        assert cluster.runs_on_a_worker(pid)
        leader.kill9()  # ...when its leader dies
        for key in after:  # acknowledged by whichever server takes it, over the take-over
            notify([leader.url, standby.url], standby.token, key)
        assert until(lambda: standby.status().get("role") == "leader"), standby.lines[-20:]
        assert standby.status()["leader"]["token"] > first_token
        health = httpx.get(standby.url + "/api/v1/health", timeout=10).json()
        assert health["workers"]["executor"]["name"] == "dask"
        assert health["workers"]["executor"]["mode"] == cluster.address  # the same scheduler
        assert until(lambda: not alive(pid)), "the new leader did not end the orphaned run"
        everything = {*before, slow, *after}
        assert {p.partition for p in store.partitions("raw")} >= everything  # none lost
        assert until(lambda: made(everything)), standby.lines[-20:]
        for key in everything:  # every partition version made exactly once
            assert [v.version for v in store.partition_versions("clean", key)] == [1], key
        runs = store.runs("clean")
        tried = [(r.status.value, r.attempt, r.error_type) for r in runs if r.partition == slow]
        assert tried == [("succeeded", 2, ""), ("failed", 1, "ProcessLost")]
        assert (root / "data/clean" / slow).read_text() == f"{slow} 2\n"
        assert all(r.status.value == "succeeded" for r in runs if r.partition != slow)
        assert len(runs) == len(everything) + 1
    finally:
        leader.stop()
        standby.stop()
        store.close()
