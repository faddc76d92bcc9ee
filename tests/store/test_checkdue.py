"""The read models the start-up check step asks (``andon.store.checkdue``), on both backends:
the current version of each partition of the checked data sets, swept ones left out, and the
recorded verdicts by id."""

from __future__ import annotations

from datetime import UTC, datetime

from andon.events import CheckFailed, CheckPassed, PartitionAvailable
from andon.events.lifecycle import DataDeleted
from andon.store.checkdue import CurrentVersion, current_versions, recorded_types
from andon.store.sql import Store

AT = datetime(2026, 1, 8, tzinfo=UTC)


def _available(n: int, asset: str, key: str, version: int) -> PartitionAvailable:
    return PartitionAvailable(id=f"a{n}", at=AT, asset=asset, partition=key, version=version,
                              location=f"data/{asset}/{key}-v{version}.csv")


def test_current_versions_of_the_assets_asked_without_swept_data(store: Store) -> None:
    store.append([_available(1, "raw", "2026-01-05", 1), _available(2, "raw", "2026-01-05", 2),
                  _available(3, "raw", "2026-01-06", 1), _available(4, "raw", "2026-01-07", 1),
                  _available(5, "other", "2026-01-05", 1),
                  DataDeleted(id="d1", at=AT, asset="raw", partition="2026-01-07", version=1,
                              location="data/raw/2026-01-07-v1.csv", rule="retention 90d")])
    with store.read() as conn:
        assert current_versions(conn, ["raw"]) == [
            CurrentVersion("raw", "2026-01-05", 2, "data/raw/2026-01-05-v2.csv"),
            CurrentVersion("raw", "2026-01-06", 1, "data/raw/2026-01-06-v1.csv")]
        assert current_versions(conn, []) == []


def test_recorded_types_by_id_in_batches(store: Store) -> None:
    verdict = dict(at=AT, asset="raw", partition="2026-01-05", version=1, numbers={},
                   message="")
    store.append([CheckPassed(id="check:raw:2026-01-05:1:a", check="a", blocking=True,
                              **verdict),
                  CheckFailed(id="check:raw:2026-01-05:1:b", check="b", blocking=False,
                              **verdict)])
    asked = [f"check:raw:2026-01-05:1:n{i}" for i in range(1200)]  # three IN (...) batches
    asked[700:700] = ["check:raw:2026-01-05:1:b"]
    asked.append("check:raw:2026-01-05:1:a")
    with store.read() as conn:
        assert recorded_types(conn, asked) == {"check:raw:2026-01-05:1:a": "check.passed",
                                               "check:raw:2026-01-05:1:b": "check.failed"}
