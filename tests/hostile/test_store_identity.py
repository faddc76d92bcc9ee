"""Invariant 2: one scheduler per store, wherever its state folder is; a store deleted or replaced
under a running ``andon up`` is noticed at the next write, reported unhealthy, and never written
to. Real processes, a real PostgreSQL, a real HTTP server."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line
from andon.store.identity import StoreUnavailable
from andon.store.lock import lock_scheduler
from andon.store.sql import Store
from tests.conftest import ProjectFactory
from tests.web.conftest import auth_header, running

ANDON = str(Path(sys.executable).with_name("andon"))
PIPELINES = """
import andon

andon.source("raw")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")
"""
# a run that goes on until the test lets it end (a real process: the local executor)
WAITING = """
import time
from pathlib import Path

import andon

andon.source("raw")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    while not Path({flag!r}).exists():
        time.sleep(0.05)
    ctx.output("clean").write_text("ok\\n")
"""
DAY = "2026-01-05"



def _events_in(path: Path) -> int:
    """How many events a database file holds, read from a copy (opening the file itself would
    write to it)."""
    copy = path.with_name(path.name + ".copy")
    shutil.copyfile(path, copy)
    try:
        conn = sqlite3.connect(copy)
        try:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
        finally:
            conn.close()
    finally:
        copy.unlink()


def _wait(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


# -- one scheduler per store --------------------------------------------------------------------

def test_a_second_up_through_another_state_folder_is_refused_naming_the_holder(
        make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    other = tmp_path / "other-state"
    with running(root) as line:
        assert line.store.path is not None
        before = line.store.last_seq()
        env = {**os.environ, "ANDON_STATE_DIR": str(other),
               "ANDON_DATABASE_URL": f"sqlite:///{line.store.path}"}
        proc = subprocess.run([ANDON, "--project", str(root), "up", "--port", "0"], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 2, proc.stderr
        assert "already running on this store" in proc.stderr
        assert f"pid {os.getpid()} on {socket.gethostname()}" in proc.stderr
        assert str(line.settings.state_dir) in proc.stderr  # which scheduler: its state folder
        assert line.store.last_seq() == before  # the refused one recorded nothing
        assert not (other / "server.json").exists()


def test_a_symlink_to_the_database_shares_its_lock(tmp_path: Path) -> None:
    real = tmp_path / "real" / "andon.db"
    real.parent.mkdir()
    Store(f"sqlite:///{real}").close()
    (tmp_path / "elsewhere").mkdir()
    link = tmp_path / "elsewhere" / "andon.db"
    link.symlink_to(real)
    first = lock_scheduler(f"sqlite:///{real}", "the first")
    try:
        with pytest.raises(ConfigError, match=r"another andon scheduler \(the first\)"):
            lock_scheduler(f"sqlite:///{link}", "me")
    finally:
        first.release()
    assert not (tmp_path / "elsewhere" / "andon.db-scheduler.lock").exists()


@contextmanager
def _lock_holder(url: str) -> Iterator[None]:
    """A real process holding the store lock of ``url`` (as 'the child') for the block; it is
    killed with SIGKILL at the end, never released."""
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nfrom andon.store.lock import lock_scheduler\n"
         f"lock_scheduler({url!r}, 'the child')\nprint('locked', flush=True)\ntime.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "locked"
        yield
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        child.stdout.close()  # type: ignore[union-attr]


def test_the_store_lock_dies_with_its_holder_even_by_kill_9(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'andon.db'}"
    Store(url).close()
    with _lock_holder(url), pytest.raises(ConfigError, match=r"another andon scheduler \(the child\)"):
        lock_scheduler(url, "me")
    lock_scheduler(url, "me").release()


def test_a_second_scheduler_on_one_postgres_store_is_refused(
        make_project: ProjectFactory, postgres_database: str, tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    env = {"ANDON_DATABASE_URL": postgres_database}
    first = open_line(project, resolve(root, {"executor": "inprocess"}, env, {}))
    other = resolve(root, {"executor": "inprocess"},
                    {**env, "ANDON_STATE_DIR": str(tmp_path / "other-state")}, {})
    try:
        before = first.store.last_seq()
        with pytest.raises(ConfigError, match="already running on this store") as err:
            open_line(project, other)
        assert f"pid {os.getpid()}" in err.value.message
        assert "PostgreSQL session" in err.value.message
        assert "stop it first" in err.value.hint
        assert first.store.last_seq() == before
    finally:
        first.close()
    second = open_line(project, other)  # the lock went with the first scheduler's session
    second.close()


def test_a_postgres_lock_holder_killed_by_kill_9_lets_the_next_one_in(
        postgres_database: str) -> None:
    refused = r"another andon scheduler \(the child; PostgreSQL"
    with _lock_holder(postgres_database), pytest.raises(ConfigError, match=refused):
        lock_scheduler(postgres_database, "me")
    taken: list[object] = []

    def take() -> bool:
        try:
            taken.append(lock_scheduler(postgres_database, "me"))
        except ConfigError:
            return False  # the server has not yet seen the session end
        return True

    assert _wait(take), "the dead holder's advisory lock was never dropped"
    taken[0].release()  # type: ignore[attr-defined]


# -- a store deleted or replaced under a running `andon up` --------------------------------------

def _replace_database(db: Path, tmp_path: Path) -> Path:
    """Put another, valid andon database where ``db`` is (as a restore with ``mv`` would)."""
    fresh = tmp_path / "fresh" / "andon.db"
    fresh.parent.mkdir()
    Store(f"sqlite:///{fresh}").close()
    os.replace(fresh, db)
    return db


@pytest.fixture
def served(make_project: ProjectFactory, tmp_path: Path) -> Iterator[Line]:
    """``andon up`` with its database outside the state folder, so either can go alone."""
    (tmp_path / "db").mkdir()
    env = {"ANDON_DATABASE_URL": f"sqlite:///{tmp_path / 'db' / 'andon.db'}"}
    with running(make_project(PIPELINES), env=env) as line:
        yield line


CASES = {
    "database deleted": ("missing", "database file"),
    "database replaced": ("replaced", "database file"),
    "state folder deleted": ("missing", "state folder"),
    "state folder replaced": ("replaced", "state folder"),
    # a new lock file would let a second scheduler in: the first one must stop writing
    "scheduler lock deleted": ("missing", "scheduler lock file"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_store_gone_under_up_refuses_every_write_with_503_and_writes_nothing(
        served: Line, tmp_path: Path, case: str) -> None:
    line = served
    db, state = line.store.path, line.settings.state_dir
    assert db is not None
    operator, admin = auth_header(line), auth_header(line, "admin")
    with httpx.Client(base_url=line.url, timeout=10) as client:
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY},
                           headers=operator).status_code == 201
        assert line.runner.drain()
        runs_before = len(line.runner.state.runs)
        if case == "database deleted":
            db.unlink()
        elif case == "database replaced":
            _replace_database(db, tmp_path)
        elif case == "state folder deleted":
            shutil.rmtree(state)
        elif case == "scheduler lock deleted":
            db.with_name(db.name + "-scheduler.lock").unlink()
        else:
            state.rename(tmp_path / "moved-state")
            state.mkdir()
        state_word, kind = CASES[case]

        health = client.get("/api/v1/health")
        assert health.status_code == 503
        body = health.json()
        assert body["ok"] is False and body["database"] == state_word
        assert kind in body["message"] and body["hint"]

        writes = [("/api/v1/notify", {"asset": "raw", "partition": "2026-01-06"}, operator),
                  ("/api/v1/runs", {"pipeline": "clean", "partition": DAY}, operator),
                  ("/api/v1/cords", {"asset": "raw", "partition": DAY, "reason": "bad"},
                   operator),
                  ("/api/v1/tokens", {"role": "viewer"}, admin)]
        for path, payload, auth in writes:
            answer = client.post(path, json=payload, headers=auth)
            assert answer.status_code == 503, (path, answer.text)
            assert answer.json()["error"] == "StoreUnavailable"
            assert kind in answer.json()["message"]

        # the scheduler itself refuses too: the event is not taken, no run is started
        refused = line.runner.submit(line.service.notify("raw", "2026-01-07", line.clock.now(),
                                                         "file"))
        with pytest.raises(StoreUnavailable):
            refused.result(10)
        assert line.runner.drain()
        assert len(line.runner.state.runs) == runs_before
        assert isinstance(line.runner.unavailable, StoreUnavailable)

    if case == "database deleted":
        assert not db.exists()  # no new, empty database made where the old one was
    elif case == "database replaced":
        assert _events_in(db) == 0  # the replacement got nothing


def test_a_database_put_back_is_used_again_and_the_held_reports_are_recorded(
        make_project: ProjectFactory, tmp_path: Path) -> None:
    flag = tmp_path / "let-it-end"
    root = make_project(WAITING.format(flag=str(flag)))
    (tmp_path / "db").mkdir()
    db = tmp_path / "db" / "andon.db"
    aside = tmp_path / "aside.db"
    with running(root, env={"ANDON_DATABASE_URL": f"sqlite:///{db}"}, executor="local") as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        operator = auth_header(line)
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY},
                           headers=operator).status_code == 201
        assert _wait(lambda: any(r["status"] == "running"
                                 for r in client.get("/api/v1/runs").json()))
        os.rename(db, aside)  # the database goes away while its run executes
        flag.touch()  # ... and the run ends: its report has nowhere to go
        assert _wait(lambda: bool(line.runner._held)), "the run's end was not held"
        assert client.get("/api/v1/health").status_code == 503
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-06"},
                           headers=operator).status_code == 503
        assert not db.exists()

        os.rename(aside, db)  # put back: the same file, so the store takes writes again
        assert client.get("/api/v1/health").status_code == 200
        assert _wait(lambda: line.runner.unavailable is None and not line.runner._held)
        assert line.runner.drain()
        runs = client.get("/api/v1/runs").json()
        assert [r["status"] for r in runs] == ["succeeded"]
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-06"},
                           headers=operator).status_code == 201
