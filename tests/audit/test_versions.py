"""The rules behind two audit kinds: a warning check's failure is true when new content of
its partition followed it (a re-make with the same SHA-256 changed nothing), a failure of the
last day is not judged yet (on a real SQLite store and PostgreSQL); a version of a
``keep_last`` data set is a fossil only past keep_last, in a file of its own, not swept
(tombstone) and not read lately."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from andon.audit.versioned import fossils
from andon.events import (
    CheckFailed,
    Event,
    OutputWritten,
    PartitionAvailable,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import format_time
from andon.store.audit import warning_outcomes
from andon.store.lifecycle import StoredVersion
from andon.store.sql import Store

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _at(days: float) -> datetime:
    return NOW - timedelta(days=days)


def _remake(n: int, asset: str, key: str, fingerprint: str, at: datetime) -> list[Event]:
    run_id = f"r{n}"
    return [RunQueued(id=f"q{n}", at=at, run_id=run_id, pipeline="p", partition=key),
            RunStarted(id=f"s{n}", at=at, run_id=run_id, pipeline="p", partition=key),
            RunSucceeded(id=f"e{n}", at=at, run_id=run_id, pipeline="p", partition=key,
                         outputs=(OutputWritten(asset, key, "data/x", 10, 1, fingerprint),))]


def _fail(n: int, asset: str, key: str, version: int, at: datetime,
          blocking: bool = False) -> CheckFailed:
    return CheckFailed(id=f"f{n}", at=at, asset=asset, partition=key, version=version,
                       check="range", blocking=blocking)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_warning_is_true_only_when_new_content_followed(tmp_path: Path, backend: str,
                                                          request: pytest.FixtureRequest) -> None:
    url = f"sqlite:///{tmp_path / 'andon.db'}" if backend == "sqlite" else str(
        request.getfixturevalue("postgres_database"))
    store = Store(url)
    try:
        events: list[Event] = []
        for n, key in enumerate(("a", "b", "c", "d")):
            events.append(PartitionAvailable(id=f"pa{n}", at=_at(9), asset="x", partition=key,
                                             location="data/x", size_bytes=10,
                                             fingerprint=f"fp{key}"))
            events.append(_fail(n, "x", key, 1, _at(8)))
        events += _remake(1, "x", "a", "other", _at(7))  # a: re-made, new content -> true
        events += _remake(2, "x", "b", "fpb", _at(7))  # b: re-made, the same content -> false
        # c: nothing came after -> false; d: a blocking failure (a cord's business): not here
        events.append(_fail(9, "x", "d", 1, _at(8), blocking=True))
        events.append(_fail(10, "x", "c", 1, _at(0.5)))  # of the last day: not judged yet
        store.append(events)
        with store.read() as conn:
            got = warning_outcomes(conn, format_time(_at(30)), format_time(_at(1)))
        assert got == [("range", "x", 4, 3)]  # a true; b, c, d (warning on d) false
    finally:
        store.close()


def _v(partition: str, version: int, days: int, location: str) -> StoredVersion:
    return StoredVersion("x", partition, version, format_time(_at(days)), "", location, 10)


def test_a_fossil_is_past_keep_last_in_its_own_file_unswept_and_unread() -> None:
    stored = [_v("p", 1, 60, "v1"), _v("p", 2, 59, "v2"), _v("p", 3, 58, "v3"),
              _v("p", 4, 57, "v3"), _v("p", 5, 1, "v5")]
    current = {("x", "p"): 5}
    since = format_time(_at(30))
    got = fossils(stored, 2, current, set(), {}, since)
    # newest two (v5, v4) kept; v3 shares v4's file; v1 and v2 are fossils
    assert [v.version for v in got] == [2, 1]
    assert [v.version for v in fossils(stored, 2, current, {("x", "p", 1)}, {}, since)] == [2]
    read = {("x", "p", 2): format_time(_at(3))}
    assert [v.version for v in fossils(stored, 2, current, set(), read, since)] == [1]
    assert fossils(stored, 5, current, set(), {}, since) == []  # all within keep_last
    old_current = [_v("q", 1, 60, "q1"), *stored]  # a partition's current version stays
    assert [v.version for v in fossils(old_current, 1, current | {("x", "q"): 1}, set(), {},
                                       since)] == [4, 3, 2, 1]  # v4 and v3 share a file: both go
