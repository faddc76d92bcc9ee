"""Cancelling queued and running runs."""

from __future__ import annotations

from andon.events import RunCancelled
from andon.model.status import RunStatus
from tests.engine.harness import Line, graph, pipe, source, started


def _line() -> Line:
    line = Line(graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"])], default=1))
    line.notify("raw", "2026-01-04")
    line.notify("raw", "2026-01-05")
    line.notify("raw", "2026-01-06")
    assert line.running() == ["a:2026-01-04:1"]
    assert line.queued() == ["a:2026-01-05:1", "a:2026-01-06:1"]
    return line


def test_cancelling_a_queued_run_ends_it_at_once_without_an_executor() -> None:
    line = _line()

    out = line.cancel("a:2026-01-05:1")

    assert out.cancel == []  # nothing runs, so the executor has nothing to do
    (event,) = out.events
    assert isinstance(event, RunCancelled)
    assert (event.run_id, event.by) == ("a:2026-01-05:1", "test")
    assert line.status("a:2026-01-05:1") is RunStatus.CANCELLED
    assert line.queued() == ["a:2026-01-06:1"]

    # the freed place in the queue goes to the next run; the cancelled partition stays put
    out = line.succeed("a:2026-01-04:1")
    assert started(out) == ["a:2026-01-06:1"]
    line.run_all()
    assert line.state.run_count[("a", "2026-01-05")] == 1
    assert line.version("a", "2026-01-05") == 0


def test_cancelling_a_running_run_asks_the_executor_and_frees_the_slot_when_it_reports() -> None:
    line = _line()

    out = line.cancel("a:2026-01-04:1")

    assert out.cancel == ["a:2026-01-04:1"]
    assert out.events == []  # ended only once the executor has stopped it
    assert line.status("a:2026-01-04:1") is RunStatus.RUNNING
    assert line.state.pool_used["default"] == 1

    out = line.killed("a:2026-01-04:1")

    assert line.status("a:2026-01-04:1") is RunStatus.CANCELLED
    assert started(out) == ["a:2026-01-05:1"]  # the slot went to the next in line
    assert ("a", "2026-01-04") not in line.state.active
    assert line.version("b", "2026-01-04") == 0  # nothing downstream of a cancelled run


def test_a_cancelled_partition_runs_again_when_asked() -> None:
    line = _line()
    line.cancel("a:2026-01-05:1")
    line.run_all()

    line.request("a", "2026-01-05")
    line.run_all()

    assert line.status("a:2026-01-05:2") is RunStatus.SUCCEEDED
    assert line.version("b", "2026-01-05") == 1


def test_cancelling_an_ended_or_unknown_run_changes_nothing() -> None:
    line = _line()
    line.succeed("a:2026-01-04:1")
    before = (dict(line.state.active), list(line.state.queue))

    assert line.cancel("a:2026-01-04:1").events == []
    assert line.cancel("no-such-run").events == []

    assert (dict(line.state.active), list(line.state.queue)) == before
    assert line.status("a:2026-01-04:1") is RunStatus.SUCCEEDED
