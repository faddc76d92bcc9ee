"""The live manual over a real store: failures for good grouped by signature, retries left out,
resolutions and their hint, regressions by code version, and the other kinds of problem."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from andon.events import (
    CheckFailed,
    CheckPassed,
    CordPulled,
    CordResolved,
    DeliverableMissed,
    Event,
    Frame,
    PartitionAvailable,
    RunFailed,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.live.manual import Manual
from andon.manual.rules import load_rules
from andon.model.errors import BadRequest, NotFound
from andon.project.load import load_project
from andon.store.sql import Store

T0 = datetime(2026, 3, 1, 6, tzinfo=UTC)
PIPELINES = '''
import andon

andon.source("export", location="data/export/{partition}.csv")


@andon.pipeline(inputs=["export"], outputs=["sales"])
def load(ctx):
    pass


@andon.pipeline(inputs=["sales"], outputs=["report"])
def report(ctx):
    pass
'''
FRAMES = (Frame("pipelines.py", "load"), Frame("helpers/io.py", "fetch"))


@pytest.fixture
def world(make_project, tmp_path: Path) -> Iterator[tuple[Manual, Store, list[int]]]:
    project = load_project(make_project(PIPELINES))
    store = Store(f"sqlite:///{tmp_path / 'andon.db'}")
    yield Manual(project.graph, store), store, [0]
    store.close()


def fail(store: Store, n: list[int], day: int, attempt: int = 1, code: str = "c1",
         message: str = "", error: str = "ConnectionError", pipeline: str = "load",
         hours: float = 0) -> str:
    """A run of ``pipeline`` for day ``day`` of March that fails (attempt ``attempt``)."""
    n[0] += 1
    key = f"2026-03-{day:02d}"
    run_id = f"{pipeline}:{key}:{attempt}"
    at = T0 + timedelta(days=day, hours=hours)
    message = message or f"export of {key} timed out after {30 + n[0]} s (request 7f3a9{n[0]:03d})"
    events: list[Event] = [
        RunQueued(id=f"q{n[0]}", at=at, run_id=run_id, pipeline=pipeline, partition=key,
                  attempt=attempt, reason="retry" if attempt > 1 else "new_data"),
        RunStarted(id=f"s{n[0]}", at=at, run_id=run_id, pipeline=pipeline, partition=key,
                   attempt=attempt, code_version=code, commit="ab12cd"),
        RunFailed(id=f"f{n[0]}", at=at + timedelta(minutes=2), run_id=run_id, pipeline=pipeline,
                  partition=key, attempt=attempt, error_type=error, error_message=message,
                  frames=FRAMES)]
    store.append(events)
    return run_id


def test_failures_for_good_group_by_signature_and_retries_are_left_out(world) -> None:
    manual, store, n = world
    fail(store, n, 1)
    fail(store, n, 1, attempt=2)  # the retry failed too: the first attempt was not for good
    fail(store, n, 2)
    fail(store, n, 3, message="KeyError in column 'price'", error="KeyError")
    entries = manual.entries(T0)
    assert [len(e.occurrences) for e in entries] == [1, 2]  # newest first
    timeout = entries[1]
    assert timeout.kind == "failure" and timeout.pipelines == ("load",)
    assert timeout.title == "ConnectionError: export of <date> timed out after <n> s (request <hex>)"
    assert [o.run_id for o in timeout.occurrences] == ["load:2026-03-01:2", "load:2026-03-02:1"]
    assert timeout.file == "helpers/io.py" and timeout.function == "fetch"
    assert timeout.consumers == ("report",)
    assert timeout.partitions == ("load 2026-03-01", "load 2026-03-02")
    assert timeout.occurrences[0].code_version == "c1" and timeout.occurrences[0].commit == "ab12cd"
    assert manual.entries(T0, kind="check") == []
    assert manual.entries(T0, since=T0 + timedelta(days=3)) == [entries[0]]


def test_a_resolution_shows_in_the_next_failures_hint(world) -> None:
    manual, store, n = world
    first = fail(store, n, 1)
    assert manual.hints([first]) == {}  # seen once, never fixed: nothing to say
    entry = manual.entries(T0)[0]
    resolved = manual.resolve_event(entry.id, "  restarted the export server  ", T0 + timedelta(days=1),
                                    link="https://example.com/issues/7", commit="ABC123", by="ana")
    assert (resolved.id, resolved.note, resolved.commit) == (
        f"resolved:{entry.id}:1", "restarted the export server", "abc123")
    store.append([resolved])
    again = fail(store, n, 3, code="c2")  # deployed after the fix
    hint = manual.hints([again, "nope"])[again]
    assert hint.seen == 2 and hint.since.startswith("2026-03-02")
    assert hint.text == ("seen 2 times since 2026-03-02; last fixed by: restarted the export "
                         "server (https://example.com/issues/7) [regression]")
    assert manual.entry(T0, entry.id).regression


def test_a_late_retry_from_older_code_is_not_a_regression(world) -> None:
    manual, store, n = world
    fail(store, n, 1, code="old")
    fail(store, n, 2, code="new")  # the new code ran (and failed the same way) before the fix
    entry = manual.entries(T0)[0]
    store.append([manual.resolve_event(entry.id, "fixed the retry loop", T0 + timedelta(days=3))])
    # the fix was written while "new" was in force? the graph's code_version is "" here, so the
    # fix ranks by its own time: code first seen before it is older
    late = fail(store, n, 5, code="old")
    assert not manual.hints([late])[late].regression
    fresh = fail(store, n, 6, code="newer")
    assert manual.hints([fresh])[fresh].regression


def test_checks_cords_deadlines_and_lost_runs_are_entries_too(world) -> None:
    manual, store, n = world
    key = "2026-03-01"
    store.append([PartitionAvailable(id="a1", at=T0, asset="export", partition=key, version=1)])
    store.append([
        CheckFailed(id="c1", at=T0 + timedelta(minutes=5), asset="export", partition=key,
                    version=1, check="not_empty", message="0 rows"),
        CordPulled(id="cord:1", at=T0 + timedelta(hours=1), cord_id="export:2026-03-01:1",
                   asset="export", partition=key, version=1, reason="prices doubled on 2026-03-01"),
        DeliverableMissed(id="missed:load:2026-03-01", at=T0 + timedelta(hours=9), pipeline="load",
                          partition=key, due=T0 + timedelta(hours=8)),
    ])
    fail(store, n, 1, error="ProcessLost", message="the run's process ended without a result")
    kinds = {e.kind: e for e in manual.entries(T0)}
    assert sorted(kinds) == ["check", "cord", "deadline", "lost"]
    assert kinds["check"].title == "check not_empty failed on export"
    assert kinds["cord"].title == "cord on export: prices doubled on <date>"
    assert kinds["deadline"].title == "missed deadline of load"
    assert kinds["check"].occurrences[0].began == "2026-03-01T06:00:00.000000Z"[:len(
        kinds["check"].occurrences[0].began)]
    store.append([
        CheckPassed(id="c2", at=T0 + timedelta(hours=2), asset="export", partition=key,
                    version=2, check="not_empty"),
        CordResolved(id="r1", at=T0 + timedelta(hours=3), cord_id="export:2026-03-01:1",
                     note="the vendor re-sent the file"),
        RunSucceeded(id="ok", at=T0 + timedelta(hours=10), run_id="load:2026-03-01:9",
                     pipeline="load", partition=key),
    ])
    kinds = {e.kind: e for e in manual.entries(T0)}
    assert kinds["check"].occurrences[0].recovered
    assert kinds["deadline"].occurrences[0].recovered and kinds["lost"].occurrences[0].recovered
    assert [r.note for r in kinds["cord"].resolutions] == ["the vendor re-sent the file"]


def test_rules_regroup_the_history(world, make_project, tmp_path: Path) -> None:
    manual, store, n = world
    fail(store, n, 1)
    fail(store, n, 2, message="HTTP 503 from the export server", error="HTTPError")
    assert len(manual.entries(T0)) == 2
    rules = load_rules({"manual": {"rules": [
        {"pipeline": "load", "match": "*export*", "fingerprint": "export-down"}]}},
        tmp_path, {"load"})
    grouped = Manual(manual.graph, store, rules)
    [entry] = grouped.entries(T0)
    assert entry.title == "export-down" and entry.fingerprint == "export-down"


def test_bad_resolutions_are_refused(world) -> None:
    manual, store, n = world
    fail(store, n, 1)
    entry = manual.entries(T0)[0]
    with pytest.raises(BadRequest, match="note"):
        manual.resolve_event(entry.id, "   ", T0)
    with pytest.raises(BadRequest, match="note"):
        manual.resolve_event(entry.id, "x" * 2001, T0)
    with pytest.raises(BadRequest, match="link"):
        manual.resolve_event(entry.id, "ok", T0, link="javascript:alert(1)")
    with pytest.raises(BadRequest, match="commit"):
        manual.resolve_event(entry.id, "ok", T0, commit="not-a-sha")
    with pytest.raises(NotFound, match="did you mean"):
        manual.resolve_event(entry.id[:-1] + "z", "ok", T0)
    with pytest.raises(BadRequest, match="kind"):
        manual.entries(T0, kind="bogus")


def test_times_to_detect_and_to_resolve(world) -> None:
    manual, store, n = world
    run_id = fail(store, n, 1)
    store.append([RunSucceeded(id="ok", at=T0 + timedelta(days=1, hours=1), run_id="load:x:9",
                               pipeline="load", partition="2026-03-01")])
    [occ] = [o for e in manual.entries(T0) for o in e.occurrences if o.run_id == run_id]
    assert occ.ttd_seconds == 120.0 and occ.ttr_seconds == 3600.0 - 120.0


def test_a_failure_a_retry_follows_leaves_the_manual_but_keeps_its_hint(world) -> None:
    manual, store, n = world
    fail(store, n, 1)
    first = fail(store, n, 2)
    assert [len(e.occurrences) for e in manual.entries(T0)] == [2]  # both for good, so far
    fail(store, n, 2, attempt=2)  # the retry: day 2's first attempt was not for good
    [entry] = manual.entries(T0)
    assert [o.run_id for o in entry.occurrences] == ["load:2026-03-01:1", "load:2026-03-02:2"]
    hint = manual.hints([first])[first]
    assert hint.seen == 2 and hint.entry == entry.id
