"""A small project for the sweep's tests: sources whose files are real, a pipeline reading one
of them, the store a real SQLite file, the clock a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from andon.events import Event
from andon.live.offline import submit
from andon.live.service import Service
from andon.project.load import load_project
from andon.store.sql import Store
from tests.conftest import ProjectFactory

PIPELINES = r'''
import andon

andon.source("legacy", owner="old@example.com", location="data/legacy/{partition}.csv")
andon.source("spare", owner="old@example.com", location="data/spare/{partition}.csv")
andon.source("raw", owner="data@example.com", location="data/raw/{partition}.csv",
             retention="30d")

@andon.pipeline(inputs=["legacy"], outputs=["summary"], owner="bi@example.com",
                locations={"summary": "data/summary/{partition}.csv"})
def summarise(ctx):
    pass

@andon.pipeline(inputs=["raw"], outputs=["clean"], owner="data@example.com",
                locations={"clean": "data/clean/{partition}.csv"})
def clean(ctx):
    pass
'''


@dataclass
class World:
    root: Path
    svc: Service

    def submit(self, events: Sequence[Event], now: datetime) -> list[bool]:
        return submit(self.svc.graph, self.svc.store, events, now)

    def land(self, asset: str, day: str, now: datetime, text: str = "a,b\n1,2\n") -> Path:
        """Write a source file and announce it at ``now``."""
        path = self.root / "data" / asset / f"{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        self.submit([self.svc.notify(asset, day, now)], now)
        return path


def make_world(make_project: ProjectFactory, pipelines: str = PIPELINES, extra: str = "") -> World:
    root = make_project(pipelines, extra=extra)
    project = load_project(root)
    svc = Service(project.graph, Store(f"sqlite:///{root}/andon.db"), root)
    svc.lifecycle.policy = project.sweep
    return World(root, svc)
