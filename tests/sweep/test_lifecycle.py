"""Agreed deletions end to end on real files and a real SQLite store, the clock a parameter:
refused deprecations, the notice/read rule, dry run and apply, a sweep stopped midway, retention
and the states the objects go through."""

from __future__ import annotations

from datetime import timedelta

import pytest

from andon.events.lifecycle import DataDeleted
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.store import lifecycle as facts
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import World, make_world

T0 = utc(2026, 3, 1, 9)  # the notice
DATE = "2026-03-20"  # delete after: 19 days of notice
AFTER = utc(2026, 3, 22, 9)  # the date has passed


@pytest.fixture
def world(make_project: ProjectFactory) -> World:
    return make_world(make_project)


def _events(world: World, name: str) -> list[str]:
    with world.svc.store.read() as conn:
        from sqlalchemy import select

        from andon.store.schema import events
        return list(conn.execute(select(events.c.id).where(events.c.type == name)).scalars())


def test_refused_deprecations_record_nothing(world: World) -> None:
    lc = world.svc.lifecycle
    for date, words in (("2026-02-01", "in the past"), ("2026-03-05", "less than 14 days"),
                        ("01/04/2026", "not a date")):
        with pytest.raises(BadRequest) as err:
            lc.deprecate_event("spare", date, "gone", T0)
        assert words in err.value.message and err.value.where == "delete_after"
        assert err.value.hint  # the fix: a date far enough ahead
    with pytest.raises(BadRequest) as err:
        lc.deprecate_event("spare", DATE, "   ", T0)
    assert err.value.where == "reason"
    with pytest.raises(NotFound) as missing:
        lc.deprecate_event("spares", DATE, "gone", T0)
    assert "spare" in missing.value.hint
    assert _events(world, "lifecycle.deprecated") == []


def test_notice_tells_readers_and_freezes_after_the_date(world: World) -> None:
    lc = world.svc.lifecycle
    world.land("legacy", "2026-02-27", T0 - timedelta(days=1))
    event = lc.deprecate_event("legacy", DATE, "moved to the new feed", T0,
                               replacement="raw", by="ops")
    assert event.readers == ("summarise",) and event.assets == ("legacy",)
    assert world.submit([event], T0) == [True]
    assert world.submit([event], T0) == [False]  # the same notice twice: recorded once
    (standing,) = lc.standings(T0)
    assert (standing.state, standing.delete_after, standing.replacement) == \
        ("deprecated", DATE, "raw")
    assert lc.standings(AFTER)[0].state == "frozen"


def test_a_read_after_the_notice_blocks_deletion(world: World) -> None:
    lc = world.svc.lifecycle
    world.submit([lc.deprecate_event("legacy", DATE, "moved", T0)], T0)
    kept = world.land("legacy", "2026-03-02", T0 + timedelta(days=1))  # summarise reads it
    (warned,) = _events(world, "lifecycle.deprecated_read")  # the read works, and warns
    assert warned == "deprecated-read:summarise:2026-03-02:1:legacy"
    plan = lc.plan(AFTER)
    (blocked,) = plan.blocked
    assert blocked.reader == "summarise" and blocked.asset == "legacy"
    assert "after the notice" in blocked.reason and "deprecate it again" in blocked.fix
    assert plan.deletions == ()
    done = lc.apply(AFTER, "ops", lambda evs: world.submit(evs, AFTER))
    assert done.removed == 0 and kept.exists()
    assert len(_events(world, "lifecycle.deletion_blocked")) == 1
    lc.apply(AFTER, "ops", lambda evs: world.submit(evs, AFTER))  # told once per read
    assert len(_events(world, "lifecycle.deletion_blocked")) == 1


def test_dry_run_then_apply_on_real_files(world: World) -> None:
    lc = world.svc.lifecycle
    files = [world.land("spare", day, T0 - timedelta(days=2)) for day in
             ("2026-02-26", "2026-02-27")]
    world.submit([lc.deprecate_event("spare", DATE, "nobody reads it", T0, by="ops")], T0)
    early = lc.plan(T0 + timedelta(days=5))
    assert early.deletions == () and "has not passed" in early.blocked[0].reason
    plan = lc.plan(AFTER)
    assert sorted(i.location for i in plan.deletions) == ["data/spare/2026-02-26.csv",
                                                          "data/spare/2026-02-27.csv"]
    assert {i.rule for i in plan.deletions} == {"deprecated"}
    assert plan.freed_bytes == sum(f.stat().st_size for f in files) > 0
    assert all(f.exists() for f in files)  # a dry run changes nothing
    done = lc.apply(AFTER, "ops", lambda evs: world.submit(evs, AFTER))
    assert done.removed == 2 and done.deleted == ("dataset spare",)
    assert not any(f.exists() for f in files)
    with world.svc.store.read() as conn:
        stones = facts.tombstone_rows(conn)
    assert [(t.asset, t.by, t.rule) for t in stones] == [("spare", "ops", "deprecated")] * 2
    (standing,) = lc.standings(AFTER)
    assert standing.state == "deleted" and standing.deleted_at
    assert lc.plan(AFTER).deletions == ()  # nothing left
    with pytest.raises(Conflict):
        lc.deprecate_event("spare", "2026-05-01", "again", AFTER)


def test_a_sweep_stopped_midway_finishes_on_the_next(world: World) -> None:
    lc = world.svc.lifecycle
    files = [world.land("spare", day, T0 - timedelta(days=2)) for day in
             ("2026-02-26", "2026-02-27")]
    world.submit([lc.deprecate_event("spare", DATE, "nobody reads it", T0)], T0)
    plan = lc.plan(AFTER)
    # the process died after recording the first batch of tombstones, before removing a file
    world.submit([lc.tombstone(i, AFTER, "ops") for i in plan.deletions], AFTER)
    assert all(f.exists() for f in files)
    again = lc.plan(AFTER + timedelta(hours=1))
    assert again.deletions == () and len(again.finish) == 2  # recorded: to finish, not redo
    done = lc.apply(AFTER + timedelta(hours=1), "ops",
                    lambda evs: world.submit(evs, AFTER + timedelta(hours=1)))
    assert done.removed == 2 and not any(f.exists() for f in files)
    assert len(_events(world, DataDeleted.name)) == 2  # each deletion recorded once


def test_retention_deletes_old_data_not_recently_read(world: World) -> None:
    lc = world.svc.lifecycle
    old = world.land("raw", "2026-01-10", utc(2026, 1, 11))
    new = world.land("raw", "2026-02-25", utc(2026, 2, 26))
    plan = lc.plan(utc(2026, 3, 1))
    assert [(i.location, i.rule) for i in plan.deletions] == [
        ("data/raw/2026-01-10.csv", "retention 30d")]
    lc.apply(utc(2026, 3, 1), "sweep", lambda evs: world.submit(evs, utc(2026, 3, 1)))
    assert not old.exists() and new.exists()


def test_a_version_sharing_its_file_with_a_kept_one_stays(world: World) -> None:
    lc = world.svc.lifecycle
    world.land("raw", "2026-01-10", utc(2026, 1, 11), "v1\n")
    path = world.land("raw", "2026-01-10", utc(2026, 2, 25), "v2\n")  # same file, version 2
    assert lc.plan(utc(2026, 3, 1)).deletions == ()
    assert path.read_text() == "v2\n"
