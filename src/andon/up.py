"""``andon up``: the scheduler, the executors, the file watcher and the HTTP server, wired."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from andon.clock import Clock, RealClock
from andon.events import Event
from andon.executors.base import Executor
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.project import Project
from andon.runner import Runner
from andon.service import Service
from andon.settings import Settings
from andon.store.sql import Store
from andon.web.auth import digest, new_token

log = logging.getLogger("andon.up")


def make_executor(settings: Settings, project: Project) -> Executor:
    if settings.executor == "inprocess":
        def resolve(name: str) -> Any:
            return project.graph.pipelines[name].fn
        return InProcessExecutor(resolve)
    return LocalProcessExecutor(kill_grace=settings.kill_grace)


def ensure_local_token(settings: Settings, store: Store) -> str:
    """The project's local admin token (STATE_DIR/token, mode 600), created on first use."""
    path = settings.state_dir / "token"
    if path.exists():
        token = path.read_text().strip()
        if store.token_role(digest(token)):
            return token
    token = new_token()
    store.add_token(digest(token), "admin", "local", datetime.now(UTC))
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
    return token


@dataclass
class Line:
    """A running andon: runner, service and (once serving) the HTTP address."""

    project: Project
    settings: Settings
    store: Store
    runner: Runner
    service: Service
    clock: Clock
    url: str = ""
    stop_event: threading.Event = field(default_factory=threading.Event)

    def announce(self, asset: str, partition: str, origin: str = "file") -> None:
        self.runner.submit(self.service.notify(asset, partition, self.clock.now(), origin))


def open_line(project: Project, settings: Settings, clock: Clock | None = None,
              executor: Executor | None = None) -> Line:
    """Open the store, recover the state from the log and start the runner thread."""
    clock = clock or RealClock()
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.database_url)
    runner = Runner(project.graph, store, executor or make_executor(settings, project),
                    project.root, settings.state_dir / "runs", clock)
    found = runner.recover()
    if found:
        log.warning("recovered %d run(s) that were executing when andon last stopped", found)
    runner.start()
    return Line(project, settings, store, runner, Service(project.graph, store, project.root), clock)


def _submitter(runner: Runner) -> Callable[[Sequence[Event]], Any]:
    async def submit(events: Sequence[Event]) -> list[bool]:
        futures = [runner.submit(e) for e in events]
        return [await asyncio.wrap_future(f) for f in futures]
    return submit


def serve(line: Line, on_ready: Callable[[Line], None] | None = None) -> None:
    """Serve the HTTP API until interrupted (Ctrl-C, SIGTERM) or ``line.stop_event`` is set."""
    import uvicorn

    from andon.watcher import start_watcher
    from andon.web.app import WebContext, create_app

    settings = line.settings
    ctx = WebContext(line.service, _submitter(line.runner), line.clock.now, line.store.token_role,
                     line.project.name)
    sock = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((settings.host, settings.port))
    port = sock.getsockname()[1]
    line.url = f"http://{settings.host}:{port}"
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), log_level="warning", lifespan="off",
                                           access_log=False))
    start_watcher(line.project.graph, line.project.root, line.announce, line.stop_event)
    info = settings.state_dir / "server.json"
    info.write_text(json.dumps({"url": line.url, "pid": os.getpid()}))

    def watch_stop() -> None:
        line.stop_event.wait()
        server.should_exit = True

    threading.Thread(target=watch_stop, daemon=True).start()
    if on_ready:
        threading.Thread(target=on_ready, args=(line,), daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        line.stop_event.set()
        info.unlink(missing_ok=True)
        line.runner.stop()
        line.store.close()


def server_url(state_dir: Path) -> str | None:
    """The URL of a running ``andon up`` of this project, if one is alive."""
    try:
        info = json.loads((state_dir / "server.json").read_text())
        os.kill(int(info["pid"]), 0)
        return str(info["url"])
    except (OSError, ValueError, KeyError):
        return None
