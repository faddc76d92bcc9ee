"""Small helpers for tests that run real processes: collect reports, wait for files and pids."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from andon.executors.base import ExecResult
from andon.executors.processes import SERVER_MODULE
from andon.executors.tree import read_proc
from andon.project.load import Project, load_project

GUARD = 60.0  # seconds: only a failure guard, never a measure of speed

# pipeline code (for a definitions module that imports time): wait until the test makes a file
WAIT_FOR = '''
def wait_for(path):
    deadline = time.monotonic() + 120  # a failure guard for the test, not a timing
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.01)
'''


def project_with_raw(make_project: Callable[..., Path], pipelines: str, day: str,
                     text: str = "a\n") -> Project:
    """A project of ``pipelines`` whose source ``raw`` has partition ``day`` (``text``)."""
    root = make_project(pipelines)
    raw = root / "data/raw" / f"{day}.csv"
    raw.parent.mkdir(parents=True)
    raw.write_text(text)
    return load_project(root)


class Reports:
    """An executor's ``report`` callback that a test can wait on."""

    def __init__(self) -> None:
        self.results: dict[str, list[ExecResult]] = {}
        self.threads: dict[str, str] = {}
        self._cond = threading.Condition()

    def __call__(self, result: ExecResult) -> None:
        with self._cond:
            self.results.setdefault(result.run_id, []).append(result)
            self.threads[result.run_id] = threading.current_thread().name
            self._cond.notify_all()

    def wait(self, run_id: str, timeout: float = GUARD) -> ExecResult:
        with self._cond:
            assert self._cond.wait_for(lambda: run_id in self.results, timeout), \
                f"no report for {run_id} within {timeout}s"
            return self.results[run_id][0]


def wait_until(condition: Callable[[], object], what: str, timeout: float = GUARD) -> None:
    """Wait until ``condition()`` is true; the short sleeps only bound a failure."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def read_pid(path: Path) -> int:
    wait_until(lambda: path.exists() and path.read_text().strip(), f"pid file {path}")
    return int(path.read_text())


def alive(pid: int) -> bool:
    """True when ``pid`` runs (a zombie, dead but not reaped, counts as gone)."""
    proc = read_proc(pid)
    return proc is not None and proc.alive


def dask_worker_of(pid: int) -> tuple[int, int]:
    """The Dask worker process running run process ``pid``, and the worker's fork server that
    forked it (0 when the run was spawned by the worker itself)."""
    proc = read_proc(pid)
    assert proc is not None, f"run process {pid} is gone"
    parent = proc.ppid
    if SERVER_MODULE.encode() not in Path(f"/proc/{parent}/cmdline").read_bytes().split(b"\0"):
        return parent, 0
    server = read_proc(parent)
    assert server is not None
    return server.ppid, parent
