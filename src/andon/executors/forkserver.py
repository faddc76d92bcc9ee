"""The fork server: ``python -m andon.executors.forkserver PROJECT_DIR [--tied]``.

A long-lived helper of the local executor, one per project. It pays for the interpreter, andon's
imports and the project's definitions once, and then forks a process for each run, which runs
exactly what ``python -m andon.executors.child`` runs (``child.run_child``) in its own session with
its output going to the run's log. It stays single-threaded (forking a process that has threads is
unsafe) and sleeps in ``select`` between requests and child exits.

The conversation, one line each way (the executor's side is ``andon.executors.forkclient``)::

    stdin   {"run_id": ..., "spec": "RUN_DIR/spec.json", "log": "RUN_DIR/log.txt", "env": {...}}
    stdout  started RUN_ID PID      the run's process is in its own session, its log open
            failed RUN_ID REASON    this run could not be forked (spawn it instead)
            refused RUN_ID REASON   forking is unsafe in this project (spawn from now on)
            exited PID CODE         a run's process ended (CODE as ``Popen.returncode``)

The server starts with a scrubbed environment (``environment.base_environment``: no ANDON_*
variable, no secret); each forked process replaces its ``os.environ`` with its run's own
(``env``, which carries the run's declared secrets over the pipe, never through a file) before
any user code runs.

The server forks each run's process ahead, while it is idle: a spare process, in its own session
already, waits on a socket for its run (spec, log, environment), so that neither the fork nor
the new process's wait for a core is on a run's path. A spare forked from a project that changed
since is let go (it exits, having run nothing), as is one whose server ends.

A forked process runs no user code until the server has told the executor its pid ("go"): if
the server dies in between, the process exits at once and the run provably never began, so it
may be started again. It keeps its spec open so that a successor scheduler can tell it from a
process that merely reuses its pid (``processes.is_run_process``).

With ``--tied`` (the Dask executor's, one per worker: ``daskfork``) the runs end with the
server: each forked process gets SIGKILL when the server dies (``PR_SET_PDEATHSIG``), and a server
whose stdin ends (its worker exited, or was killed) kills its runs' process groups before it
exits. Without it (the local executor's), runs go on in their own sessions, for the scheduler or
its successor to adopt.

The project is loaded again when one of its files changed since the last load (one ``stat`` a
file per fork), so that an edited ``pipelines.py`` takes effect on the next run, as it does when
each run loads the project itself.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

from andon.executors import (  # noqa: F401  (imported once here, not per run)
    child,
    environment,
    execute,
    logcap,
    tree,
)

with contextlib.suppress(OSError):  # loaded here once, not in every run's process
    tree.libc()
Signature = tuple[int, int, int] | None  # (mtime ns, size, inode); None when missing


def _signature(path: str) -> Signature:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, st.st_ino


class LoadedProject:
    """The project as this process last loaded it, or the error loading it raised (a run then
    fails with that error, as it would have when loading the project itself)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.functions: dict[str, Callable[..., Any] | None] = {}
        self.error: BaseException | None = None
        self._files: dict[str, Signature] = {}
        self._modules: list[str] = []  # the project's own modules, dropped before a reload
        self.load()

    def load(self) -> None:
        from andon.project.load import PROJECT_FILE, load_project, read_config

        for name in self._modules:
            sys.modules.pop(name, None)
        before = set(sys.modules)
        try:
            graph = load_project(self.root).graph
            self.functions, self.error = {n: p.fn for n, p in graph.pipelines.items()}, None
        except BaseException as exc:  # even sys.exit() in a definitions module fails the runs only
            self.functions, self.error = {}, exc
        self._modules = [n for n in set(sys.modules) - before if self._ours(sys.modules[n])]
        files = [str(self.root / PROJECT_FILE)]
        try:
            modules = read_config(self.root).get("project", {}).get("definitions", ["pipelines.py"])
            files += [str(self.root / m) for m in ([modules] if isinstance(modules, str) else modules)]
        except Exception:  # andon.toml unreadable: its own change brings the next load
            pass
        files += [str(getattr(sys.modules[n], "__file__", "")) for n in self._modules]
        self._files = {f: _signature(f) for f in files}

    def _ours(self, module: ModuleType | None) -> bool:
        """A module of the project folder (a helper its definitions import), not a library."""
        file = getattr(module, "__file__", None)
        if not file:
            return False
        path = Path(file).resolve()
        return path.is_relative_to(self.root) and "site-packages" not in path.parts

    def refresh(self) -> bool:
        """Load the project again if one of its files changed since the last load."""
        if any(_signature(f) != sig for f, sig in self._files.items()):
            self.load()
            return True
        return False

    def resolve(self, pipeline: str) -> Callable[..., Any]:
        if self.error is not None:
            raise self.error
        return child.function_of(self.functions[pipeline], pipeline)


class _Gone(Exception):
    """The executor stopped listening: nobody would learn of the runs forked from now on."""


def _noop(signum: int, frame: Any) -> None:
    """SIGCHLD only has to wake ``select`` (through the wake-up pipe); reaping happens there."""


class Server:
    def __init__(self, project_dir: str, tied: bool = False) -> None:
        # private copies of the conversation's pipes; stray prints (a definitions module that
        # prints while imported) go to stderr, and nothing reads the scheduler's requests
        self.requests, self.replies = os.dup(0), os.dup(1)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.dup2(2, 1)
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)
        os.set_blocking(self.wake_r, False)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the scheduler decides when this ends
        self.tied = tied
        self.children: set[int] = set()  # forked runs not reaped yet
        self.spare: tuple[int, socket.socket] | None = None  # forked ahead, waiting for a run
        self.let_go: set[int] = set()  # spares dropped (the project changed), not reaped yet
        self._catch_children()
        self.project = LoadedProject(Path(project_dir))
        self._catch_children()  # again: a definitions module may have changed it

    def _catch_children(self) -> None:
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, _noop)

    def serve(self) -> int:
        """Fork a run per request and report the ends of runs, until stdin closes (or stdout:
        the scheduler stopped). The runs go on in their own sessions."""
        with contextlib.suppress(_Gone):
            self._loop()
        if self.tied:  # the worker is gone: so are its runs (and what they started)
            for pid in self.children:
                with contextlib.suppress(OSError):
                    os.killpg(pid, signal.SIGKILL)
        return 0

    def _loop(self) -> None:
        pending = b""
        while True:
            if self.spare is None and not pending:
                self._fork_spare()
            ready, _, _ = select.select([self.requests, self.wake_r], [], [])
            if self.wake_r in ready:
                while True:
                    try:
                        if not os.read(self.wake_r, 512):
                            break
                    except BlockingIOError:
                        break
                self._reap()
            if self.requests in ready:
                data = os.read(self.requests, 65536)
                if not data:
                    return
                pending += data
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    self._handle(line)

    def _say(self, line: str) -> None:
        try:
            os.write(self.replies, (line + "\n").encode())  # short: one atomic write
        except BrokenPipeError:
            raise _Gone() from None

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            self.children.discard(pid)
            if self.spare is not None and self.spare[0] == pid:  # died waiting: fork another
                self.spare[1].close()
                self.spare = None
                continue
            if pid in self.let_go:  # a spare never given a run: nobody asked about it
                self.let_go.discard(pid)
                continue
            self._say(f"exited {pid} {os.waitstatus_to_exitcode(status)}")

    def _handle(self, line: bytes) -> None:
        """Answer one request with exactly one line: started, failed or refused."""
        run_id = "?"
        try:
            request = json.loads(line)
            run_id = str(request["run_id"])
            if self.project.refresh():
                self._drop_spare()  # forked from the project as it was
                self._catch_children()  # a definitions module may have changed it
            if threading.active_count() > 1:
                self._say(f"refused {run_id} the project's definitions start threads when "
                          "imported, and forking a process with threads is unsafe")
                return
            spec, log = str(request["spec"]), str(request["log"])
            env = request.get("env")  # None: the server's own
            env = None if env is None else {str(k): str(v) for k, v in dict(env).items()}
        except Exception as exc:
            traceback.print_exc()
            self._say(f"failed {run_id} {type(exc).__name__}: {exc}".replace("\n", " "))
            return
        try:
            self._fork(run_id, spec, log, env)
        except OSError as exc:  # fork() itself failed (no memory, too many processes)
            self._say(f"failed {run_id} {type(exc).__name__}: {exc}".replace("\n", " "))

    def _fork(self, run_id: str, spec: str, log: str, env: dict[str, str] | None) -> None:
        """Hand the run to the spare process (forked while the server was idle), or to one
        forked now: the fork's cost, and the new process's wait for a core, are then off the
        run's path."""
        request = (json.dumps({"spec": spec, "log": log, "env": env}) + "\n").encode()
        spare, self.spare = self.spare, None
        if spare is not None:
            try:
                spare[1].sendall(request)
            except OSError:  # it died meanwhile (its exit is reaped as a spare's)
                spare[1].close()
                spare = None
        if spare is None:
            spare = self._fork_waiting()
            spare[1].sendall(request)
        pid, ours = spare
        with ours:
            with contextlib.suppress(OSError):
                ours.recv(1)  # "ready"; nothing when it died first ("exited" follows)
            self._say(f"started {run_id} {pid}")
            with contextlib.suppress(OSError):
                ours.sendall(b"g")

    def _fork_spare(self) -> None:
        """Fork the next run's process ahead (none while threads run: forking would be unsafe,
        and the next request is refused anyway)."""
        if threading.active_count() > 1:
            return
        with contextlib.suppress(OSError):  # no memory, too many processes: fork on demand
            self.spare = self._fork_waiting()

    def _drop_spare(self) -> None:
        """Let the spare go: it exits, no run given (its end is reaped as a spare's)."""
        if self.spare is not None:
            pid, sock = self.spare
            self.spare = None
            sock.close()  # it reads the end of its socket and exits
            self.let_go.add(pid)

    def _fork_waiting(self) -> tuple[int, socket.socket]:
        """A new process waiting on its socket for a run (``_child``); its pid and socket."""
        sys.stdout.flush()
        sys.stderr.flush()
        ours, theirs = socket.socketpair()
        try:
            pid = os.fork()
            if pid == 0:
                ours.close()
                self._child(theirs)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.children.add(pid)
        return pid, ours

    def _child(self, sock: socket.socket) -> NoReturn:
        """A run's process: waits for its run (its spec, log and environment: one line on
        ``sock``; the end of the socket, the server gone or the spare let go: it exits having
        run nothing), then runs it. Never returns into the server's loop."""
        code = 70
        try:
            os.setsid()  # its own session and process group: a kill reaches all it starts
            if self.tied:  # before "ready": a server that dies from here on takes it along
                _die_with_parent()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            for fd in (self.requests, self.replies, self.wake_r, self.wake_w):
                os.close(fd)
            line = b""
            while not line.endswith(b"\n"):
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    os._exit(0)  # no run for it
                line += chunk
            request = json.loads(line)
            spec, log, env = str(request["spec"]), str(request["log"]), request["env"]
            os.open(spec, os.O_RDONLY | os.O_CLOEXEC)  # held for life: who this process is
            out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o644)
            os.dup2(out, 1)
            os.dup2(out, 2)
            os.close(out)
            go = b""
            with contextlib.suppress(OSError):
                sock.sendall(b"r")
                go = sock.recv(1)
            if go != b"g":
                os._exit(0)  # the server died before the executor knew us: never began
            sock.close()
            if env is not None:  # the run's environment, and nothing of the server's
                os.environ.clear()
                os.environ.update(env)
            sys.argv = [str(child.__file__), spec]
            _reseed()
            code = child.run_child(spec, self.project.resolve)
            _exit_as_python_does()
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)


def _die_with_parent() -> None:
    """SIGKILL to this process when the server (its parent, single-threaded) dies."""
    pr_set_pdeathsig = 1
    tree.libc().prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)


def _reseed() -> None:
    """Forked processes share their parent's random state. ``random`` reseeds itself after a
    fork; numpy's global generator, which a process of its own would have seeded afresh, does
    not."""
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed()


def _exit_as_python_does() -> None:
    """What a process of its own does at the end of ``main``: wait for the threads user code
    left running, run the exit handlers, flush the output."""
    for thread in threading.enumerate():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()


def main(project_dir: str, tied: bool = False) -> int:
    return Server(project_dir, tied).serve()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], "--tied" in sys.argv[2:]))
