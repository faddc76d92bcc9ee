"""The default executor: each run in its own process (its own session, so that cancelling it
reaches everything it started), logs captured to a file, a timeout, SIGTERM then SIGKILL.

A thread per run sleeps on the process's pidfd until it ends or its timeout passes: nothing polls
while runs execute. The child (``andon.executors.child``) writes its pid and, at the end, its
result next to its spec, so a scheduler restarted after ``kill -9`` finds every run again: it
adopts a process that still runs (waiting on a pidfd, as for its own) and reads the result of one
that ended meanwhile.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from andon.executors.base import ExecResult, Report, RunSpec
from andon.executors.child import write_atomic

log = logging.getLogger("andon.executors.local")
_CHILD_MODULE = "andon.executors.child"


def _spec_path(spec: RunSpec) -> Path:
    return Path(spec.run_dir) / "spec.json"


def _is_run_process(pid: int, spec: RunSpec) -> bool:
    """Guard against pid reuse: the process must be our child entry point for this run."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return _CHILD_MODULE.encode() in args and str(_spec_path(spec)).encode() in args


def _find_run_process(spec: RunSpec) -> int:
    """Scan /proc once for the run's process (used at recovery only, when no pid was recorded
    because the scheduler died between spawning the process and writing the pid down)."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return 0
    for name in names:
        if name.isdigit() and _is_run_process(int(name), spec):
            return int(name)
    return 0


def _group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``. ``killpg(pgid, 0)`` alone is
    not enough: where the init process does not reap orphans, a dead grandchild stays a zombie
    of the group for ever."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    except PermissionError:
        pass
    try:
        names = os.listdir("/proc")
    except OSError:
        return [pgid]  # no /proc: trust killpg
    members = []
    for name in names:
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(name))
    return members


def _kill_group(pgid: int, grace: float) -> None:
    """SIGTERM the run's process group, then SIGKILL whatever is left after ``grace`` s. The
    short sleeps below happen only while a kill is in progress."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pgid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while _group_members(pgid):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.02)
        else:
            return


def _read_result(spec: RunSpec) -> ExecResult | None:
    try:
        return ExecResult.from_json(spec.result_path.read_text())
    except (OSError, ValueError, TypeError):
        return None


def _pidfd(pid: int) -> int:
    try:
        return os.pidfd_open(pid)
    except (OSError, AttributeError):  # gone already, or a kernel without pidfd
        return -1


@dataclass
class _Run:
    """A run this executor watches: one it started (``proc``) or adopted after a restart."""

    spec: RunSpec
    pid: int
    report: Report
    proc: subprocess.Popen[bytes] | None = None
    pidfd: int = -1
    cancelled: bool = False
    timed_out: bool = False
    killer: threading.Thread | None = None


class LocalProcessExecutor:
    """Runs each RunSpec as ``python -m andon.executors.child RUN_DIR/spec.json``."""

    name = "local"

    def __init__(self, kill_grace: float = 10.0, python: str = sys.executable) -> None:
        self.kill_grace = kill_grace
        self.python = python
        self._runs: dict[str, _Run] = {}
        self._lock = threading.Lock()

    # -- starting and adopting ----------------------------------------------------------------

    def start(self, spec: RunSpec, report: Report) -> int:
        run_dir = Path(spec.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = dataclasses.replace(spec, spawned_at=time.time())
        for name in ("result.json", "pid"):
            (run_dir / name).unlink(missing_ok=True)
        write_atomic(_spec_path(spec), spec.to_json())
        with spec.log_path.open("ab") as log_file:
            proc = subprocess.Popen(
                [self.python, "-m", _CHILD_MODULE, str(_spec_path(spec))],
                cwd=spec.project_dir, stdout=log_file, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        self._watch(_Run(spec, proc.pid, report, proc, _pidfd(proc.pid)))
        return proc.pid

    def recover(self, spec: RunSpec, pid: int, report: Report) -> bool:
        """Adopt the run's process if it still runs, else report its result, or that it was
        lost; False when the run never began (no spec written, or the child never started)."""
        if not _spec_path(spec).exists():
            return False
        with contextlib.suppress(OSError, ValueError, TypeError):
            spec = RunSpec.from_json(_spec_path(spec).read_text())  # with its spawn time
        candidates = [pid, _pid_file(spec)]
        found = next((p for p in candidates if p and _is_run_process(p, spec)), 0)
        found = found or _find_run_process(spec)
        if found:
            fd = _pidfd(found)
            if fd >= 0 and _is_run_process(found, spec):  # still ours once the fd pins it
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
            result = ExecResult(run.spec.run_id, False, None, "ProcessLost",
                                f"andon lost track of the run's process: {exc}")
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
            ready, _, _ = select.select([run.pidfd], [], [], timeout)
            if not ready:
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
        return True  # adopted without a pidfd cannot happen; treat it as ended

    def _outcome(self, run: _Run) -> ExecResult:
        spec = run.spec
        result = _read_result(spec)
        if result is not None:  # it finished (even if a kill was on its way)
            return result
        code = run.proc.returncode if run.proc is not None else None
        if run.cancelled:
            return ExecResult(spec.run_id, False, code, "Cancelled", "cancelled on request",
                              cancelled=True)
        if run.timed_out:
            return ExecResult(spec.run_id, False, code, "Timeout",
                              f"the run exceeded its timeout of {spec.timeout:g}s and was killed")
        if run.proc is None:
            return _lost(spec)
        if code is not None and code < 0:
            return ExecResult(spec.run_id, False, code, "Killed",
                              f"the process was killed by signal {-code} "
                              f"({signal.Signals(-code).name})")
        return ExecResult(spec.run_id, False, code, "ExitCode",
                          f"the process exited with code {code} without a result "
                          f"(see its log: {spec.log_path})")

    # -- stopping -----------------------------------------------------------------------------

    def _kill(self, run: _Run) -> threading.Thread:
        with self._lock:
            if run.killer is None:
                run.killer = threading.Thread(target=_kill_group, args=(run.pid, self.kill_grace),
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

    def shutdown(self) -> None:
        with self._lock:
            runs = list(self._runs.values())
        for run in runs:
            with self._lock:
                run.cancelled = True
            self._kill(run).join()


def _lost(spec: RunSpec) -> ExecResult:
    return ExecResult(spec.run_id, False, None, "ProcessLost",
                      "the run's process ended without a result (it died, or was killed while "
                      "the scheduler was down)")


def _pid_file(spec: RunSpec) -> int:
    try:
        return int((Path(spec.run_dir) / "pid").read_text())
    except (OSError, ValueError):
        return 0
