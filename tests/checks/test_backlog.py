"""Checks owed at start-up (``andon.checks.backlog``): data announced with no scheduler, or
made while the last scheduler died in the middle of its checks, is checked by the next
``andon up`` (real console scripts, a real SQLite store), once."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from andon.checks.backlog import owed
from andon.events import CheckFailed, CheckPassed, PartitionAvailable
from andon.project.load import load_project
from andon.store.sql import Store
from tests.cli.test_commands import ANDON, andon, andon_up
from tests.conftest import ProjectFactory
from tests.fromcode.projects import EMPTY, GOOD, PIPELINES

INPROCESS = '[settings]\nexecutor = "inprocess"\n'

# a blocking check that notes each time it begins, then waits for the test to let it finish
SLOW = PIPELINES.replace('andon.check("raw")(andon.checks.row_count(min=1))\n', '''
import pathlib, time


@andon.check("raw")
def slow(ctx):
    with (ctx.project_dir / "began.txt").open("a") as fh:
        fh.write(f"{ctx.partition} v{ctx.version}\\n")
    release = ctx.project_dir / "release"
    for _ in range(600):
        if release.exists():
            break
        time.sleep(0.05)
    return andon.CheckResult(True, {}, "slow but fine")
''')


def _project(make_project: ProjectFactory, definitions: str, days: dict[str, str]) -> Path:
    root = make_project(definitions, extra=INPROCESS)
    for key, text in days.items():
        path = root / f"data/raw/{key}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _events(root: Path) -> list[tuple[str, str]]:
    """(type, id) of every event in the project's log, read as any SQLite reader would."""
    with sqlite3.connect(root / ".andon/andon.db") as conn:
        return list(conn.execute("SELECT type, id FROM events ORDER BY seq"))


def _until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def _types(root: Path) -> list[str]:
    return [t for t, _ in _events(root)]


def test_data_announced_offline_is_checked_by_the_next_andon_up(
        make_project: ProjectFactory) -> None:
    root = _project(make_project, PIPELINES, {"2026-01-05": GOOD, "2026-01-06": EMPTY})
    andon(root, "notify", "raw", "2026-01-05")
    andon(root, "notify", "raw", "2026-01-06")
    assert "check.passed" not in _types(root)  # no scheduler: nobody checked, nothing ran
    assert not (root / "data/report").exists()
    with andon_up(root):
        # the good day passes its blocking check and the line runs downstream of it
        _until((root / "data/report/2026-01-05.txt").exists, "report 2026-01-05")
        # the empty day fails it and the cord is pulled on it, as it would be live
        _until(lambda: "cord.pulled" in _types(root), "the cord pulled on 2026-01-06")
    events = _events(root)
    assert ("check.passed", "check:raw:2026-01-05:1:row_count") in events
    assert ("check.failed", "check:raw:2026-01-06:1:row_count") in events
    assert [i for t, i in events if t == "cord.pulled"] == ["pull:raw:2026-01-06:check-v1"]
    assert not (root / "data/clean/2026-01-06.csv").exists()  # gated: never read
    project = load_project(root)
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    try:
        assert owed(store, project.checks) == []  # the next start owes nothing
    finally:
        store.close()


def test_a_check_cut_off_by_kill_9_runs_once_after_the_restart(
        make_project: ProjectFactory) -> None:
    root = _project(make_project, SLOW, {"2026-01-05": GOOD})
    began = root / "began.txt"
    up = subprocess.Popen([ANDON, "--project", str(root), "up", "--port", "0"],
                          stderr=subprocess.DEVNULL)
    try:
        _until((root / ".andon/server.json").exists, "andon up serving")
        andon(root, "notify", "raw", "2026-01-05")  # through the running scheduler
        _until(began.exists, "the slow check begun")
    finally:
        os.kill(up.pid, signal.SIGKILL)
        up.wait(20)
    assert "check.passed" not in _types(root)  # it died mid-check: no verdict recorded
    (root / ".andon/server.json").unlink()  # the dead one's address: wait for the next one's
    (root / "release").touch()
    with andon_up(root):
        _until((root / "data/report/2026-01-05.txt").exists, "report 2026-01-05")
    assert began.read_text() == "2026-01-05 v1\n" * 2  # cut off once, then run once
    verdicts = [i for t, i in _events(root) if t.startswith("check.")]
    assert verdicts == ["check:raw:2026-01-05:1:slow"]


def test_a_failure_recorded_without_its_cord_pull_is_judged_again(
        make_project: ProjectFactory) -> None:
    root = _project(make_project, PIPELINES, {"2026-01-05": EMPTY, "2026-01-06": GOOD})
    project = load_project(root)
    (root / ".andon").mkdir()
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    at = datetime(2026, 1, 8, tzinfo=UTC)
    try:
        store.append([
            PartitionAvailable(id="a1", at=at, asset="raw", partition="2026-01-05",
                               location="data/raw/2026-01-05.csv", version=1),
            PartitionAvailable(id="a2", at=at, asset="raw", partition="2026-01-06",
                               location="data/raw/2026-01-06.csv", version=1),
            CheckFailed(id="check:raw:2026-01-05:1:row_count", at=at, asset="raw",
                        partition="2026-01-05", version=1, check="row_count", blocking=True,
                        numbers={}, message="no rows"),
            PartitionAvailable(id="a3", at=at, asset="raw", partition="2026-01-07",
                               location="data/raw/2026-01-07.csv", version=1),
            CheckPassed(id="check:raw:2026-01-07:1:row_count", at=at, asset="raw",
                        partition="2026-01-07", version=1, check="row_count", blocking=True,
                        numbers={}, message="")])
        due = {(o.asset, o.partition, o.version): o.checks for o in owed(store, project.checks)}
        # the failure with no pull is judged again (so that the cord is pulled); the other
        # version was never checked; the passed one is done
        assert due == {("raw", "2026-01-05", 1): ("row_count",),
                       ("raw", "2026-01-06", 1): ("row_count",)}
    finally:
        store.close()
