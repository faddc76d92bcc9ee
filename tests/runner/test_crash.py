"""Crash safety with real processes: ``andon up`` killed with SIGKILL at several moments and
restarted, and stopped gracefully with SIGTERM and Ctrl-C (SIGINT).

What must hold: every notify that was acknowledged is in the log; no partition has two succeeded
runs for the same input versions; runs whose process died are retried or failed per policy
(``ProcessLost``); runs whose process survived are adopted and their result recorded; everything
eventually completes.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from andon.store.sql import Store
from tests.executors.helpers import GUARD, alive, read_pid, wait_until

PIPELINES = r'''
import os
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")
andon.source("raw2", location="data/raw2/{partition}.csv")
andon.source("quick", location="data/quick/{partition}.csv")


def hold(ctx, name):
    """Write this attempt's pid, then wait for the test to open this partition's gate."""
    pids = ctx.project_dir / "pids"
    pids.mkdir(exist_ok=True)
    (pids / f"{name}-{ctx.partition}-{ctx.attempt}").write_text(str(os.getpid()))
    gate = ctx.project_dir / "gates" / ctx.partition
    deadline = time.monotonic() + 120  # a failure guard only
    while not gate.exists():
        assert time.monotonic() < deadline, "the gate never opened"
        time.sleep(0.01)


@andon.pipeline(inputs=["raw"], outputs=["gated"], retries=1, retry_delay="100ms")
def gated(ctx):
    hold(ctx, "gated")
    ctx.output("gated").write_text(f"{ctx.partition} attempt {ctx.attempt}\n")


@andon.pipeline(inputs=["gated"], outputs=["after"])
def after(ctx):
    ctx.output("after").write_text(ctx.inputs["gated"].read_text())


@andon.pipeline(inputs=["raw2"], outputs=["fragile"], retries=0)
def fragile(ctx):
    hold(ctx, "fragile")
    ctx.output("fragile").write_text("made\n")


@andon.pipeline(inputs=["quick"], outputs=["q1"])
def q1(ctx):
    ctx.output("q1").write_text("q1\n")


@andon.pipeline(inputs=["q1"], outputs=["q2"])
def q2(ctx):
    ctx.output("q2").write_text(ctx.inputs["q1"].read_text() + "q2\n")
'''


def andon_command() -> list[str]:
    script = shutil.which("andon", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "andon.cli"]


class Server:
    """``andon --project ROOT up --port 0`` as a real process, and an HTTP client for it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = root / ".andon"
        log = (root / "server.log").open("ab")
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANDON_")}
        self.proc = subprocess.Popen([*andon_command(), "--project", str(root), "up", "--port", "0"],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL, env=env)
        log.close()
        self.url = self._wait_ready()
        token = (self.state / "token").read_text().strip()
        self.client = httpx.Client(base_url=self.url, timeout=GUARD,
                                   headers={"Authorization": f"Bearer {token}"})
        assert self.client.get("/api/v1/health").json()["ok"] is True

    def _wait_ready(self) -> str:
        info: dict[str, Any] = {}

        def published() -> bool:
            assert self.proc.poll() is None, (self.root / "server.log").read_text()
            try:
                info.update(json.loads((self.state / "server.json").read_text()))
            except (OSError, ValueError):
                return False
            return info.get("pid") == self.proc.pid

        wait_until(published, "andon up to publish its address")
        return str(info["url"])

    def notify(self, asset: str, partition: str) -> str:
        """Announce a partition; return the event id once it is acknowledged."""
        r = self.client.post("/api/v1/notify", json={"asset": asset, "partition": partition})
        assert r.status_code in (200, 201), r.text
        return str(r.json()["id"])

    def runs(self) -> list[dict[str, Any]]:
        return list(reversed(self.client.get("/api/v1/runs", params={"limit": 1000}).json()))

    def wait_runs(self, condition: Callable[[list[dict[str, Any]]], bool], what: str) -> None:
        wait_until(lambda: condition(self.runs()), what)

    def kill9(self) -> None:
        self.proc.kill()
        self.proc.wait(GUARD)
        self.client.close()

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(GUARD)
        self.client.close()
        return code


def table(runs: list[dict[str, Any]]) -> dict[tuple[str, str], list[tuple[int, str, str]]]:
    """(pipeline, partition) -> [(attempt, status, error_type)] in queue order."""
    out: dict[tuple[str, str], list[tuple[int, str, str]]] = {}
    for r in runs:
        out.setdefault((r["pipeline"], r["partition"]), []).append(
            (r["attempt"], r["status"], r["error_type"] or ""))
    return out


def check_invariants(root: Path, acknowledged: list[str]) -> Store:
    """Every acknowledged notify is in the log; no partition was made twice from the same inputs."""
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    missing = [i for i in acknowledged if not store.has_event(i)]
    assert missing == [], f"acknowledged notifies missing from the log: {missing}"
    made = Counter((r["pipeline"], r["partition"], json.dumps(r["inputs"], sort_keys=True))
                   for r in store.runs(status="succeeded", limit=100_000))
    twice = [k for k, n in made.items() if n > 1]
    assert twice == [], f"partitions made twice from the same inputs: {twice}"
    ids = [e.id for _, e in store.events()]
    assert len(ids) == len(set(ids))
    return store


@pytest.fixture
def root(make_project) -> Iterator[Path]:
    root = make_project(PIPELINES, pools={"default": 8})
    for source in ("raw", "raw2", "quick"):
        (root / "data" / source).mkdir(parents=True)
    (root / "gates").mkdir()
    yield root
    # whatever a failed test left behind: the servers, then every run's process group
    info = root / ".andon/server.json"
    if info.exists():
        pid = json.loads(info.read_text()).get("pid", 0)
        if pid and alive(pid):
            os.kill(pid, signal.SIGKILL)
    for pid_file in (root / ".andon/runs").glob("*/pid"):
        with contextlib.suppress(OSError, ValueError):
            os.killpg(int(pid_file.read_text()), signal.SIGKILL)


def land(root: Path, source: str, partition: str) -> None:
    (root / "data" / source / f"{partition}.csv").write_text(f"{source} {partition}\n")


def test_kill_9_while_runs_execute_then_restart(root: Path) -> None:
    days = ["2026-01-05", "2026-01-06", "2026-01-07"]
    for day in days:
        land(root, "raw", day)
    land(root, "raw2", days[0])
    first = Server(root)
    acknowledged = [first.notify("raw", day) for day in days]
    acknowledged.append(first.notify("raw2", days[0]))
    pids = {day: read_pid(root / f"pids/gated-{day}-1") for day in days}
    fragile_pid = read_pid(root / f"pids/fragile-{days[0]}-1")
    first.kill9()

    # while andon is down: one run finishes, two die, one goes on executing
    (root / "gates" / days[1]).touch()
    wait_until((root / f".andon/runs/gated:{days[1]}:1/result.json").exists, "a run to finish")
    for pid in (pids[days[2]], fragile_pid):
        os.killpg(pid, signal.SIGKILL)
        wait_until(lambda pid=pid: not alive(pid), "a run's process to die")
    assert alive(pids[days[0]])

    second = Server(root)
    second.wait_runs(lambda runs: table(runs).get(("gated", days[2]), [])[-1:] == [
        (2, "running", "")], "the lost run to be retried")
    runs = table(second.runs())
    assert runs[("gated", days[0])] == [(1, "running", "")]  # adopted, not started again
    assert runs[("gated", days[1])] == [(1, "succeeded", "")]  # its result was read
    assert runs[("gated", days[2])][0] == (1, "failed", "ProcessLost")  # retries=1: again
    assert runs[("fragile", days[0])] == [(1, "failed", "ProcessLost")]  # retries=0: failed
    assert alive(pids[days[0]])

    for day in (days[0], days[2]):
        (root / "gates" / day).touch()
    second.wait_runs(lambda runs: sum(1 for r in runs if r["pipeline"] == "after"
                                      and r["status"] == "succeeded") == 3, "everything to finish")
    runs = table(second.runs())
    assert runs[("gated", days[0])] == [(1, "succeeded", "")]
    assert runs[("gated", days[2])] == [(1, "failed", "ProcessLost"), (2, "succeeded", "")]
    assert (root / f"data/after/{days[0]}").read_text() == f"{days[0]} attempt 1\n"
    assert second.stop(signal.SIGTERM) == 0
    assert not (root / ".andon/server.json").exists()

    store = check_invariants(root, acknowledged)
    adopted = store.run(f"gated:{days[0]}:1")
    assert adopted is not None and adopted["pid"] == pids[days[0]]
    store.close()


def test_kill_9_right_after_notifies_are_acknowledged(root: Path) -> None:
    acknowledged: list[str] = []
    days = [f"2026-01-{d:02d}" for d in range(1, 13)]
    batches = [days[0:1], days[1:3], days[3:6], days[6:9], days[9:12]]
    for batch in batches:
        server = Server(root)
        for day in batch:
            land(root, "quick", day)
            acknowledged.append(server.notify("quick", day))
        server.kill9()  # at once: runs are queued, starting, executing or just done

    last = Server(root)
    last.wait_runs(lambda runs: sorted(r["partition"] for r in runs if r["pipeline"] == "q2"
                                       and r["status"] == "succeeded") == days,
                   "every partition to be made")
    runs = table(last.runs())
    for day in days:
        for name in ("q1", "q2"):
            assert runs[(name, day)][-1][1] == "succeeded"
            # a run is never repeated after it succeeded
            assert [s for _, s, _ in runs[(name, day)]].count("succeeded") == 1
    assert last.stop(signal.SIGINT) == 0  # Ctrl-C
    check_invariants(root, acknowledged).close()


def test_a_graceful_stop_leaves_runs_executing_for_the_next_andon_up(root: Path) -> None:
    day = "2026-01-05"
    land(root, "raw", day)
    first = Server(root)
    acknowledged = [first.notify("raw", day)]
    pid = read_pid(root / f"pids/gated-{day}-1")
    assert first.stop(signal.SIGTERM) == 0
    log = (root / "server.log").read_text()
    assert "still executing" in log
    assert not (root / ".andon/server.json").exists()
    assert alive(pid)

    second = Server(root)
    (root / "gates" / day).touch()
    second.wait_runs(lambda runs: [r["status"] for r in runs if r["pipeline"] == "after"] == [
        "succeeded"], "the adopted run and its consumer")
    assert table(second.runs())[("gated", day)] == [(1, "succeeded", "")]
    assert second.stop(signal.SIGTERM) == 0
    check_invariants(root, acknowledged).close()


def context_switches(pid: int) -> int:
    """How often any thread of ``pid`` went to sleep and was woken up, so far."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def test_an_idle_andon_up_does_not_wake_up(root: Path) -> None:
    land(root, "quick", "2026-01-05")
    server = Server(root)
    server.notify("quick", "2026-01-05")
    server.wait_runs(lambda runs: [r["status"] for r in runs] == ["succeeded"] * 2, "the runs")
    server.client.close()  # no keep-alive connection (and its timer) left open
    time.sleep(0.3)  # let it finish with the closed connection
    before = context_switches(server.proc.pid)
    time.sleep(0.5)
    assert context_switches(server.proc.pid) == before, "an idle andon up woke up"
    assert server.stop(signal.SIGTERM) == 0
