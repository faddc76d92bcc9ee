"""``andon up --executor dask`` end to end, as a real process: the LocalCluster it starts adapts
to the queue (no worker before there is work, none again after), partitions are made, a one-slot
pool never runs two at once across the workers, and a run whose worker is killed with SIGKILL is
recorded lost and retried."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.executors.helpers import GUARD, alive, dask_worker_of, read_pid, wait_until
from tests.runner.test_crash import andon_command

pytest.importorskip("distributed")

PIPELINES = r'''
import os
import time

import andon

andon.source("raw", location="data/raw/{partition}.csv")


# every run on the killed worker is lost: retried once
@andon.pipeline(inputs=["raw"], outputs=["clean"], retries=1, retry_delay="100ms")
def clean(ctx):
    ctx.output("clean").write_text(ctx.inputs["raw"].read_text().upper())


@andon.pipeline(inputs=["clean"], outputs=["single"], pool="one", retries=1, retry_delay="100ms")
def single(ctx):
    busy = ctx.project_dir / "busy"  # one for the whole cluster
    try:
        fd = os.open(busy, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        (ctx.project_dir / "overlap").write_text(ctx.partition)
        raise
    time.sleep(0.2)  # room for a second run to overlap, were the pool not held
    os.close(fd)
    busy.unlink()
    ctx.output("single").write_text("ok\n")


@andon.pipeline(inputs=["raw"], outputs=["flaky"], retries=1, retry_delay="100ms")
def flaky(ctx):
    if ctx.attempt == 1 and ctx.partition == "2026-01-05":  # the test kills this run's worker
        (ctx.project_dir / f"flaky-{ctx.partition}.pid").write_text(str(os.getpid()))
        deadline = time.monotonic() + 120  # a failure guard only
        while time.monotonic() < deadline:
            time.sleep(0.05)
    ctx.output("flaky").write_text(f"attempt {ctx.attempt}\n")
'''

DAYS = ["2026-01-05", "2026-01-06", "2026-01-07"]


class Up:
    """``andon up --executor dask --port 0`` and an HTTP client for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        log = (root / "server.log").open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
        self.proc = subprocess.Popen(
            [*andon_command(), "--project", str(root), "up", "--port", "0", "--executor", "dask"],
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        log.close()
        info: dict[str, Any] = {}

        def published() -> bool:
            assert self.proc.poll() is None, (root / "server.log").read_text()
            try:
                info.update(json.loads((root / ".andon/server.json").read_text()))
            except (OSError, ValueError):
                return False
            return info.get("pid") == self.proc.pid

        wait_until(published, "andon up to publish its address")
        token = (root / ".andon/token").read_text().strip()
        self.client = httpx.Client(base_url=str(info["url"]), timeout=GUARD,
                                   headers={"Authorization": f"Bearer {token}"})

    def executor(self) -> dict[str, Any]:
        return dict(self.client.get("/api/v1/health").json()["workers"]["executor"])

    def runs(self) -> list[dict[str, Any]]:
        return list(self.client.get("/api/v1/runs", params={"limit": 1000}).json())

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(GUARD)
        self.client.close()
        return code


@pytest.fixture
def up(make_project) -> Iterator[Up]:
    root = make_project(PIPELINES, pools={"default": 4, "one": 1},
                        extra="[settings]\ndask_adaptive = {min = 0, max = 2}\n")
    (root / "data/raw").mkdir(parents=True)
    server = Up(root)
    yield server
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait(GUARD)


@pytest.mark.slow
def test_andon_up_with_dask_makes_partitions_on_an_adaptive_local_cluster(up: Up) -> None:
    health = up.executor()
    assert health["name"] == "dask" and health["mode"] == "local cluster"
    assert health["workers"] == 0  # nothing ready, nothing coming: no idle worker
    for day in DAYS:
        (up.root / f"data/raw/{day}.csv").write_text(f"{day}\n")
        r = up.client.post("/api/v1/notify", json={"asset": "raw", "partition": day})
        assert r.status_code in (200, 201), r.text

    pid = read_pid(up.root / f"flaky-{DAYS[0]}.pid")
    worker, _ = dask_worker_of(pid)
    assert up.executor()["workers"] >= 1
    os.kill(worker, signal.SIGKILL)  # the worker process running flaky's first attempt

    def done() -> bool:
        runs = up.runs()
        ok = {(r["pipeline"], r["partition"]) for r in runs if r["status"] == "succeeded"}
        return all((p, d) in ok for p in ("clean", "single", "flaky") for d in DAYS)

    try:
        wait_until(done, "every partition made", 3 * GUARD)  # a loaded machine: slow spawns
    except AssertionError:
        table = [(r["pipeline"], r["partition"], r["attempt"], r["status"], r["error_type"])
                 for r in up.runs()]
        raise AssertionError(f"{table}\n{up.executor()}\n"
                             f"{(up.root / 'server.log').read_text()[-6000:]}") from None
    runs = up.runs()
    first = [r for r in runs if r["pipeline"] == "flaky" and r["partition"] == DAYS[0]
             and r["attempt"] == 1]
    assert [r["error_type"] for r in first] == ["ProcessLost"]  # then retried: attempt 2 made it
    assert (up.root / f"data/flaky/{DAYS[0]}").read_text() == "attempt 2\n"
    assert not (up.root / "overlap").exists()  # pool one: one run at a time across workers
    clean = next(r for r in runs if r["pipeline"] == "clean")
    log = up.client.get(f"/api/v1/runs/{clean['run_id']}/log")
    assert log.status_code == 200
    assert not alive(pid)
    wait_until(lambda: up.executor()["workers"] == 0, "the cluster to scale to zero workers",
               3 * GUARD)
    assert up.stop() == 0
