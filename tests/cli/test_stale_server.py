"""A server that is gone but left its address behind: the CLI works on the store, as it does with
no server at all. A scheduler is alive while it holds its state folder's lock (the kernel drops
an ``flock`` when its holder dies, even by ``kill -9``), not while its pid answers a signal: a
killed ``andon up`` that its parent has not reaped (a zombie) or whose pid was reused still does.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.executors.tree import read_proc
from andon.model.errors import ConfigError
from andon.store.lock import FileLock
from tests.cli.test_commands import ANDON, andon, project  # noqa: F401  (the fixture)
from tests.executors.helpers import wait_until

DAY = "2026-01-05"

# starts its command and never waits for it: once killed, the child stays a zombie
PARENT = """
import subprocess, sys, time
with open(sys.argv[1], "w") as log:
    child = subprocess.Popen(sys.argv[2:], stdout=log, stderr=log, stdin=subprocess.DEVNULL)
print(child.pid, flush=True)
time.sleep(600)
"""


def _works_on_the_store(root: Path) -> None:
    """``andon status`` and ``andon notify`` answer from the store, and the notify is recorded
    there (a later status sees it)."""
    before = json.loads(andon(root, "status", "--json").stdout)
    assert before["sources"][0]["partitions"] == 0
    out = andon(root, "notify", "events", DAY)
    assert out.stdout == f"events {DAY}: recorded\n"
    after = json.loads(andon(root, "status", "--json").stdout)
    assert after["sources"][0]["partitions"] == 1 and after["sources"][0]["latest"] == DAY
    assert "already recorded" in andon(root, "notify", "events", DAY).stdout


@pytest.fixture
def zombie_server(project: Path) -> Iterator[int]:  # noqa: F811
    """A real ``andon up`` killed by SIGKILL whose parent (alive) never reaps it: its pid."""
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(project.parent / "up.log"),
                               ANDON, "--project", str(project), "up", "--port", "0"],
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    try:
        pid = int(parent.stdout.readline())
        info = project / ".andon/server.json"

        def published() -> bool:
            try:
                return bool(json.loads(info.read_text()).get("pid") == pid)
            except (OSError, ValueError):
                return False

        wait_until(published, "andon up to publish its address")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: getattr(read_proc(pid), "state", "") == "Z", "the zombie")
        assert info.exists()  # left behind, naming a pid that still answers signal 0
        yield pid
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()


def test_a_killed_unreaped_server_is_not_talked_to(project: Path, zombie_server: int) -> None:  # noqa: F811
    _works_on_the_store(project)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_refused_connection_falls_back_to_the_store(project: Path) -> None:  # noqa: F811
    """A live process holds the lock, but nothing listens where server.json points."""
    state = project / ".andon"
    state.mkdir()
    (state / "server.json").write_text(json.dumps({"url": f"http://127.0.0.1:{_free_port()}",
                                                   "pid": 1}))

    def refused(_: object) -> ConfigError:
        raise AssertionError("the lock is free: nothing should hold it")

    lock = FileLock(state / "scheduler.lock", "pid 1 on a test", refused, refused)
    try:
        _works_on_the_store(project)
    finally:
        lock.release()


def test_without_a_lock_holder_server_json_is_ignored(project: Path) -> None:  # noqa: F811
    """server.json names a live pid (this test's) and a port that answers, but no scheduler
    holds the lock: that address is not andon's."""
    state = project / ".andon"
    state.mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        port = sock.getsockname()[1]
        (state / "server.json").write_text(json.dumps({"url": f"http://127.0.0.1:{port}",
                                                       "pid": os.getpid()}))
        _works_on_the_store(project)
