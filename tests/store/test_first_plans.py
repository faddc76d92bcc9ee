"""The first plan of each deliverable (``deliverable.planned``) as a read model, on SQLite and
PostgreSQL: the first one wins, it is found by due time, and it survives reopening the store and
arrives in an older database by migration 3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from andon.events import DeliverablePlanned, PartitionAvailable
from andon.store import schema
from andon.store.sql import Store

END = datetime(2026, 1, 6, tzinfo=UTC)  # the end of partition 2026-01-05


def at(hours: float) -> datetime:
    return END + timedelta(hours=hours)


def planned(pipeline: str, key: str, start: float | None, finish: float | None, due: float,
            made: float, event_id: str | None = None) -> DeliverablePlanned:
    return DeliverablePlanned(
        id=event_id or f"planned:{pipeline}:{key}", at=at(made), pipeline=pipeline,
        partition=key, due=at(due), predicted_start=None if start is None else at(start),
        predicted_finish=None if finish is None else at(finish), policy="jit")


def test_the_first_plan_is_kept_and_found_by_due_time(store: Store) -> None:
    first = planned("clean", "2026-01-05", 2, 2.5, 2 + 40 / 60, made=0)
    assert store.append([first]) == [first]
    # the same deliverable planned again (a restart, or another id): the first plan stays
    assert store.append([planned("clean", "2026-01-05", 3, 3.5, 2 + 40 / 60, made=2)]) == []
    store.append([planned("clean", "2026-01-05", 4, 4.5, 2 + 40 / 60, made=3, event_id="other")])
    store.append([planned("report", "2026-01-05", None, None, 8, made=1),
                  planned("clean", "2026-01-04", 2, 2.5, -24 + 2 + 40 / 60, made=-24)])

    rows = store.first_plans(at(0))
    assert [(r["pipeline"], r["partition"]) for r in rows] == [("clean", "2026-01-05"),
                                                              ("report", "2026-01-05")]
    clean, report = rows
    assert clean == {"pipeline": "clean", "partition": "2026-01-05",
                     "due": "2026-01-06T02:40:00.000000Z",
                     "predicted_start": "2026-01-06T02:00:00.000000Z",
                     "predicted_finish": "2026-01-06T02:30:00.000000Z",
                     "planned_at": "2026-01-06T00:00:00.000000Z", "policy": "jit"}
    assert report["predicted_start"] is None and report["predicted_finish"] is None
    assert len(store.first_plans(at(-48))) == 3
    assert store.first_plans(at(9)) == []


def test_first_plans_survive_reopening(store: Store, open_store: Callable[[], Store]) -> None:
    store.append([planned("clean", "2026-01-05", 2, 2.5, 3, made=0)])
    store.close()
    (row,) = open_store().first_plans(at(0))
    assert row["predicted_finish"] == "2026-01-06T02:30:00.000000Z"


def test_an_older_database_gets_the_table_by_migration_3(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:2])
        old = open_store()
        old.append([PartitionAvailable(id="e", asset="raw", partition="2026-01-05")])
        old.close()
    engine = create_engine(store_url)
    try:
        assert "first_plans" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    new = open_store()
    assert new.schema_version() >= 3 and new.first_plans(at(-100)) == []
    new.append([planned("clean", "2026-01-05", 2, 2.5, 3, made=0)])
    assert len(new.first_plans(at(0))) == 1 and new.count_events() == 2
