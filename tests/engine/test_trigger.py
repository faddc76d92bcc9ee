"""Runs are triggered by data: the moment every input partition exists, never by polling."""

from __future__ import annotations

from andon.engine.core import next_wakeup
from andon.events import PartitionRef, RunQueued, RunStarted
from andon.model.definitions import Input
from andon.model.partitions import LastN, Rollup
from tests.engine.harness import HOURLY, Line, graph, pipe, queued, source, started


def test_notify_queues_and_starts_at_once_when_the_pool_has_room() -> None:
    line = Line(graph([source("raw")], [pipe("clean", ["raw"])]))

    out = line.notify("raw", "2026-01-05")

    assert [type(e) for e in out.events] == [RunQueued, RunStarted]
    q, s = out.events
    assert isinstance(q, RunQueued) and isinstance(s, RunStarted)
    assert (q.run_id, q.pipeline, q.partition, q.reason, q.attempt) == (
        "clean:2026-01-05:1", "clean", "2026-01-05", "new_data", 1)
    assert q.at == s.at == line.now  # no waiting between queued and started
    assert s.inputs == (PartitionRef("raw", "2026-01-05", 1),)
    assert (s.pool, s.slots) == ("default", 1)
    assert out.cancel == []
    assert next_wakeup(line.state, line.now) is None  # nothing to wake up for: no polling


def test_outputs_trigger_their_consumers_all_the_way_down() -> None:
    line = Line(graph([source("raw")], [pipe("a", ["raw"]), pipe("b", ["a"]), pipe("c", ["b"])]))
    assert started(line.notify("raw", "2026-01-05")) == ["a:2026-01-05:1"]

    assert started(line.succeed("a:2026-01-05:1")) == ["b:2026-01-05:1"]
    assert started(line.succeed("b:2026-01-05:1")) == ["c:2026-01-05:1"]
    out = line.succeed("c:2026-01-05:1")

    assert out.events == []  # the end of the line: nothing more to do
    assert [line.version(a, "2026-01-05") for a in ("raw", "a", "b", "c")] == [1, 1, 1, 1]
    run_c = line.state.runs["c:2026-01-05:1"]
    assert run_c.inputs == (PartitionRef("b", "2026-01-05", 1),)


def test_a_join_waits_for_every_input_and_only_the_matching_partition_runs() -> None:
    line = Line(graph([source("orders"), source("fx")], [pipe("eur", ["orders", "fx"])]))

    assert line.notify("orders", "2026-01-05").events == []
    assert line.notify("fx", "2026-01-06").events == []  # another day: still nothing to join
    out = line.notify("fx", "2026-01-05")

    assert started(out) == ["eur:2026-01-05:1"]
    assert line.queued() == []


def test_unrelated_pipelines_are_not_touched() -> None:
    line = Line(graph([source("x"), source("y")], [pipe("px", ["x"]), pipe("py", ["y"])]))
    out = line.notify("x", "2026-01-05")
    assert [e.pipeline for e in queued(out)] == ["px"]


def test_a_window_waits_for_all_n_partitions() -> None:
    line = Line(graph([source("raw")], [pipe("weekly", [Input("raw", LastN(3))])]))

    # the first partition of the scheme: its window is clipped at the start, so it runs alone
    assert started(line.notify("raw", "2026-01-01")) == ["weekly:2026-01-01:1"]
    line.succeed("weekly:2026-01-01:1")

    assert line.notify("raw", "2026-01-05").events == []  # needs 01-03, 01-04 and 01-05
    assert line.notify("raw", "2026-01-03").events == []
    out = line.notify("raw", "2026-01-04")

    # 01-04 completes the window of 01-05 (01-03..01-05); 01-04's own window lacks 01-02
    assert started(out) == ["weekly:2026-01-05:1"]
    run = line.state.runs["weekly:2026-01-05:1"]
    assert [r.partition for r in run.inputs] == ["2026-01-03", "2026-01-04", "2026-01-05"]

    out = line.notify("raw", "2026-01-02")
    # 01-02 completes three windows: 01-02 (clipped to 01-01..01-02), 01-03 and 01-04
    assert sorted(started(out)) == ["weekly:2026-01-02:1", "weekly:2026-01-03:1",
                                    "weekly:2026-01-04:1"]


def test_a_rollup_waits_for_every_hour_of_the_day() -> None:
    line = Line(graph([source("clicks", HOURLY)], [pipe("daily", [Input("clicks", Rollup())])]))
    hours = [f"2026-01-05T{h:02d}" for h in range(24)]

    for hour in hours[:-1]:
        assert line.notify("clicks", hour).events == []
    out = line.notify("clicks", hours[-1])

    assert started(out) == ["daily:2026-01-05:1"]
    assert [r.partition for r in line.state.runs["daily:2026-01-05:1"].inputs] == hours


def test_a_partition_announced_again_with_identical_content_makes_no_new_version() -> None:
    line = Line(graph([source("raw")], [pipe("clean", ["raw"])]))
    line.notify("raw", "2026-01-05", fingerprint="sha-1")
    line.succeed("clean:2026-01-05:1")

    out = line.notify("raw", "2026-01-05", fingerprint="sha-1")

    assert out.events == []
    assert line.version("raw", "2026-01-05") == 1

    # different content is a new version, and what was built from the old one is re-made
    out = line.notify("raw", "2026-01-05", fingerprint="sha-2")
    assert line.version("raw", "2026-01-05") == 2
    assert [(q.run_id, q.reason) for q in queued(out)] == [("clean:2026-01-05:2",
                                                             "upstream_changed")]
    assert started(out) == ["clean:2026-01-05:2"]


def test_an_announcement_without_a_fingerprint_counts_as_new_data() -> None:
    # with nothing to compare, andon cannot know the data is the same: it re-makes
    line = Line(graph([source("raw")], [pipe("clean", ["raw"])]))
    line.notify("raw", "2026-01-05")
    line.succeed("clean:2026-01-05:1")
    line.notify("raw", "2026-01-05")
    assert line.version("raw", "2026-01-05") == 2
    assert line.queued() == [] and line.running() == ["clean:2026-01-05:2"]
