"""A restore goes through the engine and the cord's file step, online and offline alike: the
request is recorded and accepted, the file step (on the runner thread when a scheduler runs)
moves the output back, and ``output.restored`` follows the request in the log."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import pytest

from andon.cord.files import Done, FileStep
from andon.engine.outputs import FileMove
from andon.events import OutputQuarantined, OutputRestored, OutputRestoreRequested
from andon.live.service import Service
from andon.model.errors import Conflict
from andon.store.sql import Store
from tests.cord.test_live import DAY, _pull, made_then_stopped, of
from tests.runner.harness import Live, open_live


class _Watched(FileStep):
    """The runner's file step, noting the thread each move is carried out on."""

    threads: list[str]

    def carry_out(self, moves: Sequence[FileMove], now: datetime,
                  after_crash: bool = False) -> list[Done]:
        self.threads.extend(threading.current_thread().name for _ in moves)
        return super().carry_out(moves, now, after_crash)


def _names(store: Store) -> list[str]:
    return [e.name for e in store.iter_events()
            if e.name in ("output.quarantined", "output.restore_requested", "output.restored")]


def _quarantined(make_project: Callable[..., Path]) -> tuple[Path, Live, str]:
    root, clock, _ = made_then_stopped(make_project)
    line = open_live(root, clock, executor="inprocess")
    watched = _Watched(root, line.project.graph, line.runner.files.quarantine_dir)
    watched.threads = []
    line.runner.files = watched
    cord_id = _pull(line, "orders")
    line.wait_for(lambda log: of(log, OutputQuarantined), "the quarantine")
    assert line.runner.drain()
    return root, line, cord_id


def test_online_the_runner_thread_moves_it_back_after_the_request_is_recorded(
        make_project: Callable[..., Path]) -> None:
    root, line, cord_id = _quarantined(make_project)
    try:
        line.service.live_restore = line.runner.restore  # as `andon up` wires it
        done = line.service.output_restore(cord_id, "report", DAY, None, line.now(), "alice")
        assert line.submit(done) == [True]
        assert line.runner.drain()

        assert (root / f"out/report/{DAY}.csv").exists()
        threads = line.runner.files.threads  # type: ignore[attr-defined]
        assert set(threads) == {"andon-runner"} and len(threads) == 3  # report, mail, restore
        assert _names(line.store) == ["output.quarantined", "output.restore_requested",
                                      "output.restored"]
        (request,) = of(line.log, OutputRestoreRequested)
        assert (request.by, request.version, request.location) == \
            ("alice", 1, f"out/report/{DAY}.csv")
        with pytest.raises(Conflict, match="already restored"):
            line.service.output_restore(cord_id, "report", DAY, None, line.now(), "alice")
    finally:
        line.close()


def test_online_a_refusal_at_the_move_reaches_the_caller_and_nothing_is_restored(
        make_project: Callable[..., Path]) -> None:
    root, line, cord_id = _quarantined(make_project)
    try:
        line.service.live_restore = line.runner.restore
        (root / f"out/report/{DAY}.csv").write_text("re-made by hand\n")
        with pytest.raises(Conflict, match="holds data again"):
            line.service.output_restore(cord_id, "report", DAY, None, line.now(), "alice")
        assert line.runner.drain()
        assert _names(line.store) == ["output.quarantined", "output.restore_requested"]
        assert (root / f"out/report/{DAY}.csv").read_text() == "re-made by hand\n"
    finally:
        line.close()


def test_the_engine_refuses_a_request_for_an_output_that_is_not_quarantined(
        make_project: Callable[..., Path]) -> None:
    """A read model that lags lets a second request through; the engine knows better."""
    root, line, cord_id = _quarantined(make_project)
    try:
        (moved,) = of(line.log, OutputQuarantined)
        first = line.runner.restore(_request(moved))
        assert line.submit(first) == [True]
        with pytest.raises(Conflict, match="not quarantined"):
            line.runner.restore(_request(moved))
        assert set(line.runner.files.threads) == {"andon-runner"}  # type: ignore[attr-defined]
    finally:
        line.close()


def _request(moved: OutputQuarantined) -> OutputRestoreRequested:
    return OutputRestoreRequested(at=moved.at, cord_id=moved.cord_id, asset=moved.asset,
                                  partition=moved.partition, version=moved.version,
                                  location=moved.location, quarantine_path=moved.quarantine_path,
                                  by="test")


def test_offline_the_same_order_and_the_file_back_at_once(
        make_project: Callable[..., Path]) -> None:
    root, line, cord_id = _quarantined(make_project)
    line.close()
    store = Store(f"sqlite:///{root / '.andon/andon.db'}")
    try:
        svc = Service(line.project.graph, store, root)
        done = svc.output_restore(cord_id, "report", DAY, None, line.now(), "cli")
        assert (root / f"out/report/{DAY}.csv").exists()
        assert isinstance(done, OutputRestored) and done.by == "cli"
        store.append([done])
        assert _names(store) == ["output.quarantined", "output.restore_requested",
                                 "output.restored"]
    finally:
        store.close()
