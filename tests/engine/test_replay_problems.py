"""A replay that meets an inconsistent log finishes and says what did not fit (which event, its
place, which run) instead of raising: a project must start whatever its log holds."""

from __future__ import annotations

import pytest

from andon.engine.core import decide, replay
from andon.events import (
    CordPulled,
    CordRecovered,
    CordReleased,
    CordResolved,
    Event,
    OutputWritten,
    PartitionAvailable,
    RunCancelled,
    RunFailed,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.model.status import RunStatus
from tests.engine.harness import T0, graph, pipe, source

G = graph([source("raw")], [pipe("a", ["raw"])], default=2)
DAY = "2026-01-05"
RUN = f"a:{DAY}:1"


def _arrived() -> PartitionAvailable:
    return PartitionAvailable(id="arrived", at=T0, asset="raw", partition=DAY, fingerprint="f1")


def _started(run_id: str = RUN) -> RunStarted:
    return RunStarted(id=f"started:{run_id}", at=T0, run_id=run_id, pipeline="a", partition=DAY)


def _succeeded(run_id: str = RUN, id_: str = "") -> RunSucceeded:
    return RunSucceeded(id=id_ or f"ended:{run_id}", at=T0, run_id=run_id, pipeline="a",
                        partition=DAY, outputs=(OutputWritten("a", DAY, fingerprint="out1"),))


@pytest.mark.parametrize("ending", [
    _succeeded(),
    RunFailed(id=f"ended:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY),
    RunCancelled(id=f"ended:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY),
])
def test_a_run_that_was_never_queued_is_adopted_and_reported(ending: Event) -> None:
    # the log a client-chosen id equal to ``queued:RUN`` left behind: no run.queued for RUN
    log: list[Event] = [_arrived(), _started(), ending]
    state = replay(G, log)
    assert [(p.position, p.event_id, p.event, p.run_id) for p in state.problems] == [
        (2, f"started:{RUN}", "run.started", RUN)]
    assert "no run.queued before it" in state.problems[0].message
    assert RUN in str(state.problems[0]) and "event 2 (run.started" in str(state.problems[0])
    run = state.runs[RUN]
    assert run.status.value == ending.name.split(".")[1]
    assert state.running_per_pipeline["a"] == 0 and state.pool_used["default"] == 0
    assert not state.active and not state.queue
    # the next run of the partition gets a new number: its events' ids are not in the log
    state.dirty.add(("a", DAY))
    state.requests[("a", DAY)] = "manual"
    queued = [e for e in decide(G, state, T0).events if isinstance(e, RunQueued)]
    assert [e.run_id for e in queued] == [f"a:{DAY}:2"]
    assert {e.id for e in queued}.isdisjoint(e.id for e in log)


def test_an_end_without_start_or_queue_is_adopted_with_its_outputs() -> None:
    state = replay(G, [_arrived(), _succeeded()])
    assert [(p.position, p.event, p.run_id) for p in state.problems] == [
        (2, "run.succeeded", RUN)]
    assert "run.queued and run.started" in state.problems[0].message
    assert state.runs[RUN].status is RunStatus.SUCCEEDED
    assert state.version("a", DAY) == 1  # what it made is known: not made again
    assert state.running_per_pipeline["a"] == 0 and state.pool_used["default"] == 0


def test_illegal_moves_and_a_second_queue_are_skipped_and_reported() -> None:
    queued = RunQueued(id=f"queued:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY)
    log: list[Event] = [
        _arrived(), queued, _started(), _succeeded(),
        _succeeded(id_="again"),  # a second end under another id
        RunQueued(id="queued-again", at=T0, run_id=RUN, pipeline="a", partition=DAY),
        RunStarted(id="start-again", at=T0, run_id=RUN, pipeline="a", partition=DAY),
    ]
    state = replay(G, log)
    assert [(p.position, p.event_id, p.run_id) for p in state.problems] == [
        (5, "again", RUN), (6, "queued-again", RUN), (7, "start-again", RUN)]
    assert "from succeeded to succeeded" in state.problems[0].message
    assert "queued already" in state.problems[1].message
    assert state.runs[RUN].status is RunStatus.SUCCEEDED and state.version("a", DAY) == 1
    assert state.run_count[("a", DAY)] == 1 and not state.active
    assert state.events_applied == len(log)


CORD = f"raw:{DAY}:1"
PULL = CordPulled(id="p", at=T0, cord_id=CORD, asset="raw", partition=DAY, version=1,
                  reason="bad")


@pytest.mark.parametrize("odd", [
    [CordResolved(id="r", at=T0, cord_id="raw:2026-01-05:9", note="x"),
     CordReleased(id="l", at=T0, cord_id="raw:2026-01-05:9", version=2)],  # never pulled
    [PULL, CordResolved(id="r", at=T0, cord_id=CORD, note="x"),
     CordResolved(id="r2", at=T0, cord_id=CORD, note="x")],  # resolved twice
    [PULL, CordPulled(**{**vars(PULL), "id": "p2"})],  # pulled twice under two ids
    [PULL, CordRecovered(id="rc", at=T0, cord_id=CORD)],  # recovered before released
])
def test_odd_cord_events_never_stop_a_replay(odd: list[Event]) -> None:
    state = replay(G, [_arrived(), *odd])
    assert state.events_applied == 1 + len(odd)
    assert all(p.message.endswith("event skipped") for p in state.problems)


def test_a_consistent_log_has_no_problems() -> None:
    queued = RunQueued(id=f"queued:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY)
    assert replay(G, [_arrived(), queued, _started(), _succeeded()]).problems == []


def test_an_adopted_run_leaves_the_partitions_queued_run_in_charge() -> None:
    queued = RunQueued(id=f"queued:a:{DAY}:2", at=T0, run_id=f"a:{DAY}:2", pipeline="a",
                       partition=DAY)
    state = replay(G, [_arrived(), queued, _succeeded()])  # an end of the unknown run 1
    assert [p.run_id for p in state.problems] == [RUN]
    assert state.active == {("a", DAY): f"a:{DAY}:2"} and list(state.queue) == [f"a:{DAY}:2"]
    assert state.run_count[("a", DAY)] == 2


@pytest.mark.parametrize("taken", [f"queued:{RUN}", f"started:{RUN}", f"ended:{RUN}",
                                   f"launched:{RUN}:4242"])
def test_a_run_number_whose_event_ids_are_taken_is_skipped(taken: str) -> None:
    """A partition.available holding a run event's id (a client id from before client ids were
    stored as client:ID): the run that would have that number gets the next one."""
    state = replay(G, [PartitionAvailable(id=taken, at=T0, asset="raw", partition=DAY,
                                          fingerprint="f1")])
    assert [(p.position, p.event_id, p.run_id) for p in state.problems] == [(1, taken, RUN)]
    assert state.taken_runs == {RUN}
    state.dirty.add(("a", DAY))
    (queued,) = [e for e in decide(G, state, T0).events if isinstance(e, RunQueued)]
    assert queued.run_id == f"a:{DAY}:2" and state.run_count[("a", DAY)] == 2


@pytest.mark.parametrize("harmless", ["notify:0123", "client:queued:a:2026-01-05:1",
                                      "0123abcd", "queued:", "arrival:raw:x"])
def test_other_ids_of_a_partition_available_are_not_taken(harmless: str) -> None:
    state = replay(G, [PartitionAvailable(id=harmless, at=T0, asset="raw", partition=DAY)])
    assert state.problems == [] and not state.taken_runs
