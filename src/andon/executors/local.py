"""The default executor: each run in its own process (its own session, the subreaper of what it
starts, so that cancelling it reaches everything it started: ``tree``), logs captured to a capped
file, a timeout, SIGTERM then SIGKILL, and an environment of its own (``environment``: never the
scheduler's, so none of andon's secrets).

A run's process is forked by the project's fork server (``andon.executors.forkserver``), which
loaded andon and the project once, or, with ``fork=False`` (or when forking is not possible),
spawned as ``python -m andon.executors.child RUN_DIR/spec.json``. Both run the same code.

A thread per run sleeps on the process's pidfd until it ends or its timeout passes: nothing polls
while runs execute. The run's process writes its pid and, at the end, its result next to its
spec, so a scheduler restarted after ``kill -9`` finds every run again: it adopts a process that
still runs (waiting on a pidfd, as for its own) and reads the result of one that ended meanwhile.
A fork server that dies leaves its runs executing (they are sessions of their own); they are
watched on as adopted ones, and a new server is started for the next run.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import os
import select
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from andon.executors.base import ExecResult, Report, RunSpec
from andon.executors.child import write_atomic
from andon.executors.ended import lost_result, without_result
from andon.executors.environment import base_environment, run_environment
from andon.executors.forkclient import ForkFailed, ForkServer
from andon.executors.processes import (
    CHILD_MODULE,
    find_run_process,
    is_run_process,
    pidfd,
    pidfd_works,
    spec_path,
)
from andon.executors.tree import kill_tree
from andon.project.settings import DEFAULT_MAX_LOG_BYTES

log = logging.getLogger("andon.executors.local")
FORK_FAILURES_BEFORE_SPAWNING = 3  # fork servers in a row that failed a project


def _read_result(spec: RunSpec) -> ExecResult | None:
    try:
        return ExecResult.from_json(spec.result_path.read_text())
    except (OSError, ValueError, TypeError):
        return None


@dataclass
class _Run:
    """A run this executor watches: one it spawned (``proc``), forked (``server``) or adopted
    after a restart."""

    spec: RunSpec
    pid: int
    report: Report
    proc: subprocess.Popen[bytes] | None = None
    pidfd: int = -1
    server: ForkServer | None = None
    cancelled: bool = False
    timed_out: bool = False
    killer: threading.Thread | None = None


class LocalProcessExecutor:
    """Runs each RunSpec in a process of its own: forked by a fork server (``fork=True``) or
    spawned. ``start_timeout`` bounds the wait for a fork server's answer (a project that takes
    longer to import is run by spawning)."""

    name = "local"
    concurrent_start = True  # start may be called from several threads at once (live.launcher)

    def __init__(self, kill_grace: float = 10.0, python: str = sys.executable, fork: bool = True,
                 start_timeout: float = 120.0, environ: Mapping[str, str] | None = None,
                 max_log_bytes: int = DEFAULT_MAX_LOG_BYTES,
                 server_names: Iterable[str] = ()) -> None:
        self.kill_grace = kill_grace
        self.environ = environ  # runs' environments are taken from it (None: this process's)
        self.max_log_bytes = max_log_bytes
        self.server_names = tuple(server_names)  # variables fork servers get (see warm)
        self.python = python
        self.fork = fork and pidfd_works()  # a forked run can only be watched through a pidfd
        self.start_timeout = start_timeout
        self._runs: dict[str, _Run] = {}
        self._servers: dict[str, ForkServer] = {}
        self._failures: dict[str, int] = {}  # project -> fork servers in a row that failed it
        self._lock = threading.Lock()

    # -- starting and adopting ----------------------------------------------------------------

    def _source(self) -> Mapping[str, str]:
        return os.environ if self.environ is None else self.environ

    def warm(self, project_dir: str) -> None:
        """Start the project's fork server now, so that the first run need not wait for it. A
        fork server's environment is the base one plus ``server_names`` (the project's declared
        ``env=`` names, so that its definitions may read them when imported); no secret and no
        ANDON_* variable: each run gets its own environment over the server's pipe."""
        if self.fork:
            with contextlib.suppress(OSError):
                self._server(project_dir)

    def start(self, spec: RunSpec, report: Report) -> int:
        run_dir = Path(spec.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = dataclasses.replace(spec, spawned_at=time.time(), max_log_bytes=self.max_log_bytes)
        env = run_environment(self._source(), spec.env, spec.secrets)
        for name in ("result.json", "pid"):
            (run_dir / name).unlink(missing_ok=True)
        write_atomic(spec_path(spec.run_dir), spec.to_json())
        forked = self._forked(spec, env) if self.fork else None
        if forked is not None:
            server, pid = forked
            self._watch(_Run(spec, pid, report, None, pidfd(pid), server))
            return pid
        with spec.log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                [self.python, "-m", CHILD_MODULE, str(spec_path(spec.run_dir))],
                cwd=spec.project_dir, env=env, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self._watch(_Run(spec, proc.pid, report, proc, pidfd(proc.pid)))
        return proc.pid

    def _server(self, project_dir: str) -> ForkServer:
        with self._lock:
            server = self._servers.get(project_dir)
            if server is None or not server.alive:
                if server is not None:
                    log.warning("the fork server of %s (pid %d) exited; starting another",
                                project_dir, server.pid)
                server = self._servers[project_dir] = ForkServer(
                    project_dir, self.python, base_environment(self._source(), self.server_names))
            return server

    def _forked(self, spec: RunSpec, env: dict[str, str]) -> tuple[ForkServer, int] | None:
        """The run forked by its project's fork server, or None: spawn it instead."""
        key = spec.project_dir
        if self._failures.get(key, 0) >= FORK_FAILURES_BEFORE_SPAWNING:
            return None
        try:
            server = self._server(key)
            pid = server.fork(spec.run_id, str(spec_path(spec.run_dir)), str(spec.log_path),
                              self.start_timeout, env)
        except (ForkFailed, OSError) as exc:
            kind = exc.kind if isinstance(exc, ForkFailed) else "gone"
            if kind != "failed":
                self._stop_server(key)  # refused, dead or hung: a new one for the next run
            failures = (FORK_FAILURES_BEFORE_SPAWNING if kind == "refused"
                        else self._failures.get(key, 0) + 1)
            self._failures[key] = failures
            if failures >= FORK_FAILURES_BEFORE_SPAWNING:
                log.warning("spawning each run of %s from now on: %s", key, exc)
            else:
                log.warning("spawning run %s: %s", spec.run_id, exc)
            return None
        self._failures.pop(key, None)
        return server, pid

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """Adopt the run's process if it still runs, else report its result, or that it was
        lost; False when the run never began (no spec written, or the child never started)."""
        if not spec_path(spec.run_dir).exists():
            return False
        with contextlib.suppress(OSError, ValueError, TypeError):
            spec = RunSpec.from_json(spec_path(spec.run_dir).read_text())  # with its spawn time
        candidates = [pid, _pid_file(spec)]
        found = next((p for p in candidates if p and is_run_process(p, spec.run_dir)), 0)
        found = found or find_run_process(spec.run_dir)
        if found:
            fd = pidfd(found)
            if fd >= 0 and is_run_process(found, spec.run_dir):  # still ours once the fd pins it
                log.info("adopted run %s (pid %d)", spec.run_id, found)
                self._watch(_Run(spec, found, report, None, fd))
                return True
            if fd >= 0:
                os.close(fd)
        result = _read_result(spec)
        if result is None and not (Path(spec.run_dir) / "pid").exists():
            return False  # the child never started: no user code ran, so start it again
        report(result or _lost(spec))
        return True

    # -- watching -----------------------------------------------------------------------------

    def _watch(self, run: _Run) -> None:
        with self._lock:
            self._runs[run.spec.run_id] = run
        threading.Thread(target=self._follow, args=(run,), daemon=True,
                         name=f"run-{run.spec.run_id}").start()

    def _follow(self, run: _Run) -> None:
        try:
            if not self._await_exit(run, self._remaining(run.spec)):
                with self._lock:
                    run.timed_out = not run.cancelled
                self._kill(run)
                self._await_exit(run, None)
            with self._lock:
                killer = run.killer
            if killer is not None:  # killed: the rest of its group goes before we report
                killer.join()
            result = self._outcome(run)
        except Exception as exc:  # never leave a run without a report
            log.exception("watching run %s failed", run.spec.run_id)
            result = lost_result(run.spec, f"andon lost track of the run's process: {exc}")
        finally:
            if run.pidfd >= 0:
                os.close(run.pidfd)
            with self._lock:
                self._runs.pop(run.spec.run_id, None)
        run.report(result)

    @staticmethod
    def _remaining(spec: RunSpec) -> float | None:
        if spec.timeout is None:
            return None
        return max(spec.timeout - (time.time() - (spec.spawned_at or time.time())), 0.0)

    @staticmethod
    def _await_exit(run: _Run, timeout: float | None) -> bool:
        """Sleep until the run's process ends (True) or ``timeout`` s pass (False)."""
        if run.pidfd >= 0:
            poller = select.poll()  # not select(): a pidfd may be numbered above 1023
            poller.register(run.pidfd, select.POLLIN)
            if not poller.poll(None if timeout is None else math.ceil(timeout * 1000)):
                return False
            if run.proc is not None:
                run.proc.wait()  # reap it
            return True
        if run.proc is not None:  # no pidfd: Popen.wait polls, but only with a timeout
            try:
                run.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                return False
            return True
        if run.server is not None:  # forked, and ended before its pidfd could be opened
            return run.server.wait_exit(run.pid, timeout)
        return True  # adopted without a pidfd cannot happen; treat it as ended

    @staticmethod
    def _exit_code(run: _Run) -> int | None:
        """The ended process's exit code as ``Popen.returncode``; None when unknown (adopted, or
        its fork server died before reaping it)."""
        if run.proc is not None:
            return run.proc.returncode
        if run.server is not None:
            return run.server.exit_code(run.pid)
        return None

    def _outcome(self, run: _Run) -> ExecResult:
        spec = run.spec
        result = _read_result(spec)  # the process has ended: its result, if any, is whole
        if result is not None:  # it finished (even if a kill was on its way)
            if run.proc is None and run.server is not None:
                run.server.forget(run.pid)  # no need to wait for the server to reap it
            return result
        return without_result(spec, self._exit_code(run), cancelled=run.cancelled,
                              timed_out=run.timed_out, lost=LOST_TEXT,
                              log=f"its log: {spec.log_path}")

    # -- stopping -----------------------------------------------------------------------------

    def _kill(self, run: _Run) -> threading.Thread:
        with self._lock:
            if run.killer is None:
                run.killer = threading.Thread(target=kill_tree, args=(run.pid, self.kill_grace),
                                              daemon=True, name=f"kill-{run.spec.run_id}")
                run.killer.start()
            return run.killer

    def cancel(self, run_id: str) -> None:
        with self._lock:
            run = self._runs.get(run_id)
            if run is None:
                return
            run.cancelled = True
        self._kill(run)

    def running(self) -> list[str]:
        with self._lock:
            return list(self._runs)

    def health(self) -> dict[str, Any]:
        """For the board's health strip (no I/O): ``mode`` ``fork`` (``alive``: a fork server is
        running; a dead one is replaced at the next run) or ``spawn`` (runs are spawned, which
        always works), and ``runs``: the run processes being watched."""
        with self._lock:
            alive = any(server.alive for server in self._servers.values())
            runs = len(self._runs)
            given_up = any(n >= FORK_FAILURES_BEFORE_SPAWNING for n in self._failures.values())
        if not self.fork or (given_up and not alive):
            return {"name": self.name, "mode": "spawn", "alive": True, "runs": runs}
        return {"name": self.name, "mode": "fork", "alive": alive, "runs": runs}

    def _stop_server(self, project_dir: str) -> None:
        with self._lock:
            server = self._servers.pop(project_dir, None)
        if server is not None:
            server.stop()

    def close(self) -> None:
        """Stop the fork servers; runs go on executing (a scheduler that stops leaves them for
        its successor to adopt)."""
        for project_dir in list(self._servers):
            self._stop_server(project_dir)

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            with self._lock:
                run.cancelled = True
            self._kill(run).join()
        self.close()


LOST_TEXT = ("the run's process ended without a result (it died, or was killed while the "
             "scheduler was down)")


def _lost(spec: RunSpec) -> ExecResult:
    return lost_result(spec, LOST_TEXT)


def _pid_file(spec: RunSpec) -> int:
    try:
        return int((Path(spec.run_dir) / "pid").read_text())
    except (OSError, ValueError):
        return 0
