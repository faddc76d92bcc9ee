"""A live runner over a real project folder and a real SQLite store, with either executor."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from andon.events import Event
from andon.executors.base import Executor
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.live.clock import Clock
from andon.live.runner import Runner
from andon.live.service import Service
from andon.project.load import Project, load_project
from andon.store.sql import Store
from tests.executors.helpers import GUARD


@dataclass
class Live:
    """A started runner plus what tests need around it."""

    project: Project
    store: Store
    runner: Runner
    service: Service
    clock: Clock
    log: list[Event] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def root(self) -> Path:
        return self.project.root

    def on_events(self, events: Sequence[Event]) -> None:
        with self.cond:
            self.log.extend(events)
            self.cond.notify_all()

    def wait_for(self, predicate: Any, what: str, timeout: float = GUARD) -> None:
        """Wait until ``predicate(log)`` holds for the committed events."""
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.log), timeout), \
                f"timed out waiting for {what}; log: {[type(e).__name__ for e in self.log]}"

    def notify(self, asset: str, partition: str, content: str | None = None) -> bool:
        if content is not None:
            path = self.root / self.project.graph.assets[asset].location_of(partition)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        return self.runner.submit(self.service.notify(asset, partition, self.clock.now())).result(GUARD)

    def submit(self, *events: Event) -> list[bool]:
        return [f.result(GUARD) for f in [self.runner.submit(e) for e in events]]

    def now(self) -> datetime:
        return self.clock.now()

    def runs(self, pipeline: str | None = None, partition: str | None = None) -> list[dict[str, Any]]:
        """Runs in the order they were queued."""
        return list(reversed(self.store.runs(pipeline, None, partition, limit=10_000)))

    def close(self) -> None:
        self.runner.stop()
        self.runner.executor.shutdown()
        self.store.close()


def open_live(root: Path, clock: Clock, executor: str = "inprocess",
              kill_grace: float = 0.5) -> Live:
    project = load_project(root)
    state_dir = root / ".andon"
    state_dir.mkdir(exist_ok=True)
    store = Store(f"sqlite:///{state_dir / 'andon.db'}")
    ex: Executor
    if executor == "inprocess":
        ex = InProcessExecutor(lambda name: project.graph.pipelines[name].fn)
    else:
        ex = LocalProcessExecutor(kill_grace=kill_grace)
    runner = Runner(project.graph, store, ex, root, state_dir / "runs", clock)
    live = Live(project, store, runner, Service(project.graph, store, root), clock)
    runner.subscribe(live.on_events)
    runner.recover()
    runner.start()
    return live
