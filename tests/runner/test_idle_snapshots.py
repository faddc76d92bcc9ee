"""Snapshots taken at the runner's idle moments: the conversion is given up when work arrives
(the settled days let go of stay out of memory, and are read back whole), taken when the runner
is idle, and at once when it never is; the packed JSON is the JSON of the data."""

from __future__ import annotations

import gc
import json
import time
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from andon.engine.core import mark_all
from andon.events import PartitionAvailable, RunSucceeded
from andon.live.clock import FakeClock
from andon.live.snapshots import FORCE_AFTER, PACK_ITEMS, pack, unpack
from andon.store import snapshots as stored
from tests.conftest import ProjectFactory
from tests.engine.harness import snapshot
from tests.runner.harness import open_live
from tests.runner.test_snapshots import PIPELINES, _decided, _keeper, _made, _replayed, _whole


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    return make_project(PIPELINES)


def test_a_due_snapshot_waits_for_an_idle_moment_and_gives_up_when_work_arrives(
        root: Path) -> None:
    now = _made(root, 20)
    keeper, store = _keeper(root)
    try:
        state = _decided(keeper, now)
        keeper.since, keeper.due = 0, False  # as if the log had just been snapshotted
        keeper.committed(state, [PartitionAvailable(asset="raw", partition="x")] * 100, now)
        assert keeper.due and not stored.count(store)  # due, not taken on the turn itself

        calls = []
        assert not keeper.idle(state, now, lambda: bool(calls.append(1)) or len(calls) > 3)
        assert keeper.abandoned == 1 and not stored.count(store)
        assert keeper.departed and keeper.due  # let go of, held until written; still due
        held = sorted(keeper.departed)

        assert keeper.idle(state, now, lambda: False)
        keeper.wait()
        assert not keeper.due and list(stored.count(store)) == [keeper.written]
        assert set(held) <= keeper.departed
        again = keeper.load()  # from the snapshot: the days held were written with it
        assert keeper.loaded_from == keeper.written
        assert snapshot(_whole(keeper, again)) == snapshot(_replayed(root))
    finally:
        store.close()


def test_days_let_go_of_by_a_conversion_given_up_are_read_back_whole(root: Path) -> None:
    now = _made(root, 20)
    keeper, store = _keeper(root)
    try:
        state = _decided(keeper, now)
        keeper.committed(state, [PartitionAvailable(asset="raw", partition="x")] * 100, now)
        assert not keeper.idle(state, now, lambda: False, within=-1.0)  # the wake-up is due
        assert keeper.departed and not stored.count(store)
        assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    finally:
        store.close()


def test_a_runner_never_idle_takes_the_snapshot_at_once(root: Path) -> None:
    now = _made(root, 20)
    keeper, store = _keeper(root)
    try:
        state = _decided(keeper, now)
        keeper.since, keeper.due = 0, False  # as if the log had just been snapshotted
        event = PartitionAvailable(asset="raw", partition="x")
        keeper.committed(state, [event] * keeper.every, now)
        few = [event] * (keeper.every * FORCE_AFTER - 1)
        keeper.committed(state, few, now)
        keeper.wait()
        assert keeper.due and not stored.count(store)
        keeper.committed(state, few[:1], now)
        keeper.wait()
        assert not keeper.due and list(stored.count(store)) == [keeper.written]
    finally:
        store.close()


def test_the_live_runner_takes_a_due_snapshot_once_idle(
        root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("andon.live.snapshots.FORCE_AFTER", 10**6)  # only idle moments
    now = _made(root, 20)
    clock = FakeClock(now)
    live = open_live(root, clock)
    try:
        keeper = live.runner.keeper
        keeper.every, keeper.since, keeper.due = 3, 0, False
        live.runner.subscribe(lambda events: keeper.committed(live.runner.state, events,
                                                              clock.now()))
        key = (now + timedelta(days=1)).strftime("%Y-%m-%d")
        assert live.submit(PartitionAvailable(at=now, asset="raw", partition=key,
                                              fingerprint="new")) == [True]
        live.wait_for(lambda log: any(isinstance(e, RunSucceeded) and e.partition == key
                                      for e in log), "the new day made")
        deadline = time.monotonic() + 30
        while not stored.count(live.store) and time.monotonic() < deadline:
            time.sleep(0.05)
        keeper.wait()
        assert stored.count(live.store) and not keeper.due
        state = keeper.load()
        mark_all(keeper.graph, state)
        assert snapshot(_whole(keeper, state)) == snapshot(_replayed(root))
    finally:
        live.close()


def test_pack_is_the_compact_json_of_the_data_in_pieces() -> None:
    runs = [[f"r{i}", {"n": i, "s": "é\"x"}] for i in range(PACK_ITEMS * 3 + 7)]
    data = {"engine": {"runs": runs, "empty": [], "few": [1, 2.5, None, True]},
            "departed": [f"2026-01-{d:02d}" for d in range(1, 30)], "at": "now"}
    body = pack(data)
    assert unpack(body) == data
    assert zlib.decompress(body).decode() == json.dumps(data, separators=(",", ":"))


def test_a_long_lived_keeper_freezes_what_it_loaded_and_kept(root: Path) -> None:
    now = _made(root, 20)
    keeper, store = _keeper(root)
    try:
        gc.unfreeze()
        state = _decided(keeper, now)
        assert gc.get_freeze_count() == 0  # not asked to
        keeper.freeze = True
        state = _decided(keeper, now)
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        assert keeper.snapshot(state, now, background=False)
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        store.close()
