"""The lifecycle read models (migration 9) on both backends: a newer notice replaces an older,
tombstones are kept once each, a deleted object is marked, the reads and versions a sweep plans
from; and an older database filled from the log by migration 9."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from andon.events import PartitionAvailable
from andon.events.lifecycle import DataDeleted, ObjectDeleted, ObjectDeprecated
from andon.store import lifecycle as facts
from andon.store import projection, schema
from andon.store.sql import Store

T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def history(store: Store) -> None:
    store.append([
        PartitionAvailable(id="p1", at=T0, asset="old", partition="2026-02-27",
                           location="data/old/a.csv", size_bytes=7, fingerprint="f1"),
        ObjectDeprecated(id="d1", at=T0, kind="dataset", object="old", delete_after="2026-03-20",
                         reason="first", assets=("old",), by="ops"),
        ObjectDeprecated(id="d2", at=T0 + timedelta(hours=1), kind="dataset", object="old",
                         delete_after="2026-04-01", reason="later", assets=("old",), by="ops"),
        DataDeleted(id="t1", at=T0 + timedelta(days=40), asset="old", partition="2026-02-27",
                    version=1, location="data/old/a.csv", size_bytes=7, rule="deprecated",
                    by="sweep"),
        DataDeleted(id="t1-again", at=T0 + timedelta(days=41), asset="old",
                    partition="2026-02-27", version=1, location="data/old/a.csv",
                    rule="deprecated"),
        ObjectDeleted(id="x1", at=T0 + timedelta(days=40), kind="dataset", object="old",
                      files=1, size_bytes=7, by="sweep"),
    ])


def _check(store: Store) -> None:
    with store.read() as conn:
        (dep,) = facts.deprecation_rows(conn)
        assert (dep.delete_after, dep.reason, dep.assets, dep.deleted_by) == \
            ("2026-04-01", "later", ("old",), "sweep")
        assert dep.deleted_at is not None
        (stone,) = facts.tombstone_rows(conn)
        assert (stone.asset, stone.version, stone.by, stone.size_bytes) == ("old", 1, "sweep", 7)
        (version,) = facts.versions(conn, ["old"])
        assert (version.location, version.size_bytes) == ("data/old/a.csv", 7)
        assert facts.current_versions(conn, ["old"]) == {("old", "2026-02-27"): 1}


def test_the_lifecycle_tables(store: Store) -> None:
    history(store)
    _check(store)


def test_an_older_database_gets_them_by_migration_13(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] < 9])
        patch.setattr(projection, "project_lifecycle", lambda conn, event, seq: None)
        old = open_store()
        history(old)
        old.close()
    engine = create_engine(store_url)
    try:
        assert "tombstones" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    new = open_store()
    assert new.schema_version() >= 9
    _check(new)
