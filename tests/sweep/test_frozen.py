"""A deprecated pipeline (or the producer of a deprecated data set) is frozen once its date has
passed: the engine neither queues nor starts a run of it; before the date it runs as ever; a run
queued before the date stays queued. Pure engine plus the offline door on a real store."""

from __future__ import annotations

from datetime import timedelta

from andon.engine.core import decide, replay
from andon.engine.lifecycle import LifecycleBook, apply, frozen
from andon.events import PartitionAvailable, RunQueued, RunStarted
from andon.events.lifecycle import ObjectDeprecated
from andon.store.sql import Store
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import make_world

T0 = utc(2026, 3, 1, 9)
AFTER = utc(2026, 3, 21, 0)  # the first moment after 2026-03-20


def _runs(store: Store, pipeline: str) -> list[str]:
    from sqlalchemy import select

    from andon.store.schema import runs
    with store.read() as conn:
        return list(conn.execute(select(runs.c.status).where(runs.c.pipeline == pipeline)
                                 ).scalars())


def test_frozen_pipelines_get_no_new_runs(make_project: ProjectFactory) -> None:
    world = make_world(make_project)
    lc = world.svc.lifecycle
    world.submit([lc.deprecate_event("clean", "2026-03-20", "replaced", T0, kind="pipeline")],
                 T0)
    world.land("raw", "2026-03-05", T0 + timedelta(days=5))  # before the date: it runs
    assert _runs(world.svc.store, "clean") == ["running"]
    world.land("raw", "2026-03-21", AFTER)
    world.land("raw", "2026-03-22", AFTER + timedelta(days=1))
    assert _runs(world.svc.store, "clean") == ["running"]  # none after the date
    world.land("legacy", "2026-03-22", AFTER)  # other pipelines run as ever
    assert _runs(world.svc.store, "summarise") == ["running"]


def test_a_deprecated_data_set_freezes_its_producer(make_project: ProjectFactory) -> None:
    world = make_world(make_project)
    graph = world.svc.graph
    book = LifecycleBook()
    apply(graph, book, ObjectDeprecated(id="d", at=T0, kind="dataset", object="summary",
                                        delete_after="2026-03-20", reason="r"))
    assert not frozen(book, "summarise", AFTER - timedelta(microseconds=1))
    assert frozen(book, "summarise", AFTER) and not frozen(book, "clean", AFTER)
    apply(graph, book, ObjectDeprecated(id="s", at=T0, kind="dataset", object="legacy",
                                        delete_after="2026-03-20", reason="r"))
    assert set(book.freezes) == {"summarise"}  # a source has no runs to stop


def test_a_run_queued_before_the_date_never_starts_after_it(make_project: ProjectFactory) -> None:
    graph = make_world(make_project).svc.graph
    log = [PartitionAvailable(id="p", at=T0, asset="raw", partition="2026-03-19",
                              location="data/raw/2026-03-19.csv"),
           RunQueued(id="q", at=T0, run_id="clean:2026-03-19:1", pipeline="clean",
                     partition="2026-03-19", attempt=1, reason="manual"),
           ObjectDeprecated(id="d", at=T0, kind="pipeline", object="clean",
                            delete_after="2026-03-20", reason="x")]
    for moment, starts in ((AFTER, False), (AFTER - timedelta(hours=1), True)):
        state = replay(graph, log)
        out = decide(graph, state, moment)
        assert any(isinstance(e, RunStarted) for e in out.events) is starts
        assert "clean:2026-03-19:1" in state.queue or starts  # it stays queued
