"""The default executor: each run in its own process (its own session, so that cancelling it
reaches everything it started), logs captured to a file, a timeout, SIGTERM then SIGKILL."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from andon.executors.base import ExecResult, Report, RunSpec


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_run_process(pid: int, spec: RunSpec) -> bool:
    """Guard against pid reuse: the process must be our child entry point for this run."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return str(Path(spec.run_dir) / "spec.json").encode() in cmdline


def _kill_group(pid: int, grace: float) -> None:
    """SIGTERM the run's process group, then SIGKILL whatever is left after ``grace`` s."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.02)


def _read_result(spec: RunSpec) -> ExecResult | None:
    try:
        return ExecResult.from_json(spec.result_path.read_text())
    except (OSError, ValueError):
        return None


class LocalProcessExecutor:
    """Runs each RunSpec as ``python -m andon.executors.child``; a waiting thread per run (it
    sleeps in ``wait``: no polling) reports the outcome."""

    name = "local"

    def __init__(self, kill_grace: float = 10.0, python: str = sys.executable) -> None:
        self.kill_grace = kill_grace
        self.python = python
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._cancelled: set[str] = set()
        self._lock = threading.Lock()

    def start(self, spec: RunSpec, report: Report) -> int:
        run_dir = Path(spec.run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        spec_path = run_dir / "spec.json"
        spec = RunSpec(**{**spec.__dict__, "spawned_at": time.time()})
        spec_path.write_text(spec.to_json())
        spec.result_path.unlink(missing_ok=True)
        with spec.log_path.open("ab") as log:
            proc = subprocess.Popen(
                [self.python, "-m", "andon.executors.child", str(spec_path)],
                cwd=spec.project_dir, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        (run_dir / "pid").write_text(str(proc.pid))  # found again after a scheduler crash
        with self._lock:
            self._procs[spec.run_id] = proc
        threading.Thread(target=self._wait, args=(spec, proc, report), daemon=True,
                         name=f"wait-{spec.run_id}").start()
        return proc.pid

    def _wait(self, spec: RunSpec, proc: subprocess.Popen[bytes], report: Report) -> None:
        timed_out = False
        try:
            proc.wait(timeout=spec.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid, self.kill_grace)
            proc.wait()
        with self._lock:
            self._procs.pop(spec.run_id, None)
            cancelled = spec.run_id in self._cancelled
            self._cancelled.discard(spec.run_id)
        report(self._outcome(spec, proc.returncode, timed_out, cancelled))

    def _outcome(self, spec: RunSpec, code: int | None, timed_out: bool,
                 cancelled: bool) -> ExecResult:
        result = _read_result(spec)
        if cancelled:
            return ExecResult(spec.run_id, False, code, "Cancelled", "cancelled on request",
                              cancelled=True)
        if timed_out:
            return ExecResult(spec.run_id, False, code, "Timeout",
                              f"the run exceeded its timeout of {spec.timeout:g}s")
        if result is not None:
            return result
        if code is not None and code < 0:
            return ExecResult(spec.run_id, False, code, "Killed",
                              f"the process was killed by signal {-code}")
        return ExecResult(spec.run_id, False, code, "ExitCode",
                          f"the process exited with code {code} without a result")

    def cancel(self, run_id: str) -> None:
        with self._lock:
            proc = self._procs.get(run_id)
            if proc is None:
                return
            self._cancelled.add(run_id)
        threading.Thread(target=_kill_group, args=(proc.pid, self.kill_grace), daemon=True).start()

    def recover(self, spec: RunSpec, pid: int, report: Report) -> None:
        """The scheduler restarted while this run was executing. If its process still runs,
        adopt it (wait on a pidfd: no polling) and report when it ends; otherwise report its
        result, or that it was lost."""
        if pid and _alive(pid) and _is_run_process(pid, spec):
            try:
                fd = os.pidfd_open(pid)
            except OSError:
                fd = -1
            if fd >= 0:
                threading.Thread(target=self._wait_adopted, args=(spec, fd, report),
                                 daemon=True, name=f"adopt-{spec.run_id}").start()
                return
        report(self._lost(spec))

    def _wait_adopted(self, spec: RunSpec, fd: int, report: Report) -> None:
        try:
            select.select([fd], [], [])
        finally:
            os.close(fd)
        report(self._lost(spec))

    def _lost(self, spec: RunSpec) -> ExecResult:
        result = _read_result(spec)
        if result is not None:
            return result
        return ExecResult(spec.run_id, False, None, "ProcessLost",
                          "the run's process ended without a result (it died, or the scheduler "
                          "stopped while it ran)")

    def running(self) -> list[str]:
        with self._lock:
            return list(self._procs)

    def shutdown(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _kill_group(proc.pid, self.kill_grace)
