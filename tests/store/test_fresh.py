"""``andon.store.fresh``: a new SQLite store is made from stored DDL, which is exactly what the
migrations send today, and comes out the same as a store migrated step by step."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, select

from andon.store import fresh, schema, sqlite_ddl
from andon.store.sql import Store


def test_the_stored_ddl_is_what_the_migrations_send() -> None:
    assert tuple(v for v, _, _ in schema.MIGRATIONS) == sqlite_ddl.VERSIONS, \
        "regenerate: python -m andon.store.fresh"
    assert list(sqlite_ddl.STATEMENTS) == fresh.capture(), \
        "regenerate: python -m andon.store.fresh"


def _layout(url: str) -> tuple[list[tuple[str, ...]], list[tuple[int, str]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            master = sorted(tuple(r) for r in conn.exec_driver_sql(
                "SELECT type, name, tbl_name, sql FROM sqlite_master"))
            versions = [(r.version, r.description) for r in conn.execute(
                select(schema.schema_version).order_by(schema.schema_version.c.version))]
    finally:
        engine.dispose()
    return master, versions


def test_a_new_store_is_the_migrated_one_and_an_old_one_is_migrated(tmp_path: Path) -> None:
    made = f"sqlite:///{tmp_path / 'made.db'}"
    store = Store(made)
    assert store.migrate() == []  # open again: nothing to do
    store.close()
    stepped = f"sqlite:///{tmp_path / 'stepped.db'}"
    engine = create_engine(stepped)
    with engine.begin() as conn:
        assert schema.migrate(conn, "t") == [v for v, _, _ in schema.MIGRATIONS]
    engine.dispose()
    assert _layout(made) == _layout(stepped)
    assert len(_layout(made)[1]) == schema.LATEST
    # a file that holds any table is never given the stored DDL: it is migrated step by step
    other = tmp_path / "other.db"
    engine = create_engine(f"sqlite:///{other}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE mine (x)")
        assert fresh.create(conn, "t") is None
    engine.dispose()
