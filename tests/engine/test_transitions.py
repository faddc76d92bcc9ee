"""Run states change through one door, which refuses moves the table does not allow."""

from __future__ import annotations

import pytest

from andon.engine.runs import LEGAL, Run, RunStatus, transition
from andon.events import RunStarted, RunSucceeded
from andon.model.errors import EXIT_USAGE, IllegalTransition
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
    line = Line(graph([source("raw")], [pipe("a", ["raw"])], default=1))
    line.notify("raw", "2026-01-04")
    line.notify("raw", "2026-01-05")
    assert line.queued() == ["a:2026-01-05:1"]

    with pytest.raises(IllegalTransition, match="from queued to succeeded"):
        line.send(RunSucceeded(at=T0, run_id="a:2026-01-05:1", pipeline="a",
                               partition="2026-01-05"))
    with pytest.raises(IllegalTransition, match="from running to running"):
        line.send(RunStarted(at=T0, run_id="a:2026-01-04:1", pipeline="a",
                             partition="2026-01-04"))
    line.succeed("a:2026-01-04:1")
    with pytest.raises(IllegalTransition, match="from succeeded to succeeded"):
        line.succeed("a:2026-01-04:1")
