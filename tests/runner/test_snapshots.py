"""Engine-state snapshots in a real store: start-up reads the newest usable one and the events
after it, and builds what a replay of the whole log builds; a damaged snapshot, one of other
definitions, or one cut short by ``kill -9`` while it was written is never used."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from andon.engine.core import decide, handle, mark_all, replay
from andon.engine.state import EngineState
from andon.events import Event, OutputWritten, PartitionAvailable, RunStarted, RunSucceeded
from andon.live.clock import FakeClock
from andon.live.snapshots import StateKeeper
from andon.planner.live import LivePlan
from andon.planner.policies import make_policy
from andon.project.load import load_project
from andon.store import snapshots as stored
from andon.store.schema import snapshots
from andon.store.sql import Store
from tests.conftest import ProjectFactory, utc
from tests.engine.harness import snapshot
from tests.executors.helpers import GUARD
from tests.runner.harness import open_live

PIPELINES = '''
import andon

andon.source("raw")


@andon.pipeline(inputs=["raw"], outputs=["orders"])
def clean(ctx):
    ctx.output("orders").write_text(ctx.partition)


@andon.pipeline(inputs=[andon.window("orders", 3)], outputs=["weekly"])
def week(ctx):
    ctx.output("weekly").write_text(ctx.partition)
'''

START = utc(2026, 1, 1)


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    return make_project(PIPELINES)


def _url(root: Path) -> str:
    """The project's store: PostgreSQL when ``[settings] database_url`` says so, else SQLite."""
    (root / ".andon").mkdir(exist_ok=True)
    return str(load_project(root).settings_table.get("database_url")
               or f"sqlite:///{root / '.andon' / 'andon.db'}")


def _made(root: Path, days: int, first: int = 0) -> datetime:
    """Make ``days`` days of the project (from day ``first``) straight into its store, the
    engine deciding as the runner would; the time after the last."""
    project = load_project(root)
    g = project.graph
    store = Store(_url(root))
    state = replay(g, store.iter_events())
    now = START
    for d in range(first, first + days):
        key = (START + timedelta(days=d)).strftime("%Y-%m-%d")
        now = START + timedelta(days=d + 1, hours=1)
        log: list[Event] = [PartitionAvailable(at=now, asset="raw", partition=key,
                                               fingerprint=f"raw{d}")]
        pending = list(handle(g, state, log[0], now).events)
        while pending:
            event = pending.pop(0)
            log.append(event)
            if isinstance(event, RunStarted):
                run = state.runs[event.run_id]
                out = tuple(OutputWritten(o, run.partition, fingerprint=f"{o}{run.run_id}")
                            for o in g.pipelines[run.pipeline].outputs)
                done = RunSucceeded(id=f"ended:{run.run_id}", at=now, run_id=run.run_id,
                                    pipeline=run.pipeline, partition=run.partition,
                                    attempt=run.attempt, inputs=run.inputs, outputs=out)
                log.append(done)
                pending.extend(handle(g, state, done, now).events)
        store.append(log)
    store.close()
    return now


def _keeper(root: Path) -> tuple[StateKeeper, Store]:
    project = load_project(root)
    store = Store(_url(root))
    plan = LivePlan(project.graph, make_policy("fifo", project.graph))
    return StateKeeper(project.graph, store, plan, every=100, keep_days=2), store


def _decided(keeper: StateKeeper, now: datetime) -> EngineState:
    """The state loaded and one turn decided on it (nothing is owed: all was made), as the
    runner has it between two turns, when it takes snapshots."""
    state = keeper.load()
    mark_all(keeper.graph, state)
    assert decide(keeper.graph, state, now).events == []
    return state


def _whole(keeper: StateKeeper, state: EngineState) -> EngineState:
    keeper.bring_back(state, sorted(keeper.departed))
    return state


def _replayed(root: Path) -> EngineState:
    store = Store(_url(root))
    try:
        return replay(load_project(root).graph, store.iter_events())
    finally:
        store.close()


def test_start_up_reads_the_snapshot_and_the_events_after_it(root: Path) -> None:
    now = _made(root, 30)
    keeper, store = _keeper(root)
    state = _decided(keeper, now)
    assert keeper.loaded_from == 0 and keeper.tail == store.last_seq()  # no snapshot yet
    seq = keeper.snapshot(state, now, background=False)
    assert seq == store.last_seq() and len(keeper.departed) >= 20
    in_memory = len(state.runs)
    store.close()
    later = _made(root, 3, first=30)

    keeper, store = _keeper(root)
    state = keeper.load()
    assert keeper.loaded_from == seq and 0 < keeper.tail < 40  # only the events after it
    assert len(state.runs) <= in_memory + 3 * 2
    assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    # the next snapshot carries the days let go of before, and lets more go
    state = _decided(keeper, later)
    again = keeper.snapshot(state, later, background=False)
    assert set(stored.count(store)) == {seq, again}
    assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    store.close()


def test_snapshots_on_postgresql(make_project: ProjectFactory, postgres_database: str) -> None:
    root = make_project(PIPELINES, extra=f'[settings]\ndatabase_url = "{postgres_database}"\n')
    assert _url(root).startswith("postgresql")
    now = _made(root, 20)
    keeper, store = _keeper(root)
    seq = keeper.snapshot(_decided(keeper, now), now, background=False)
    store.close()
    _made(root, 2, first=20)

    keeper, store = _keeper(root)
    state = keeper.load()
    assert keeper.loaded_from == seq and keeper.departed and 0 < keeper.tail < 30
    assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    store.close()


def test_a_damaged_snapshot_or_one_of_other_definitions_is_never_used(
        root: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = _made(root, 12)
    keeper, store = _keeper(root)
    keeper.snapshot(_decided(keeper, now), now, background=False)
    with store._write() as conn:  # one settled day's row damaged on disk
        conn.execute(update(snapshots).where(snapshots.c.part.like("day:%")).values(
            body=b"not zlib"))
    keeper, store = _keeper(root)
    state = keeper.load()
    assert keeper.loaded_from == 0 and "cannot be used" in caplog.text  # the log replayed
    assert snapshot(state) == snapshot(_replayed(root))
    store.close()

    (root / "pipelines.py").write_text(PIPELINES.replace("window(\"orders\", 3)",
                                                         "window(\"orders\", 4)"))
    keeper, store = _keeper(root)
    keeper.load()
    assert keeper.loaded_from == 0  # other definitions: the log replayed
    store.close()


WRITER = r'''
import sys
from datetime import timedelta
from andon.live.snapshots import StateKeeper
from andon.planner.live import LivePlan
from andon.planner.policies import make_policy
from andon.project.load import load_project
from andon.store.sql import Store

from pathlib import Path
from andon.events.codec import parse_time

root, url, now = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
project = load_project(root)
store = Store(url)
keeper = StateKeeper(project.graph, store, LivePlan(project.graph, make_policy("fifo", project.graph)))
state = keeper.load()
keeper.keep_days = -1  # nothing leaves memory: every snapshot is the whole state, and slow
print("loaded", flush=True)
while True:  # the same state again and again, each under a new seq, until killed
    keeper.written = 0
    keeper.snapshot(state, parse_time(now), background=False)
'''


def test_kill_9_while_a_snapshot_is_written_loses_nothing(root: Path) -> None:
    now = _made(root, 40)
    url = f"sqlite:///{root / '.andon' / 'andon.db'}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(root), url, now.isoformat()],
                             stdout=subprocess.PIPE, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == b"loaded"
        deadline = time.monotonic() + GUARD
        watcher = Store(url)
        while not any(stored.count(watcher).values()) and time.monotonic() < deadline:
            time.sleep(0.01)
        watcher.close()
        time.sleep(0.05)  # into a later write, most likely
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        if child.stdout is not None:
            child.stdout.close()

    keeper, store = _keeper(root)
    state = keeper.load()
    assert keeper.loaded_from > 0  # a whole snapshot was there, and was used
    assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    store.close()


def test_the_runner_starts_from_a_snapshot_and_keeps_deciding(root: Path) -> None:
    now = _made(root, 20)
    keeper, store = _keeper(root)
    seq = keeper.snapshot(_decided(keeper, now), now, background=False)
    store.close()
    live = open_live(root, FakeClock(now))
    try:
        assert live.runner.keeper.loaded_from == seq
        assert live.runner.keeper.departed  # settled days stay out of memory
        # a late, corrected delivery of a settled day: that day and its window are made again
        old = "2026-01-03"
        event = PartitionAvailable(at=now, asset="raw", partition=old, fingerprint="fixed")
        assert live.submit(event) == [True]
        live.wait_for(lambda log: sum(isinstance(e, RunSucceeded) for e in log) >= 4,
                      "the day and its window's readers re-made")
        made = {(e.pipeline, e.partition) for e in live.log if isinstance(e, RunSucceeded)}
        assert made == {("clean", old), ("week", old), ("week", "2026-01-04"),
                        ("week", "2026-01-05")}
    finally:
        live.close()
