"""The catalog's relations in the store, on SQLite and PostgreSQL: the pipelines whose runs read
each data set (projected from ``run.started``, and filled from the log by migration 6 in an
older database), when a data set first had data, and a model's versions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from andon.events import (
    OutputWritten,
    PartitionAvailable,
    PartitionRef,
    RunFailed,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.store import projection, relations, schema
from andon.store.sql import Store

T0 = datetime(2026, 1, 6, 2, tzinfo=UTC)


def started(run_id: str, pipeline: str, key: str, inputs: list[tuple[str, str]],
            hours: float) -> list[RunQueued | RunStarted]:
    at = T0 + timedelta(hours=hours)
    return [RunQueued(id=f"q:{run_id}", at=at, run_id=run_id, pipeline=pipeline, partition=key),
            RunStarted(id=f"s:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                       partition=key, inputs=tuple(PartitionRef(a, k, 1) for a, k in inputs))]


def history(store: Store) -> None:
    store.append([
        PartitionAvailable(id="a1", at=T0, asset="raw", partition="2026-01-05"),
        PartitionAvailable(id="a2", at=T0 + timedelta(days=1), asset="raw",
                           partition="2026-01-06"),
        *started("r1", "clean", "2026-01-05", [("raw", "2026-01-05")], 1),
        *started("r2", "clean", "2026-01-06", [("raw", "2026-01-06")], 25),
        # a window: two partitions of one data set are one read, of the newest
        *started("r3", "weekly", "2026-01-06", [("raw", "2026-01-05"), ("raw", "2026-01-06"),
                                                ("fx", "2026-01-06")], 26)])


def test_the_runs_that_read_a_data_set_are_its_observed_consumers(store: Store) -> None:
    history(store)
    with store.read() as conn:
        raw = relations.observed_reads(conn, "raw")
        assert [r.to_json() for r in raw] == [
            {"pipeline": "clean", "runs": 2, "last_at": "2026-01-07T03:00:00.000000Z",
             "last_partition": "2026-01-06", "last_run_id": "r2"},
            {"pipeline": "weekly", "runs": 1, "last_at": "2026-01-07T04:00:00.000000Z",
             "last_partition": "2026-01-06", "last_run_id": "r3"}]
        assert [r.pipeline for r in relations.observed_reads(conn, "fx")] == ["weekly"]
        assert relations.observed_reads(conn, "nothing") == []
        assert relations.first_data_at(conn, "raw") == "2026-01-06T02:00:00.000000Z"
        assert relations.first_data_at(conn, "fx") is None
    # the same events again change nothing
    history(store)
    with store.read() as conn:
        assert relations.observed_reads(conn, "raw")[0].runs == 2


def test_a_models_versions_are_the_successful_runs_of_its_pipeline(store: Store) -> None:
    for n, key in enumerate(("2026-01-05", "2026-01-06", "2026-01-07")):
        at = T0 + timedelta(days=n, hours=1)
        store.append([*started(f"t{n}", "train", key, [("features", key)], n * 24)])
        end = (RunFailed(id=f"e:t{n}", at=at, run_id=f"t{n}", pipeline="train", partition=key)
               if n == 1 else
               RunSucceeded(id=f"e:t{n}", at=at, run_id=f"t{n}", pipeline="train", partition=key,
                            outputs=(OutputWritten("model", key, f"data/model/{key}.json", 10,
                                                   None, f"sha256:{n}"),)))
        store.append([end])
    with store.read() as conn:
        total, versions = relations.model_versions(conn, "train", 10)
        assert total == 2
        assert [v.to_json() for v in versions] == [
            {"number": 2, "partition": "2026-01-07", "run_id": "t2",
             "at": "2026-01-08T03:00:00.000000Z", "outputs": {"model": "sha256:2"},
             "inputs": [{"asset": "features", "partition": "2026-01-07", "version": 1}],
             "metrics": {}, "params": {}},
            {"number": 1, "partition": "2026-01-05", "run_id": "t0",
             "at": "2026-01-06T03:00:00.000000Z", "outputs": {"model": "sha256:0"},
             "inputs": [{"asset": "features", "partition": "2026-01-05", "version": 1}],
             "metrics": {}, "params": {}}]
        assert relations.model_versions(conn, "train", 1)[1][0].number == 2
        assert relations.model_versions(conn, "other", 10) == (0, [])


def test_an_older_database_gets_its_reads_from_the_log_by_migration_6(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] < 6])
        patch.setattr(projection, "project_reads", lambda conn, event: None)
        patch.setattr(projection, "MANUAL_FACTS", ())  # nor problems (migration 7)
        old = open_store()
        history(old)
        old.close()
    engine = create_engine(store_url)
    try:
        assert "reads" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    new = open_store()
    assert 6 in {m[0] for m in schema.MIGRATIONS} and new.schema_version() >= 6
    with new.read() as conn:
        assert [(r.pipeline, r.runs) for r in relations.observed_reads(conn, "raw")] == \
            [("clean", 2), ("weekly", 1)]
