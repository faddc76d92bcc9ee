"""What runs on a Dask worker for the Dask executor (``andon.executors.dask``): one run, in a
process of its own.

``run_task`` is the Dask task of one run. It runs the run the way the local executor does: forked
from the worker's warm fork server of the project (``daskfork``), or, when that is not possible,
spawned as ``python -m andon.executors.child SPEC``; either runs the same ``child``/``execute``
code (pid file, subreaper, the log through the secret-masking ``LogPump``, ``result.json``), in a
folder of the worker's own (the scheduler's state folder need not be shared), and waits on the process's pidfd
and on a cancel pipe: nothing polls. The run's ``log.txt`` there is a FIFO that this module reads
as the child writes it and sends on, chunk by chunk, as Dask events on the ``andon-log`` topic
(``Worker.log_event``) to andon, which caps it into the run's real ``log.txt``; what leaves the
worker is already masked. The task returns the run's ``ExecResult`` (JSON) and how many log
bytes it sent, so andon can write the whole log before it reports the run.

Cancel and timeout end the run's whole tree (``tree.kill_tree``). The run's process gets SIGKILL
when the worker dies (a spawned one through ``PR_SET_PDEATHSIG``, a forked one with its fork
server, which dies with the worker), so a run whose worker was killed does not go on beside its
retry. ``cancel_runs`` is what andon broadcasts to the workers to cancel a run (or to end one a
restarted andon cannot follow): it remembers the run id, so a task of it that starts later ends
at once.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import math
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.executors.base import ExecResult, RunSpec
from andon.executors.child import write_atomic
from andon.executors.ended import without_result
from andon.executors.environment import base_environment
from andon.executors.forkclient import ForkServer
from andon.executors.processes import CHILD_MODULE, pidfd, spec_path
from andon.executors.tree import kill_tree

LOG_TOPIC = "andon-log"  # one topic for every run: the scheduler keeps a bounded deque per topic
CHUNK = 16_384  # bytes per log event (the scheduler keeps the latest 1,000 events of a topic)
REMEMBERED = 10_000  # cancelled run ids a worker remembers
PR_SET_PDEATHSIG = 1


@dataclass
class _Active:
    """A run executing on this worker."""

    run_id: str
    cancel_r: int
    cancel_w: int
    cancelled: bool = False
    pid: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


_active: dict[str, _Active] = {}
_cancelled: OrderedDict[str, None] = OrderedDict()
_lock = threading.Lock()


def cancel_runs(run_ids: list[str]) -> list[str]:
    """Cancel ``run_ids`` on this worker (run through ``Client.run`` on every worker): wake the
    task of each one executing here (it ends the run's tree), and remember them so a task that
    starts later ends at once. Returns the ids that were executing here. Never blocks."""
    found = []
    with _lock:
        for run_id in run_ids:
            _cancelled[run_id] = None
            _cancelled.move_to_end(run_id)
            while len(_cancelled) > REMEMBERED:
                _cancelled.popitem(last=False)
            active = _active.get(run_id)
            if active is not None:
                active.cancelled = True
                found.append(run_id)
                with contextlib.suppress(OSError):
                    os.write(active.cancel_w, b"x")
    return found


def _prctl() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _prctl()  # looked up before any fork: between fork and exec only the call is made


def _die_with_parent() -> None:
    """In the child, before exec: SIGKILL when the worker's thread that started it ends (the
    worker process dies: the thread waits for the child for as long as it runs)."""
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


class _Forwarder:
    """Reads the FIFO the child writes its log into and sends it on as Dask events."""

    def __init__(self, fifo: Path, run_id: str) -> None:
        self.run_id = run_id
        # a reader first (so the writers' opens do not block), then one writer of ours, the
        # child's stdout until its LogPump opens the FIFO itself: the reader sees EOF only once
        # every writer (the child, what it started) is gone
        self.read_fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        self.write_fd = os.open(fifo, os.O_WRONLY | os.O_CLOEXEC)
        os.set_blocking(self.read_fd, True)
        self.sent = 0
        self.seq = 0
        self.thread = threading.Thread(target=self._copy, daemon=True, name=f"log-{run_id}")
        try:
            from distributed import get_worker

            self._worker: Any = get_worker()
        except (ImportError, ValueError):
            self._worker = None  # not on a worker (a test calling run_task directly)

    def start(self) -> None:
        os.close(self.write_fd)  # the child holds it now
        self.thread.start()

    def _copy(self) -> None:
        try:
            while True:
                try:
                    data = os.read(self.read_fd, CHUNK)
                except InterruptedError:
                    continue
                if not data:
                    return
                self._send(data)
        except OSError:
            return
        finally:
            os.close(self.read_fd)

    def _send(self, data: bytes) -> None:
        self.seq += 1
        self.sent += len(data)
        if self._worker is not None:
            self._worker.log_event(LOG_TOPIC, {"run": self.run_id, "seq": self.seq,
                                               "data": data})

    def finish(self, timeout: float = 5.0) -> int:
        """Wait for the rest of the log (up to ``timeout`` s once the child ended); the bytes
        sent."""
        self.thread.join(timeout)
        return self.sent


def run_task(spec_json: str, declared: dict[str, str], kill_grace: float) -> dict[str, Any]:
    """The Dask task of one run: run ``spec_json`` in a process of its own on this worker, with
    the worker's base environment plus ``declared`` (the pipeline's ``env`` and ``secrets``, from
    andon's environment). Returns ``{"result": ExecResult JSON, "log_bytes": N}``."""
    spec = RunSpec.from_json(spec_json)
    rd, wr = os.pipe2(os.O_CLOEXEC)
    active = _Active(spec.run_id, rd, wr)
    with _lock:
        if spec.run_id in _cancelled:
            active.cancelled = True
        else:
            _active[spec.run_id] = active
    try:
        if active.cancelled:
            return {"result": _cancelled_result(spec).to_json(), "log_bytes": 0}
        return _run(spec, declared, kill_grace, active)
    finally:
        with _lock:
            _active.pop(spec.run_id, None)
        os.close(rd)
        os.close(wr)


@dataclass
class _Process:
    """The run's process on this worker: forked by the worker's fork server (``server``) or
    spawned by this task (``popen``)."""

    pid: int
    popen: subprocess.Popen[bytes] | None = None
    server: ForkServer | None = None

    def wait_exit(self, timeout: float | None) -> bool:
        """Without a pidfd: sleep until it ends (True) or ``timeout`` s pass (False)."""
        if self.server is not None:
            return self.server.wait_exit(self.pid, timeout)
        assert self.popen is not None
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def exit_code(self, finished: bool) -> int | None:
        """Once it ended: its exit code as ``Popen.returncode``; None when its fork server died
        before reaping it. ``finished``: it wrote its result (no need to wait for the code)."""
        if self.popen is not None:
            return self.popen.wait()
        assert self.server is not None
        if finished:
            self.server.forget(self.pid)
            return 0
        return self.server.exit_code(self.pid)


def _start(spec: RunSpec, env: dict[str, str], forwarder: _Forwarder) -> _Process:
    """Fork the run from the worker's fork server of its project (``daskfork``), or spawn it."""
    from andon.executors.daskfork import worker_plugin

    plugin = worker_plugin()
    forked = None if plugin is None else plugin.fork(
        spec.run_id, spec.project_dir, str(spec_path(spec.run_dir)), str(spec.log_path), env)
    if forked is not None:  # the run's process holds its log (the FIFO) open already
        return _Process(forked[1], server=forked[0])
    proc = subprocess.Popen(
        [sys.executable, "-m", CHILD_MODULE, str(spec_path(spec.run_dir))],
        cwd=spec.project_dir, env=env, stdout=forwarder.write_fd,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
        preexec_fn=_die_with_parent)
    return _Process(proc.pid, popen=proc)


def _run(spec: RunSpec, declared: dict[str, str], kill_grace: float,
         active: _Active) -> dict[str, Any]:
    local = Path(tempfile.mkdtemp(prefix=f"andon-{spec.run_id[:64]}-"))
    try:
        # the cap is andon's, where the log is written; masking is the child's, here
        spec = dataclasses.replace(spec, run_dir=str(local), max_log_bytes=0,
                                   spawned_at=time.time())
        write_atomic(spec_path(spec.run_dir), spec.to_json())
        os.mkfifo(spec.log_path, 0o600)
        forwarder = _Forwarder(spec.log_path, spec.run_id)
        env = {**base_environment(os.environ), **declared}
        try:
            proc = _start(spec, env, forwarder)
        finally:
            forwarder.start()
        active.pid = proc.pid
        timed_out = _wait(proc, spec, active)
        if timed_out or active.cancelled:
            kill_tree(proc.pid, kill_grace)
        code = proc.exit_code(spec.result_path.exists())
        sent = forwarder.finish()
        return {"result": _outcome(spec, code, active.cancelled and not timed_out,
                                   timed_out).to_json(), "log_bytes": sent}
    finally:
        shutil.rmtree(local, ignore_errors=True)


def _wait(proc: _Process, spec: RunSpec, active: _Active) -> bool:
    """Sleep until the process ends or a cancel comes (False), or the timeout passes (True)."""
    fd = pidfd(proc.pid)
    poller = select.poll()
    poller.register(active.cancel_r, select.POLLIN)
    if fd >= 0:
        poller.register(fd, select.POLLIN)
    deadline = None if spec.timeout is None else spec.spawned_at + spec.timeout
    try:
        while True:
            if active.cancelled:
                return False
            left = None if deadline is None else deadline - time.time()
            if left is not None and left <= 0:
                return True
            if fd < 0:  # no pidfd (a forked one ended before it could be opened)
                return not proc.wait_exit(left)
            ready = poller.poll(None if left is None else math.ceil(left * 1000))
            if any(r[0] == fd for r in ready):
                return False
    finally:
        if fd >= 0:
            os.close(fd)


def _cancelled_result(spec: RunSpec, code: int | None = None) -> ExecResult:
    return without_result(spec, code, cancelled=True, timed_out=False, lost="", log="")


def _outcome(spec: RunSpec, code: int | None, cancelled: bool, timed_out: bool) -> ExecResult:
    """How the run ended: its ``result.json`` when it wrote one; else why not (as the local
    executor says it)."""
    try:
        return ExecResult.from_json(spec.result_path.read_text())
    except (OSError, ValueError, TypeError):
        pass
    return without_result(spec, code, cancelled=cancelled, timed_out=timed_out,
                          lost="the worker's fork server died under the run (it ended with it)",
                          log="its log")
