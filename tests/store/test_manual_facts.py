"""The manual's facts in the store, on SQLite and PostgreSQL: problems recorded as their events
are appended, made good again by later events, and an older database filled from its log by
migration 7."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from andon.events import (
    CordPulled,
    CordRecovered,
    Event,
    Frame,
    RunFailed,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.events.manual import ManualResolved
from andon.store import manual as facts
from andon.store import projection, schema
from andon.store.sql import Store

T0 = datetime(2026, 2, 1, tzinfo=UTC)


def history(store: Store) -> None:
    at = T0
    events: list[Event] = []
    for attempt in (1, 2):
        run_id = f"load:2026-02-01:{attempt}"
        events += [
            RunQueued(id=f"q{attempt}", at=at, run_id=run_id, pipeline="load",
                      partition="2026-02-01", attempt=attempt),
            RunStarted(id=f"s{attempt}", at=at, run_id=run_id, pipeline="load",
                       partition="2026-02-01", attempt=attempt, code_version=f"v{attempt}",
                       commit="c0ffee"),
            RunFailed(id=f"f{attempt}", at=at + timedelta(minutes=1), run_id=run_id,
                      pipeline="load", partition="2026-02-01", attempt=attempt,
                      error_type="OSError", error_message="disk full",
                      frames=(Frame("pipelines.py", "load"),))]
        at += timedelta(hours=1)
    events += [
        CordPulled(id="p", at=at, cord_id="raw:2026-02-01:1", asset="raw",
                   partition="2026-02-01", reason="bad", detected_at=T0),
        ManualResolved(id="r", at=at, entry="abc123abc123", note="freed space", link="https://x.y"),
        RunSucceeded(id="ok", at=at + timedelta(hours=1), run_id="load:2026-02-01:3",
                     pipeline="load", partition="2026-02-01"),
        CordRecovered(id="rec", at=at + timedelta(hours=2), cord_id="raw:2026-02-01:1")]
    store.append(events)


def check(store: Store) -> None:
    with store.read() as conn:
        rows = facts.problems_since(conn, 0)  # a first read: the problems for good
        assert [(r.kind, r.run_id, r.retried, r.code_version) for r in rows] == [
            ("failure", "load:2026-02-01:2", False, "v2"),
            ("cord", "", False, "")]
        retried = facts.run_problem(conn, "load:2026-02-01:1")
        assert retried is not None and retried.retried and retried.code_version == "v1"
        assert facts.run_problem(conn, "nope") is None
        assert rows[0].frames == (("pipelines.py", "load"),) and rows[0].git_commit == "c0ffee"
        assert rows[0].began == "2026-02-01T01:00:00.000000Z"
        assert rows[0].recovered == "2026-02-01T03:00:00.000000Z"
        assert rows[0].recovered_by == "load:2026-02-01:3"
        assert rows[1].began == "2026-02-01T00:00:00.000000Z" and rows[1].recovered
        # a later read gets every row changed since, the retried one too
        changed = facts.problems_since(conn, retried.touched - 1)
        assert retried.seq in {r.seq for r in changed}
        last = max(r.touched for r in rows)
        assert facts.problems_since(conn, last) == []
        [res] = facts.resolutions_since(conn, 0)
        assert (res.entry, res.note, res.link) == ("abc123abc123", "freed space", "https://x.y")
        assert dict(facts.code_versions_since(conn, 0)).keys() == {"v1", "v2"}


def test_problems_are_recorded_and_made_good_again(store: Store) -> None:
    history(store)
    check(store)
    history(store)  # the same events again change nothing
    check(store)


def test_an_older_database_gets_its_problems_from_the_log_by_migration_7(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] < 7])
        patch.setattr(projection, "MANUAL_FACTS", ())
        old = open_store()
        history(old)
        old.close()
    engine = create_engine(store_url)
    try:
        assert "problems" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    new = open_store()
    assert new.schema_version() >= 7
    check(new)


def test_compute_of_the_window_and_of_what_was_redone(store: Store) -> None:
    events: list[Event] = []
    for n, (attempt, reason, ok) in enumerate(((1, "new_data", True), (1, "new_data", False),
                                               (2, "retry", True), (1, "upstream_changed", True))):
        run_id = f"r{n}"
        at = T0 + timedelta(hours=n)
        events += [RunQueued(id=f"q{n}", at=at, run_id=run_id, pipeline="load",
                             partition=f"2026-02-0{n + 1}", attempt=attempt, reason=reason)]
        end = RunSucceeded if ok else RunFailed
        events += [end(id=f"e{n}", at=at + timedelta(minutes=1), run_id=run_id, pipeline="load",
                       partition=f"2026-02-0{n + 1}", attempt=attempt, work_seconds=10.0 * (n + 1))]
    store.append(events)
    with store.read() as conn:
        # all: 10 + 20 + 30 + 40; redone: the failure (20), the retry (30), the re-make (40)
        assert facts.compute_seconds(conn, "2026-02-01T00:00:00.000000Z") == (100.0, 90.0)
        assert facts.compute_seconds(conn, "2026-02-01T02:00:00.000000Z") == (70.0, 70.0)
        assert facts.compute_seconds(conn, "2027-01-01T00:00:00.000000Z") == (0.0, 0.0)
