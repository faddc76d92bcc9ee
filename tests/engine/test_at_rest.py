"""``at_rest``: the engine's half of "nothing more can run" (``andon.serve.rest.look`` adds the
line's threads; materialize and the demo's --exit-when-done wait on it)."""

from __future__ import annotations

from datetime import timedelta

from andon.engine.core import at_rest
from tests.engine.cordlib import pull
from tests.engine.harness import Line, graph, pipe, source

DAY = "2026-01-05"


def test_a_line_is_at_rest_only_with_nothing_queued_running_or_waiting_to_retry() -> None:
    g = graph([source("raw")], [pipe("flaky", ["raw"], retries=1,
                                     retry_delay=timedelta(seconds=30)),
                                pipe("after", ["flaky"])])
    line = Line(g)
    assert at_rest(line.state)  # nothing has come: nothing can run until data does
    line.notify("raw", DAY)
    assert line.running() == ["flaky:2026-01-05:1"] and not at_rest(line.state)
    line.fail("flaky:2026-01-05:1")
    assert line.running() == [] and not at_rest(line.state)  # a retry waits for its back-off
    line.tick(timedelta(seconds=30))
    line.fail("flaky:2026-01-05:2")
    # failed for good: "after" can never be made from what is there, and nothing else runs
    assert line.running() == [] and line.queued() == [] and at_rest(line.state)


def test_partitions_halted_by_an_open_cord_leave_the_line_at_rest() -> None:
    g = graph([source("raw")], [pipe("clean", ["raw"]), pipe("report", ["clean"])])
    line = Line(g)
    line.notify("raw", DAY)
    line.run_all()
    assert at_rest(line.state)
    pull(line, "raw", DAY)
    # the halt itself runs nothing; the cord waits for a person, not for the engine
    assert line.running() == [] and at_rest(line.state)
