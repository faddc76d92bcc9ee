"""File arrival through inotify: a file landing in a watched folder announces its partition and
triggers the consumers; a file whose name is not a key is ignored with a warning."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.events import RunSucceeded
from andon.live.clock import RealClock
from andon.live.watcher import _pattern, start_watcher
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line
from tests.executors.helpers import GUARD

PIPELINES = r'''
import andon

andon.source("orders", watch="landing/orders/{partition}.csv")
andon.source("quiet")


@andon.pipeline(inputs=["orders"], outputs=["order_count"])
def order_count(ctx):
    lines = ctx.inputs["orders"].read_text().splitlines()
    ctx.output("order_count").write_text(f"{len(lines)}\n")
    ctx.set_rows("order_count", 1)
'''


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def line(make_project) -> Iterator[Line]:
    root = make_project(PIPELINES)
    settings = resolve(root, {"executor": "inprocess"}, {}, {})
    line = open_line(load_project(root), settings, RealClock())
    yield line
    line.close()


@pytest.fixture
def warnings_seen() -> Iterator[Collect]:
    handler = Collect()
    logger = logging.getLogger("andon.live.watcher")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


class Made:
    """Waits for the consumer's partitions to be made."""

    def __init__(self, line: Line) -> None:
        self.done: set[str] = set()
        self.cond = threading.Condition()
        line.runner.subscribe(self.on_events)

    def on_events(self, events) -> None:  # type: ignore[no-untyped-def]
        with self.cond:
            self.done.update(e.partition for e in events
                             if isinstance(e, RunSucceeded) and e.pipeline == "order_count")
            self.cond.notify_all()

    def wait(self, partition: str) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: partition in self.done, GUARD), \
                f"order_count {partition} was never made"


def land_by_rename(root: Path, name: str, text: str) -> None:
    folder = root / "landing/orders"
    tmp = folder / f".{name}.part"
    tmp.write_text(text)
    os.replace(tmp, folder / name)


def test_files_landing_trigger_their_consumer(line: Line, warnings_seen: Collect) -> None:
    root = line.project.root
    made = Made(line)
    thread = start_watcher(line.project.graph, root, line.announce, line.stop_event)
    assert thread is not None

    land_by_rename(root, "2026-01-05.csv", "o1\no2\n")  # written elsewhere, then renamed
    made.wait("2026-01-05")
    with (root / "landing/orders/2026-01-06.csv").open("w") as fh:  # written in place
        fh.write("o1\no2\no3\n")
    made.wait("2026-01-06")

    (root / "landing/orders/notes.txt").write_text("not data\n")  # does not match at all
    land_by_rename(root, "2026-13-45.csv", "bad\n")  # matches, but is not a daily key
    land_by_rename(root, "2026-01-07.csv", "o1\n")  # the watcher is still there
    made.wait("2026-01-07")

    assert (root / "data/order_count/2026-01-06").read_text() == "3\n"
    parts = {(p["partition"], p["origin"]) for p in line.store.partitions("orders")}
    assert parts == {("2026-01-05", "file"), ("2026-01-06", "file"), ("2026-01-07", "file")}
    assert len(warnings_seen.messages) == 1
    assert "landing/orders/2026-13-45.csv" in warnings_seen.messages[0]
    assert "2026-01-05" in warnings_seen.messages[0]  # the hint shows a good key

    line.stop_event.set()
    thread.join(GUARD)
    assert not thread.is_alive()


def test_files_that_landed_while_andon_was_down_are_announced_at_start(line: Line) -> None:
    root = line.project.root
    made = Made(line)
    (root / "landing/orders").mkdir(parents=True)
    land_by_rename(root, "2026-01-05.csv", "o1\n")
    start_watcher(line.project.graph, root, line.announce, line.stop_event)
    made.wait("2026-01-05")
    assert line.runner.quiet()
    # announcing the same file again (another restart) records nothing new
    again = line.service.notify("orders", "2026-01-05", line.clock.now(), "file")
    assert line.runner.submit(again).result(GUARD) is False


def test_no_watched_source_means_no_watcher(make_project) -> None:
    root = make_project('import andon\nandon.source("quiet")\n'
                        '@andon.pipeline(inputs=["quiet"], outputs=["q"])\ndef q(ctx): pass\n')
    graph = load_project(root).graph
    assert start_watcher(graph, root, lambda a, p: None, threading.Event()) is None


def test_the_file_pattern() -> None:
    pattern = _pattern("landing/x/{partition}.csv")
    match = pattern.match("landing/x/2026-01-05.csv")
    assert match and match.group("partition") == "2026-01-05"
    assert pattern.match("landing/x/.2026-01-05.csv.part") is None
    assert pattern.match("landing/x/sub/2026-01-05.csv") is None
    twice = _pattern("landing/{partition}-of-{partition}.csv")
    assert twice.match("landing/2026-01-05-of-2026-01-05.csv")
    assert twice.match("landing/2026-01-05-of-2026-01-06.csv") is None
