"""The realised performance queries on both backends: per partition of a performance pipeline
the metrics of its newest successful run and the version serving when the predictions were
written (by time); and every serving model with its version's metrics and newest realised
metrics, in one read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from andon.events import PartitionAvailable, RunQueued, RunSucceeded
from andon.events.models import ModelPromoted
from andon.store import performance
from andon.store.sql import Store

T0 = datetime(2026, 1, 6, 2, tzinfo=UTC)


def _run(store: Store, run_id: str, pipeline: str, key: str, at: datetime,
         metrics: dict[str, float]) -> None:
    store.append([RunQueued(id=f"queued:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                            partition=key),
                  RunSucceeded(id=f"ended:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                               partition=key, metrics=metrics)])


def _promote(store: Store, version: int, at: datetime, previous: int = 0) -> None:
    store.append([ModelPromoted(id=f"promoted:{version}", at=at, model="churn",
                                version=version, run_id=f"train:{version}", by="me",
                                previous=previous)])


def history(store: Store) -> None:
    """Version 1 serves from T0, version 2 from T0 + 2 days; scores of day 1 and 2 written
    under version 1, of day 3 under version 2; day 2 measured twice (the newer run wins)."""
    for v in (1, 2):
        _run(store, f"train:{v}", "train", f"2026-01-0{v}", T0, {"train_auc": (0.81, 0.82)[v - 1]})
    _promote(store, 1, T0)
    for d in (1, 2, 3):
        at = T0 + timedelta(days=d, hours=1)
        if d == 3:
            _promote(store, 2, at - timedelta(minutes=5), previous=1)
        store.append([PartitionAvailable(id=f"scores:{d}", at=at, asset="scores",
                                         partition=f"2026-01-0{d}", fingerprint=str(d))])
        _run(store, f"perf:{d}", "churn_performance", f"2026-01-0{d}", at + timedelta(days=1),
             {"auc": (0.71, 0.72, 0.73)[d - 1], "auc@v2": 0.9, "rows": 4})
    _run(store, "perf:2b", "churn_performance", "2026-01-02", T0 + timedelta(days=9),
         {"auc": 0.5})


def test_realised_per_partition_with_the_version_serving(store: Store) -> None:
    history(store)
    with store.read() as conn:
        values = performance.realised(conn, "churn_performance", "scores", "churn")
        auc = [(v.partition, v.value, v.version) for v in values if v.metric == "auc"]
        assert auc == [("2026-01-01", 0.71, 1), ("2026-01-02", 0.5, 1), ("2026-01-03", 0.73, 2)]
        assert {v.metric for v in values if v.partition == "2026-01-03"} == {"auc", "auc@v2",
                                                                            "rows"}
        shown = performance.realised(conn, "churn_performance", "scores", "churn", shown=2)
        assert sorted({v.partition for v in shown}) == ["2026-01-02", "2026-01-03"]
        assert performance.realised(conn, "nothing", "scores", "churn") == []


def test_serving_models_in_one_read(store: Store) -> None:
    history(store)
    with store.read() as conn:
        found = performance.serving_all(conn, {"churn": "churn_performance"})
        assert found == {"churn": performance.Serving(
            2, {"train_auc": 0.82}, "2026-01-03", {"auc": 0.73, "auc@v2": 0.9, "rows": 4})}
        bare = performance.serving_all(conn, {})
        assert bare["churn"].partition == "" and bare["churn"].realised == {}
