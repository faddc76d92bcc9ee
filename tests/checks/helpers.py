"""Helpers for tests of a live line: the definitions they share, open a line that logs its
committed events, announce source data."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from andon.events import Event
from andon.live.clock import FakeClock
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line
from tests.notify.servers import GUARD


def raw_clean_report(owner: str) -> str:
    """Definitions text: source ``raw`` (owned by ``owner``), ``clean`` copies it to
    ``data/clean/{partition}.csv``, ``report`` reads clean. A test appends its checks."""
    return f'''
import andon

andon.source("raw", location="data/raw/{{partition}}.csv", owner="{owner}")


@andon.pipeline(inputs=["raw"], outputs=["clean"], locations={{"clean": "data/clean/{{partition}}.csv"}})
def clean(ctx):
    ctx.output("clean").write_text(ctx.inputs["raw"].read_text())


@andon.pipeline(inputs=["clean"], outputs=["report"])
def report(ctx):
    ctx.output("report").write_text("ok\\n")
'''


class Log:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.cond = threading.Condition()

    def __call__(self, events: Sequence[Event]) -> None:
        with self.cond:
            self.events.extend(events)
            self.cond.notify_all()

    def wait_for(self, predicate: Callable[[list[Event]], object], what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: predicate(self.events), GUARD), \
                f"timed out waiting for {what}: {[e.name for e in self.events]}"

    def of(self, cls: type) -> list[Event]:
        with self.cond:
            return [e for e in self.events if isinstance(e, cls)]


def announce(line: Line, key: str, text: str) -> None:
    path = line.project.root / f"data/raw/{key}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    line.runner.submit(line.service.notify("raw", key, line.clock.now())).result(GUARD)


def open_logged(root: Path, now: datetime) -> tuple[Line, Log]:
    """Open the live line of the project at ``root`` (in-process executor, a fake clock at
    ``now``) with a :class:`Log` subscribed; the caller closes the line."""
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess"}, {}, project.settings_table)
    line = open_line(project, settings, FakeClock(now))
    log = Log()
    line.runner.subscribe(log)
    return line, log
