"""Fork servers on a Dask worker: the worker's runs are forked from a warm process, as the local
executor's are, instead of each paying for a fresh interpreter, andon's imports and the project's.

``ForkServerPlugin`` is a Dask ``WorkerPlugin`` the Dask executor registers on every worker
(present and future; ``distributed`` is imported here, and this module only where Dask runs).
The worker owns it: on a worker's first run of a project it starts that project's fork server
(``andon.executors.forkserver --tied``, the local executor's own, through ``forkclient``), which
loads andon and the project once; later runs of the project on that worker are forked from it.
The server is tied to its worker: it exits when the worker closes (the plugin's ``teardown``
closes its stdin) or dies (the kernel closes the pipe: no timer), and its runs end with it
(``PR_SET_PDEATHSIG`` in each, and their process groups killed), so a killed worker's runs are
lost with it, never left running beside their retry.

When forking fails the run is spawned (``python -m andon.executors.child``), as the local
executor does: a project whose definitions start threads at import is refused by its server and
spawned from then on; a server that dies or hangs is replaced at the next run, until
``FORK_FAILURES_BEFORE_SPAWNING`` servers in a row failed the project.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from collections.abc import Mapping
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

from andon.executors.environment import base_environment
from andon.executors.forkclient import ForkFailed, ForkServer
from andon.executors.local import FORK_FAILURES_BEFORE_SPAWNING
from andon.executors.processes import pidfd_works

log = logging.getLogger("andon.executors.daskfork")
PLUGIN_NAME = "andon-fork-servers"
START_TIMEOUT = 120.0  # seconds for a server to load the project and answer (else: spawn)


class ForkServerPlugin(WorkerPlugin):
    """The fork servers of one worker, by project folder, started on first use."""

    name = PLUGIN_NAME
    idempotent = True  # a second andon (a restart, a standby) keeps the worker's warm servers

    def __init__(self, start_timeout: float = START_TIMEOUT) -> None:
        self.start_timeout = start_timeout
        self.can_fork = pidfd_works()  # a forked run is watched through its pidfd
        self._servers: dict[str, ForkServer] = {}
        self._failures: dict[str, int] = {}  # project -> servers in a row that failed it
        self._lock = threading.Lock()
        self._closed = False

    # sent to the workers without its servers and lock (which are each worker's own)
    def __getstate__(self) -> dict[str, Any]:
        return {"start_timeout": self.start_timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def teardown(self, worker: Any) -> None:
        """The worker closes: stop its servers (they end their runs and exit)."""
        self.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()

    def fork(self, run_id: str, project_dir: str, spec: str, log_path: str,
             env: Mapping[str, str]) -> tuple[ForkServer, int] | None:
        """The run forked by its project's server on this worker (the server and the pid), or
        None: spawn it instead."""
        if not self.can_fork or self._failures.get(project_dir, 0) >= FORK_FAILURES_BEFORE_SPAWNING:
            return None
        try:
            server = self._server(project_dir)
            if server is None:
                return None  # the worker is closing
            pid = server.fork(run_id, spec, log_path, self.start_timeout, env)
        except (ForkFailed, OSError) as exc:
            kind = exc.kind if isinstance(exc, ForkFailed) else "gone"
            with self._lock:
                if kind != "failed":  # refused, dead or hung: a new one for the next run
                    gone = self._servers.pop(project_dir, None)
                    if gone is not None:
                        gone.stop()
                failures = (FORK_FAILURES_BEFORE_SPAWNING if kind == "refused"
                            else self._failures.get(project_dir, 0) + 1)
                self._failures[project_dir] = failures
            log.warning("spawning run %s on this worker: %s", run_id, exc)
            return None
        self._failures.pop(project_dir, None)
        return server, pid

    def _server(self, project_dir: str) -> ForkServer | None:
        with self._lock:
            if self._closed:
                return None
            server = self._servers.get(project_dir)
            if server is None or not server.alive:
                with contextlib.suppress(Exception):
                    if server is not None:
                        server.stop()
                # the worker's base environment: each run gets its own over the server's pipe
                server = self._servers[project_dir] = ForkServer(
                    project_dir, sys.executable, base_environment(os.environ), tied=True)
            return server

    def servers(self) -> dict[str, int]:
        """Project folder -> pid of its live server on this worker (for tests and health)."""
        with self._lock:
            return {p: s.pid for p, s in self._servers.items() if s.alive}


def worker_plugin() -> ForkServerPlugin | None:
    """This worker's fork servers, or None (not on a worker, or the plugin is not registered:
    runs are spawned)."""
    try:
        from distributed import get_worker

        plugin = get_worker().plugins.get(PLUGIN_NAME)
    except (ValueError, AttributeError):
        return None
    return plugin if isinstance(plugin, ForkServerPlugin) else None
