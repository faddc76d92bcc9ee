"""The executor's side of a fork server (``andon.executors.forkserver``): start it, ask it to fork
a run, learn how each forked process ended.

A reader thread sleeps on the server's stdout and hands each line to whoever waits for it: the
pid of a run being started (answers come in the order of the requests) or the exit code of a run
that ended. When the server dies, every waiter is woken: a start that got no pid fails (and
provably ran nothing), an exit code becomes unknown.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO

from andon.executors.processes import SERVER_MODULE

log = logging.getLogger("andon.executors.forkserver")
_RUNNING = object()  # an exit code not reported yet


class ForkFailed(Exception):
    """The fork server did not start the run (spawn it instead). ``kind``: ``failed`` (this
    fork failed; the server goes on), ``refused`` (forking is unsafe for this project), ``gone``
    (the server exited, or hung and was killed)."""

    def __init__(self, message: str, kind: str = "gone") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class _Answer:
    run_id: str
    done: bool = False
    pid: int = 0
    kind: str = ""
    reason: str = ""


class ForkServer:
    """One fork server process for ``project_dir``, started with ``python``."""

    def __init__(self, project_dir: str, python: str, env: Mapping[str, str] | None = None,
                 tied: bool = False) -> None:
        """``env``: the server's own environment (scrubbed by the caller; None: this
        process's). ``tied``: its runs end when it ends (``forkserver --tied``), which it does
        when this process closes its stdin or dies."""
        self.project_dir = project_dir
        self.proc = subprocess.Popen(
            [python, "-m", SERVER_MODULE, project_dir, *(["--tied"] if tied else [])],
            cwd=project_dir, env=env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True)
        self.alive = True
        self._cond = threading.Condition()
        self._write = threading.Lock()  # keeps the answers' queue in the order of the requests
        self._answers: deque[_Answer] = deque()
        self._exits: dict[int, object] = {}  # pid -> exit code, _RUNNING, or None (unknown)
        threading.Thread(target=self._read, daemon=True,
                         name=f"forkserver-{self.proc.pid}").start()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def fork(self, run_id: str, spec: str, log_path: str, timeout: float | None,
             env: Mapping[str, str] | None = None) -> int:
        """Have the server fork the run's process, with environment ``env`` (None: the
        server's); its pid, once it is in its own session."""
        answer = _Answer(run_id)
        request: dict[str, object] = {"run_id": run_id, "spec": spec, "log": log_path}
        if env is not None:
            request["env"] = dict(env)
        line = json.dumps(request) + "\n"
        stdin: IO[bytes] | None = self.proc.stdin
        with self._write:
            with self._cond:
                if not self.alive or stdin is None or stdin.closed:
                    raise ForkFailed("the fork server has exited, or is stopping")
                self._answers.append(answer)
            try:
                stdin.write(line.encode())
                stdin.flush()
            except (OSError, ValueError):
                pass  # it died: the reader wakes the answer up
        with self._cond:
            answered = self._cond.wait_for(lambda: answer.done, timeout)
        if not answered:  # hung (a definitions module that never finishes importing?)
            self.stop(kill=True)
            raise ForkFailed(f"the fork server did not answer within {timeout:g}s")
        if answer.kind == "started":
            return answer.pid
        raise ForkFailed(answer.reason or "the fork server exited", answer.kind or "gone")

    def wait_exit(self, pid: int, timeout: float | None) -> bool:
        """Sleep until process ``pid`` (forked here) ended, or ``timeout`` s passed (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._exits.get(pid) is not _RUNNING, timeout)

    def exit_code(self, pid: int) -> int | None:
        """How process ``pid`` (forked here) ended, like ``Popen.returncode``; waits for the
        server to reap it. None when the server died first."""
        with self._cond:
            self._cond.wait_for(lambda: self._exits.get(pid) is not _RUNNING)
            code = self._exits.pop(pid, None)
        return code if isinstance(code, int) else None

    def forget(self, pid: int) -> None:
        """Stop keeping process ``pid``'s exit code (its run's result told how it ended): one
        wake-up of the server and of this client less per run."""
        with self._cond:
            self._exits.pop(pid, None)

    def stop(self, kill: bool = False) -> None:
        """End the server (runs it forked go on in their own sessions)."""
        with self._write:
            if self.proc.stdin is not None and not self.proc.stdin.closed:
                with contextlib.suppress(OSError):
                    self.proc.stdin.close()  # it exits when its stdin ends
        if kill and self.proc.poll() is None:
            self.proc.kill()

    # -- the reader thread ----------------------------------------------------------------------

    def _read(self) -> None:
        assert self.proc.stdout is not None
        try:
            for raw in self.proc.stdout:
                try:
                    self._dispatch(raw.decode().rstrip("\n").split(" ", 2))
                except Exception:
                    log.exception("fork server %d said something unexpected: %r", self.pid, raw)
        finally:
            self.proc.stdout.close()
            code = self.proc.wait()
            with self._cond:
                self.alive = False
                for answer in self._answers:
                    answer.done = True
                self._answers.clear()
                for pid, state in self._exits.items():
                    if state is _RUNNING:
                        self._exits[pid] = None
                self._cond.notify_all()
            self.stop()
            log.debug("fork server %d for %s exited with code %s", self.pid, self.project_dir, code)

    def _dispatch(self, words: list[str]) -> None:
        kind = words[0]
        with self._cond:
            if kind == "exited":
                pid = int(words[1])
                if pid in self._exits:
                    self._exits[pid] = int(words[2])
                    self._cond.notify_all()
                return
            answer = self._answers.popleft()
            if answer.run_id != words[1]:
                log.error("fork server answered for %s while %s was asked", words[1], answer.run_id)
            answer.kind, answer.done = kind, True
            if kind == "started":
                answer.pid = int(words[2])
                self._exits[answer.pid] = _RUNNING
            else:
                answer.reason = words[2] if len(words) > 2 else ""
            self._cond.notify_all()
