"""Run states change through one door, which refuses moves the table does not allow."""

from __future__ import annotations

import pytest

from andon.engine.runs import LEGAL, Run, transition
from andon.events import RunStarted, RunSucceeded
from andon.model.errors import EXIT_USAGE, IllegalTransition
from andon.model.status import RunStatus
from tests.engine.harness import T0, Line, graph, pipe, source

Q, R, S, F, C = (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED, RunStatus.FAILED,
                 RunStatus.CANCELLED)
ALLOWED = {(Q, R), (Q, C), (R, S), (R, F), (R, C)}


def _run(status: RunStatus) -> Run:
    return Run("p:2026-01-05:1", "p", "2026-01-05", 1, "new_data", T0, 1, status=status)


def test_the_table_is_exactly_queued_running_then_an_end() -> None:
    assert {(a, b) for a, targets in LEGAL.items() for b in targets} == ALLOWED
    assert set(LEGAL) == set(RunStatus)
    assert {s for s in RunStatus if s.ended} == {S, F, C}


@pytest.mark.parametrize("start,to", [(a, b) for a in RunStatus for b in RunStatus])
def test_transition_applies_legal_moves_and_refuses_the_rest(start: RunStatus,
                                                            to: RunStatus) -> None:
    run = _run(start)
    if (start, to) in ALLOWED:
        transition(run, to)
        assert run.status is to
        return
    with pytest.raises(IllegalTransition) as info:
        transition(run, to)
    assert run.status is start  # unchanged
    err = info.value
    assert f"from {start.value} to {to.value}" in err.message and run.run_id in err.message
    assert err.hint.startswith("legal next states: ")
    assert err.exit_code == EXIT_USAGE and err.http_status == 409


def test_the_engine_refuses_an_event_that_would_skip_a_state() -> None:
    """An illegal move changes nothing and is reported (which event, where, which run), never
    raised: a replay of an inconsistent log must finish."""
    line = Line(graph([source("raw")], [pipe("a", ["raw"])], default=1))
    line.notify("raw", "2026-01-04")
    line.notify("raw", "2026-01-05")
    assert line.queued() == ["a:2026-01-05:1"]

    line.send(RunSucceeded(id="bad-1", at=T0, run_id="a:2026-01-05:1", pipeline="a",
                           partition="2026-01-05"))
    line.send(RunStarted(id="bad-2", at=T0, run_id="a:2026-01-04:1", pipeline="a",
                         partition="2026-01-04"))
    line.succeed("a:2026-01-04:1")
    line.send(RunSucceeded(id="bad-3", at=T0, run_id="a:2026-01-04:1", pipeline="a",
                           partition="2026-01-04"))
    problems = line.state.problems
    assert [(p.event_id, p.event, p.run_id) for p in problems] == [
        ("bad-1", "run.succeeded", "a:2026-01-05:1"), ("bad-2", "run.started", "a:2026-01-04:1"),
        ("bad-3", "run.succeeded", "a:2026-01-04:1")]
    assert "from queued to succeeded" in problems[0].message
    assert "from running to running" in problems[1].message
    assert "from succeeded to succeeded" in problems[2].message
    assert all(p.message.endswith("event skipped") for p in problems)
    assert [p.position for p in problems] == sorted({p.position for p in problems})
    assert line.state.runs["a:2026-01-05:1"].status is not RunStatus.SUCCEEDED
    assert line.state.runs["a:2026-01-04:1"].status is RunStatus.SUCCEEDED
    assert line.state.running_per_pipeline["a"] == 1 and line.state.pool_used["default"] == 1
