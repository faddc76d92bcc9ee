"""The promotions read model (migration 8) on both backends: each ``model.promoted`` kept in
order, the serving version folded from them (a rollback goes down the stack), the metrics and
parameters of a version read from its run's ``run.succeeded``, and an older database filled
from the log by migration 8."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, inspect

from andon.events import PartitionRef, RunQueued, RunSucceeded
from andon.events.models import ModelPromoted
from andon.store import models, projection, relations, schema
from andon.store.sql import Store

T0 = datetime(2026, 1, 6, 2, tzinfo=UTC)


def history(store: Store) -> None:
    for n in (1, 2, 3):
        at = T0 + timedelta(hours=n)
        run_id = f"train:{n}"
        store.append([
            RunQueued(id=f"queued:{run_id}", at=at, run_id=run_id, pipeline="train",
                      partition=f"2026-01-0{n}"),
            RunSucceeded(id=f"ended:{run_id}", at=at, run_id=run_id, pipeline="train",
                         partition=f"2026-01-0{n}", metrics={"auc": 0.7 + n / 100},
                         params={"alpha": str(n)},
                         inputs=(PartitionRef("raw", f"2026-01-0{n}", 1),))])
    steps = [(1, 0, False), (3, 1, False), (1, 3, True), (2, 1, False)]
    store.append([ModelPromoted(id=f"p{i}", at=T0 + timedelta(days=1, minutes=i),
                                model="churn", version=v, run_id=f"train:{v}", by="me",
                                previous=prev, rollback=back)
                  for i, (v, prev, back) in enumerate(steps)])


def test_promotions_and_the_version_serving(store: Store) -> None:
    history(store)
    with store.read() as conn:
        kept = models.promotions_of(conn, "churn")
        assert [(p.version, p.rollback) for p in kept] == [(1, False), (3, False), (1, True),
                                                          (2, False)]
        assert models.serving_stack(kept) == [1, 2]
        assert models.serving_versions(conn) == {"churn": 2}
        assert models.promotions_of(conn, "other") == []
        total, (v2,) = relations.model_versions(conn, "train", 10, 2)
        assert (total, v2.number, v2.run_id, v2.metrics, v2.params) == (
            3, 2, "train:2", {"auc": 0.72}, {"alpha": "2"})
        assert v2.inputs == [{"asset": "raw", "partition": "2026-01-02", "version": 1}]
        assert relations.model_versions(conn, "train", 10, 4) == (3, [])


def test_an_older_database_gets_its_promotions_by_migration_8(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", [m for m in schema.MIGRATIONS if m[0] < 8])
        patch.setattr(projection, "project_promotion", lambda conn, event, seq: None)
        old = open_store()
        history(old)
        old.close()
    engine = create_engine(store_url)
    try:
        assert "promotions" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()
    new = open_store()
    assert new.schema_version() >= 8
    with new.read() as conn:
        assert models.serving_versions(conn) == {"churn": 2}
        assert len(models.promotions_of(conn, "churn")) == 4


def test_the_serving_stack() -> None:
    def p(v: int, back: bool = False) -> models.Promotion:
        return models.Promotion(v, "", 0, back, "", "", "")

    assert models.serving_stack([]) == []
    assert models.serving_stack([p(1), p(1)]) == [1]  # promoting the serving one again: no-op
    assert models.serving_stack([p(1), p(2), p(3), p(2, True), p(1, True)]) == [1]
    assert models.serving_stack([p(2, True)]) == [2]  # a log that disagrees: the event decides
