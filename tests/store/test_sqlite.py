"""What only SQLite needs: WAL, ``synchronous=FULL``, a busy timeout, and waiting for another
writer instead of failing with "database is locked"."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from andon.events import PartitionAvailable
from andon.model.errors import ConfigError
from andon.store.sql import BUSY_TIMEOUT_MS, Store


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "andon.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{db}")
    yield s
    s.close()


def test_every_connection_is_wal_full_sync_with_a_busy_timeout(store: Store, db: Path) -> None:
    for engine in (store._writer, store._reader):  # the writer and the readers alike
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            assert conn.execute(text("PRAGMA busy_timeout")).scalar() == BUSY_TIMEOUT_MS
    with sqlite3.connect(db) as raw:  # WAL is a property of the file, seen by any connection
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()


def test_append_waits_for_another_writer_instead_of_failing(store: Store, db: Path) -> None:
    """Another connection (as another process would) holds the write lock; ``append`` waits for
    it (BEGIN IMMEDIATE + busy timeout) and then succeeds, and readers are never blocked."""
    other = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO tokens (sha256, name, role, created_at) "
                      "VALUES ('x', 'other', 'read', '2026')")
        done = threading.Event()
        result: list[object] = []

        def append() -> None:
            try:
                result.append(store.append([PartitionAvailable(id="e", asset="a", partition="p")]))
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                result.append(exc)
            done.set()

        thread = threading.Thread(target=append)
        thread.start()
        assert not done.wait(0.3), f"append did not wait for the lock: {result}"
        assert store.count_events() == 0  # a reader is not blocked by the writers
        other.execute("COMMIT")
        thread.join(10)
        assert done.is_set() and len(result) == 1 and not isinstance(result[0], Exception), result
        assert store.count_events() == 1
        assert store.token_role("x") == "read"
    finally:
        other.close()


def test_an_in_memory_database_is_refused_with_a_hint() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ConfigError, match="in-memory") as err:
            Store(url)
        assert "sqlite:///path/andon.db" in err.value.hint


def test_an_unknown_database_is_refused() -> None:
    with pytest.raises(ConfigError, match="unsupported database URL"):
        Store("mysql://user:secret@db/andon")


def test_a_store_that_cannot_be_opened_says_so(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot open the store sqlite:///.*missing") as err:
        Store(f"sqlite:///{tmp_path / 'missing' / 'andon.db'}")
    assert "folder exists" in err.value.hint
