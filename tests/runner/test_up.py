"""Wiring of ``andon up``: one scheduler per project."""

from __future__ import annotations

import os
import time

import pytest

from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import open_line

PIPELINES = """
import andon

andon.source("raw")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")
"""


def test_a_second_scheduler_on_the_same_project_is_refused(make_project) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess"}, {}, {})
    first = open_line(project, settings)
    try:
        with pytest.raises(ConfigError, match="already running") as err:
            open_line(project, settings)
        assert "stop it first" in err.value.hint
    finally:
        first.close()
    second = open_line(project, settings)  # the lock went with the first scheduler
    second.close()


def _fork_servers_of(root: object) -> list[int]:
    """This process's children that are a fork server of ``root`` and have not exited."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                state, ppid = fh.read().rsplit(")", 1)[1].split()[:2]
            with open(f"/proc/{entry}/cmdline", "rb") as fh:
                argv = fh.read().split(b"\0")
        except OSError:
            continue
        if int(ppid) == os.getpid() and state != "Z" and b"andon.executors.forkserver" in argv \
                and str(root).encode() in argv:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_start_that_fails_before_the_runner_stops_the_fork_server_it_started(
        make_project) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    # the store cannot be made (its file is not a database): the executor, made first, goes too
    (root / "bad.db").write_bytes(b"not a database, " * 512)
    settings = resolve(root, {"executor": "local",
                              "database_url": f"sqlite:///{root / 'bad.db'}"}, {}, {})
    with pytest.raises(Exception):  # noqa: B017  (whatever the driver raises)
        open_line(project, settings)
    started = _fork_servers_of(root)
    assert len(started) == 1  # started before the store, as the start is meant to
    deadline = time.monotonic() + 60  # a deadline for the exit, not a speed assertion
    while _alive(started[0]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(started[0])
    line = open_line(project, resolve(root, {"executor": "inprocess"}, {}, {}))  # lock released
    line.close()
