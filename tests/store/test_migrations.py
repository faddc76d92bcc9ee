"""Versioned schema migrations, on SQLite and PostgreSQL (the ``store_url`` fixture)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Connection, create_engine, inspect, select, text

from andon.events import PartitionAvailable
from andon.model.errors import ConfigError
from andon.store import schema
from andon.store.sql import Store

Step = Callable[[Connection], None]


def _add_notes(conn: Connection) -> None:  # a stand-in for a future migration
    conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"))
    conn.execute(text("ALTER TABLE tokens ADD COLUMN note TEXT NOT NULL DEFAULT ''"))


def with_step(monkeypatch: pytest.MonkeyPatch, version: int, step: Step) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, (version, "test step", step)])


def recorded(url: str) -> list[tuple[int, str]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            t = schema.schema_version
            return [(r.version, r.description) for r in conn.execute(
                select(t.c.version, t.c.description).order_by(t.c.version))]
    finally:
        engine.dispose()


def table_names(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_new_database_gets_every_migration_recorded(store: Store, store_url: str) -> None:
    assert store.schema_version() == schema.LATEST
    assert recorded(store_url) == [(v, d) for v, d, _ in schema.MIGRATIONS]


def test_migrating_again_is_a_no_op(store: Store, open_store: Callable[[], Store],
                                    store_url: str) -> None:
    store.append([PartitionAvailable(id="e", asset="a", partition="p")])
    before = recorded(store_url)
    assert store.migrate() == []
    assert open_store().migrate() == []
    assert recorded(store_url) == before
    assert store.count_events() == 1


def test_the_tables_match_the_live_definitions(store: Store, store_url: str) -> None:
    """Every step run in order from nothing gives the tables the queries expect (guards a v1
    that drifted from the live definitions, or a step that forgot a column)."""
    engine = create_engine(store_url)
    try:
        found = inspect(engine)
        for table in schema.metadata.sorted_tables:
            assert {c["name"] for c in found.get_columns(table.name)} == \
                {c.name for c in table.columns}, table.name
    finally:
        engine.dispose()


def test_a_database_at_an_older_version_is_upgraded(open_store: Callable[[], Store],
                                                    store_url: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    old = open_store()
    old.append([PartitionAvailable(id="e1", asset="a", partition="p", fingerprint="f")])
    old.add_token("ab" * 32, "admin", "local", PartitionAvailable(asset="a", partition="p").at)
    old.close()
    assert "notes" not in table_names(store_url)

    version = schema.LATEST + 1
    with_step(monkeypatch, version, _add_notes)
    new = open_store()  # the constructor migrates
    assert new.schema_version() == version
    assert recorded(store_url)[-1] == (version, "test step")
    assert "notes" in table_names(store_url)
    assert [e.id for e in new.iter_events()] == ["e1"]  # the data came along
    assert new.token_role("ab" * 32) == "admin"
    assert new.migrate() == []


def test_a_failing_step_leaves_the_database_as_it_was(open_store: Callable[[], Store],
                                                      store_url: str,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    open_store().close()
    version = schema.LATEST + 1

    def broken(conn: Connection) -> None:
        conn.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
        raise RuntimeError("step failed half-way")

    with_step(monkeypatch, version, broken)
    with pytest.raises(RuntimeError, match="half-way"):
        open_store()
    assert recorded(store_url)[-1][0] == schema.LATEST
    assert "notes" not in table_names(store_url)  # the DDL was rolled back with the step
    with_step(monkeypatch, version, _add_notes)
    monkeypatch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:-2] + schema.MIGRATIONS[-1:])
    assert open_store().schema_version() == version


def test_a_database_from_a_newer_andon_is_refused(open_store: Callable[[], Store],
                                                  store_url: str,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        with_step(patch, schema.LATEST + 1, _add_notes)
        open_store().close()
    with pytest.raises(ConfigError, match="newer than this andon knows") as err:
        open_store()
    assert "upgrade andon" in err.value.hint
