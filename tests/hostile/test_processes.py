"""A run's whole process tree ends with it: on cancel, on timeout and when it simply finishes,
including grandchildren that left its session with ``setsid`` and double-forked daemons whose
parents are gone. Real processes, forked by a fork server and spawned; /proc says who is alive."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.executors.base import RunSpec, spec_for
from andon.executors.local import LocalProcessExecutor
from andon.executors.tree import Tree, kill_tree, read_proc
from andon.project.load import Project
from tests.executors.helpers import WAIT_FOR, Reports, alive, project_with_raw, read_pid, wait_until

# every process of the tree writes its own pid: $$ of the shell that then execs sleep
_LEAVE = ("setsid sh -c 'echo $$ > {dir}/setsid.pid; exec sleep 1000' & "
          "sh -c '(setsid sh -c \"echo \\$\\$ > {dir}/daemon.pid; exec sleep 1000\" &)' ; "
          "sh -c 'echo $$ > {dir}/group.pid; exec sleep 1000' & "
          "until [ -s {dir}/setsid.pid ] && [ -s {dir}/daemon.pid ] && [ -s {dir}/group.pid ]; "
          "do sleep 0.01; done; ")

PIPELINES = (r'''
import os
import subprocess
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")
LEAVE = LEAVE_HERE


def leave(folder):
    subprocess.run(LEAVE.format(dir=folder), shell=True, check=True)


'''+WAIT_FOR+r'''

def daemonize(folder):
    """A classic double fork: the middle process exits, the daemon leaves the session."""
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            Path(folder, "pydaemon.pid").write_text(str(os.getpid()))
            os.execvp("sleep", ["sleep", "1000"])
        os._exit(0)
    os.wait()


for name, timeout in (("sh_wait", None), ("sh_timeout", "2s"), ("sh_exit", None)):
    folder = "{partition}-" + name
    tail = f"echo 1 > {folder}/ready; exec sleep 1000" if name != "sh_exit" else "true"
    andon.pipeline(name, inputs=["raw"], outputs=[name], timeout=timeout,
                   command=f"mkdir -p {folder}; " + LEAVE.format(dir=folder) + tail)


@andon.pipeline(inputs=["raw"], outputs=["py_wait"])
def py_wait(ctx):
    folder = ctx.project_dir / f"{ctx.partition}-py_wait"
    folder.mkdir()
    leave(folder)
    daemonize(folder)
    wait_for(folder / "pydaemon.pid")
    (folder / "ready").write_text("1")
    wait_for(folder / "never")


@andon.pipeline(inputs=["raw"], outputs=["py_exit"])
def py_exit(ctx):
    folder = ctx.project_dir / f"{ctx.partition}-py_exit"
    folder.mkdir()
    leave(folder)
    daemonize(folder)
    wait_for(folder / "pydaemon.pid")
''').replace("LEAVE_HERE", repr(_LEAVE))

DAY = "2026-01-05"
PIDS = ("setsid.pid", "daemon.pid", "group.pid")


@pytest.fixture
def project(make_project) -> Project:  # type: ignore[no-untyped-def]
    return project_with_raw(make_project, PIPELINES, DAY)


@pytest.fixture(params=["fork", "spawn"])
def executor(request: pytest.FixtureRequest) -> Iterator[LocalProcessExecutor]:
    ex = LocalProcessExecutor(kill_grace=0.5, fork=request.param == "fork")
    yield ex
    ex.shutdown()


def _spec(project: Project, pipeline: str) -> RunSpec:
    return spec_for(project.graph, f"{pipeline}:{DAY}:1", pipeline, DAY, 1, project.root,
                    project.root / ".andon/runs")


@contextlib.contextmanager
def _tree_pids(folder: Path, names: tuple[str, ...]) -> Iterator[list[int]]:
    """The pids the run's processes wrote; whatever a failing test leaves alive is killed."""
    pids: list[int] = []
    try:
        yield pids
    finally:
        for name in names:
            path = folder / name
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(path.read_text()), signal.SIGKILL)


def _collect(folder: Path, names: tuple[str, ...], pids: list[int]) -> None:
    pids.extend(read_pid(folder / name) for name in names)
    # they really left the run's session (else the old process-group kill would have sufficed)
    sessions = {p: read_proc(p).sid for p in pids if read_proc(p) is not None}
    assert len(set(sessions.values())) >= 2, sessions


@pytest.mark.parametrize("pipeline,names", [
    ("sh_wait", PIDS), ("py_wait", (*PIDS, "pydaemon.pid"))])
def test_cancel_ends_the_whole_tree(project: Project, executor: LocalProcessExecutor,
                                    pipeline: str, names: tuple[str, ...]) -> None:
    folder = project.root / f"{DAY}-{pipeline}"
    reports = Reports()
    s = _spec(project, pipeline)
    with _tree_pids(folder, names) as pids:
        root = executor.start(s, reports)
        read_pid(folder / "ready")
        _collect(folder, names, pids)
        assert all(alive(p) for p in pids)
        executor.cancel(s.run_id)
        result = reports.wait(s.run_id)
        assert result.cancelled and result.error_type == "Cancelled"
        alive_now = [p for p in [root, *pids] if alive(p)]
        assert not alive_now, f"still running after cancel: {alive_now}"


def test_timeout_ends_the_whole_tree(project: Project, executor: LocalProcessExecutor) -> None:
    folder = project.root / f"{DAY}-sh_timeout"
    reports = Reports()
    s = _spec(project, "sh_timeout")
    with _tree_pids(folder, PIDS) as pids:
        root = executor.start(s, reports)
        read_pid(folder / "ready")
        _collect(folder, PIDS, pids)
        result = reports.wait(s.run_id)
        assert result.error_type == "Timeout", result
        alive_now = [p for p in [root, *pids] if alive(p)]
        assert not alive_now, f"still running after the timeout: {alive_now}"


@pytest.mark.parametrize("pipeline,names", [
    ("sh_exit", PIDS), ("py_exit", (*PIDS, "pydaemon.pid"))])
def test_a_finished_run_leaves_nothing_running(project: Project, executor: LocalProcessExecutor,
                                               pipeline: str, names: tuple[str, ...]) -> None:
    """Decision: what a run leaves running when its work is done is ended (SIGTERM, then
    SIGKILL) before the run reports, so a succeeded run holds no process and no slot."""
    folder = project.root / f"{DAY}-{pipeline}"
    reports = Reports()
    s = _spec(project, pipeline)
    with _tree_pids(folder, names):
        executor.start(s, reports)
        result = reports.wait(s.run_id)
        assert result.ok, result
        pids = [int((folder / n).read_text()) for n in names]  # written before the run ended
        alive_now = [p for p in pids if alive(p)]
        assert not alive_now, f"left running by a finished run: {alive_now}"


def test_a_tree_whose_root_died_first_is_still_found(tmp_path: Path) -> None:
    """An orphan re-parented to init (its root died first) is still ended: the walk remembers
    every process it saw, and the sessions it created."""
    import subprocess
    import sys

    script = ("import os, subprocess, sys\n"
              "p = subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
              "print(p.pid, flush=True)\n"
              "sys.stdin.read()\n")
    root = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert root.stdout is not None
    orphan = int(root.stdout.readline())
    try:
        tree = Tree(root.pid)
        assert {p.pid for p in tree.members()} == {root.pid, orphan}
        root.kill()
        root.wait()
        wait_until(lambda: (read_proc(orphan) or read_proc(os.getpid())).ppid != root.pid,
                   "the orphan re-parented")
        assert [p.pid for p in tree.members()] == [orphan]  # no longer a descendant of anyone
        from andon.executors.tree import end_tree

        end_tree(tree, 0.5)
        wait_until(lambda: not alive(orphan), "the orphan ended")
    finally:
        with contextlib.suppress(OSError):
            os.kill(orphan, signal.SIGKILL)
        with contextlib.suppress(OSError):
            root.kill()
        root.communicate()  # reaps it and closes its pipes


def test_kill_tree_never_touches_the_caller(tmp_path: Path) -> None:
    """The scheduler's own session and group are never members, even when asked for its pid."""
    kill_tree(os.getpid() + 10_000_000, 0.1)  # no such process: nothing happens
    assert os.getpid() not in [p.pid for p in Tree(os.getpid()).members()]
