"""Re-making a partition (a manual run, a backfill) makes what was built from its old version stale;
stale partitions re-run automatically, in dependency order, each exactly once."""

from __future__ import annotations

from andon.events import Event, PartitionRef, RunStarted
from andon.model.definitions import Input
from andon.model.partitions import LastN
from andon.model.status import RunStatus
from tests.engine.harness import Line, graph, pipe, queued, source, started

DAY = "2026-01-05"


def _built(line: Line) -> Line:
    """Run everything the first arrival of ``raw`` triggers to completion."""
    line.notify("raw", DAY)
    line.run_all()
    assert line.queued() == [] and line.running() == []
    return line


def _pipelines(events: list[Event]) -> list[str]:
    return [e.pipeline for e in events if isinstance(e, RunStarted)]


def test_a_manual_run_remakes_the_partition_and_its_consumers_follow() -> None:
    line = _built(Line(graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"])])))
    assert line.version("a", DAY) == 1
    mark = len(line.log)

    out = line.request("a", DAY)
    assert [(q.run_id, q.reason) for q in queued(out)] == [("a:2026-01-05:2", "manual")]
    out = line.succeed("a:2026-01-05:2")
    assert line.version("a", DAY) == 2
    assert [(q.run_id, q.reason) for q in queued(out)] == [("b:2026-01-05:2", "upstream_changed")]
    line.run_all()

    assert _pipelines(line.log[mark:]) == ["a", "b"]
    assert line.state.runs["b:2026-01-05:2"].inputs == (PartitionRef("a", DAY, 2),)
    assert line.version("b", DAY) == 2


def test_a_diamond_reruns_the_join_once_after_both_branches() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"]), pipe("c", ["a"]),
                                pipe("d", ["b", "c"])])
    line = _built(Line(g))
    mark = len(line.log)

    line.request("a", DAY)
    line.succeed("a:2026-01-05:2")
    assert sorted(line.running()) == ["b:2026-01-05:2", "c:2026-01-05:2"]
    out = line.succeed("b:2026-01-05:2")
    assert out.events == []  # d waits: c is being re-made
    out = line.succeed("c:2026-01-05:2")
    assert started(out) == ["d:2026-01-05:2"]
    line.run_all()

    assert _pipelines(line.log[mark:]) == ["a", "b", "c", "d"]
    run_d = line.state.runs["d:2026-01-05:2"]
    assert run_d.inputs == (PartitionRef("b", DAY, 2), PartitionRef("c", DAY, 2))
    assert line.state.run_count[("d", DAY)] == 2  # the first build and exactly one re-run


def test_a_diamond_with_one_slot_still_reruns_the_join_once() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"]), pipe("c", ["a"]),
                                pipe("d", ["b", "c"])], default=1)
    line = _built(Line(g))
    mark = len(line.log)
    line.request("a", DAY)
    line.run_all()
    assert _pipelines(line.log[mark:]) == ["a", "b", "c", "d"]


def test_an_uneven_diamond_reruns_the_join_once_after_the_longer_branch() -> None:
    # a -> b ------> d
    # a -> c1 -> c2 -> d : d must wait for c2, which is stale while c1 is re-made
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"]), pipe("c1", ["a"]),
                                pipe("c2", ["c1"]), pipe("d", ["b", "c2"])])
    line = _built(Line(g))
    mark = len(line.log)

    line.request("a", DAY)
    line.succeed("a:2026-01-05:2")
    out = line.succeed("b:2026-01-05:2")
    assert started(out) == []  # d must not read the new b with the stale c2
    line.run_all()

    assert _pipelines(line.log[mark:]) == ["a", "b", "c1", "c2", "d"]
    assert line.state.run_count[("d", DAY)] == 2
    run_d = line.state.runs["d:2026-01-05:2"]
    assert run_d.inputs == (PartitionRef("b", DAY, 2), PartitionRef("c2", DAY, 2))


def test_the_join_still_reruns_when_the_longer_branch_fails() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"]), pipe("c1", ["a"]),
                                pipe("c2", ["c1"]), pipe("d", ["b", "c2"])])
    line = _built(Line(g))
    line.request("a", DAY)
    line.succeed("a:2026-01-05:2")
    line.succeed("b:2026-01-05:2")

    out = line.fail("c1:2026-01-05:2")

    # c2 keeps its old version; d has waited long enough and reads the new b
    assert started(out) == ["d:2026-01-05:2"]
    assert line.state.runs["d:2026-01-05:2"].inputs == (PartitionRef("b", DAY, 2),
                                                         PartitionRef("c2", DAY, 1))


def test_on_upstream_change_ignore_keeps_the_old_output_and_stops_the_cascade() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"], on_upstream_change="ignore"),
                                pipe("c", ["b"])])
    line = _built(Line(g))

    line.request("a", DAY)
    out = line.succeed("a:2026-01-05:2")

    assert out.events == []
    assert (line.version("a", DAY), line.version("b", DAY), line.version("c", DAY)) == (2, 1, 1)

    # asked by hand, b does re-run, and then c follows as usual
    line.request("b", DAY)
    line.run_all()
    assert (line.version("b", DAY), line.version("c", DAY)) == (2, 2)


def test_a_request_while_the_partition_runs_remakes_it_afterwards() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"])]))
    line.notify("raw", DAY)

    assert line.request("a", DAY).events == []  # it is running now
    out = line.succeed("a:2026-01-05:1")

    assert [(q.run_id, q.reason) for q in queued(out)] == [("a:2026-01-05:2", "manual")]


def test_a_request_for_a_queued_partition_adds_no_second_run() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"])], default=1))
    line.notify("raw", "2026-01-04")
    line.notify("raw", DAY)
    assert line.queued() == ["a:2026-01-05:1"]

    assert line.request("a", DAY).events == []
    line.run_all()
    assert line.state.run_count[("a", DAY)] == 1


def test_a_request_before_the_inputs_exist_waits_for_them() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"])]))
    assert line.request("a", DAY).events == []

    out = line.notify("raw", DAY)

    assert [(q.run_id, q.reason) for q in queued(out)] == [("a:2026-01-05:1", "manual")]
    assert line.state.requests == {}


def test_a_backfill_remakes_each_partition_and_its_consumers() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"])]))
    days = ["2026-01-03", "2026-01-04", "2026-01-05"]
    for day in days:
        line.notify("raw", day)
    line.run_all()

    for day in days:
        line.request("a", day, reason="backfill")
    assert {q for q in line.queued() + line.running()} == {f"a:{d}:2" for d in days}
    assert all(line.state.runs[f"a:{d}:2"].reason == "backfill" for d in days)
    line.run_all()

    assert all(line.version("b", d) == 2 for d in days)
    assert all(line.status(f"b:{d}:2") is RunStatus.SUCCEEDED for d in days)


def test_remaking_one_day_reruns_every_window_that_holds_it() -> None:
    g = graph([source("raw")], [pipe("a", ["raw"]), pipe("weekly", [Input("a", LastN(3))])])
    line = Line(g)
    days = [f"2026-01-0{d}" for d in range(1, 7)]
    for day in days:
        line.notify("raw", day)
    line.run_all()
    assert all(line.state.run_count[("weekly", d)] == 1 for d in days)

    line.request("a", "2026-01-03")
    line.run_all()

    rerun = sorted(d for d in days if line.state.run_count[("weekly", d)] == 2)
    assert rerun == ["2026-01-03", "2026-01-04", "2026-01-05"]
    assert all(line.state.run_count[("weekly", d)] == 1 for d in days if d not in rerun)
