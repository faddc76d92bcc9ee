"""The benchmarks' bulk path into PostgreSQL (benchmarks/pgcopy.py): a history made in SQLite
through ``Store.append`` is copied whole, every table row for row, and the copy goes on taking
appends with the log's numbering continued."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from andon.events import PartitionAvailable
from andon.store import schema
from andon.store.sql import Store

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from benchprojects import generate_history, layered_definitions, write_project  # noqa: E402
from pgcopy import SKIPPED, copy_store  # noqa: E402


def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
                    for t in schema.metadata.sorted_tables if t.name not in SKIPPED}
    finally:
        engine.dispose()


def test_a_sqlite_store_copied_into_postgresql_is_the_same_store(
        tmp_path: Path, postgres_database: str) -> None:
    root = write_project(tmp_path / "p", layered_definitions(30), {"default": 8})
    history = tmp_path / "history.db"
    with (root / "andon.toml").open("a") as toml:
        toml.write(f'\n[settings]\ndatabase_url = "sqlite:///{history}"\n')
    made = generate_history(root, 2)
    copied = copy_store(f"sqlite:///{history}", postgres_database)
    assert copied["rows"]["events"] == made["events"] > 0
    assert copied["rows"]["runs"] == made["runs"] == 60
    assert _rows(postgres_database) == _rows(f"sqlite:///{history}")

    store = Store(postgres_database)
    try:
        last = store.last_seq()
        assert store.append([PartitionAvailable(asset="s00", partition="2026-02-01")])
        assert store.last_seq() == last + 1
        with pytest.raises(ValueError, match="not empty"):
            copy_store(f"sqlite:///{history}", postgres_database)
    finally:
        store.close()
