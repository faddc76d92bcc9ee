"""The andon cord in the pure core: a pulled cord halts everything downstream of a bad partition,
per partition and through every mapping; resolving it re-makes the partition and then everything
it affected, in dependency order, with no one un-pausing anything."""

from __future__ import annotations

from andon.engine.cords import CordStatus
from andon.events import (
    CordHalted,
    CordRecovered,
    CordReleased,
    CordRemakeFailed,
    PartitionRef,
    PipelinePartition,
    RunCancelRequested,
    RunQueued,
    RunStarted,
)
from andon.model.definitions import Input
from andon.model.partitions import LastN, Rollup
from andon.model.status import RunStatus
from tests.engine.cordlib import cord, halted, of_type, pull, resolve, suspects
from tests.engine.harness import HOURLY, Line, graph, pipe, queued, source, started

DAY = "2026-01-05"
NEXT = "2026-01-06"


def _chain(**options: object) -> Line:
    """raw -> clean (orders) -> report -> mail, every partition of DAY made."""
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]),
                                pipe("report", ["orders"], **options), pipe("mail", ["report"])])
    line = Line(g)
    line.notify("raw", DAY, fingerprint="v1")
    line.run_all()
    return line


def _pipelines(events: list) -> list[str]:  # type: ignore[type-arg]
    return [e.pipeline for e in events if isinstance(e, RunStarted)]


def test_pulling_halts_everything_downstream_of_the_partition_and_marks_what_it_made_suspect() -> None:
    line = _chain()

    cord_id, out = pull(line, "orders", DAY)

    assert cord_id == "orders:2026-01-05:1"
    (halt,) = of_type(out.events, CordHalted)
    # the producer's own partition first, then downstream in dependency order
    assert halt.partitions == (PipelinePartition("clean", DAY), PipelinePartition("report", DAY),
                               PipelinePartition("mail", DAY))
    assert halted(line) == {("clean", DAY), ("report", DAY), ("mail", DAY)}
    # what was made from the bad version is suspect, the bad partition itself is left as it is
    assert suspects(out.events) == [("report", DAY, 1), ("mail", DAY, 1)]
    assert cord(line, cord_id).status is CordStatus.PULLED
    assert PartitionRef("orders", DAY, 1) in line.state.cords.bad


def test_the_halt_is_per_partition_not_per_pipeline() -> None:
    line = _chain()
    pull(line, "orders", DAY)

    out = line.notify("raw", NEXT)  # another day flows as usual

    assert _pipelines(out.events) == ["clean"]
    line.run_all()
    assert line.version("mail", NEXT) == 1
    # while the halted day does not move, even when asked
    out = line.request("report", DAY)
    assert queued(out) == []


def test_queued_runs_are_held_not_cancelled_and_start_once_released() -> None:
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]), pipe("report", ["orders"]),
                                pipe("other", ["raw"])], default=1)
    line = Line(g)
    line.notify("raw", DAY)
    line.succeed("clean:2026-01-05:1")  # other holds the only slot, report waits for it
    assert line.running() == ["other:2026-01-05:1"]
    assert line.queued() == ["report:2026-01-05:1"]

    cord_id, out = pull(line, "orders", DAY)
    (halt,) = of_type(out.events, CordHalted)
    assert halt.held == ("report:2026-01-05:1",)
    out = line.succeed("other:2026-01-05:1")  # the slot frees, the held run stays queued
    assert started(out) == []
    assert line.status("report:2026-01-05:1") is RunStatus.QUEUED

    resolve(line, cord_id, manual_fix=True)

    assert line.running() == ["report:2026-01-05:1"]
    assert line.state.runs["report:2026-01-05:1"].inputs == (PartitionRef("orders", DAY, 2),)
    line.run_all()
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_running_consumers_are_cancelled_by_the_engine() -> None:
    line = _chain()
    line.request("report", DAY)
    assert line.running() == ["report:2026-01-05:2"]

    cord_id, out = pull(line, "orders", DAY)

    assert out.cancel == ["report:2026-01-05:2"]
    (ask,) = of_type(out.events, RunCancelRequested)
    assert ask.requested_by == f"cord:{cord_id}" and "bad rows" in ask.reason
    assert of_type(out.events, CordHalted)[0].cancelled == ("report:2026-01-05:2",)
    line.killed("report:2026-01-05:2")
    assert line.status("report:2026-01-05:2") is RunStatus.CANCELLED
    assert line.running() == [] and line.queued() == []


def test_a_pipeline_that_says_finish_lets_its_run_end_and_its_output_is_suspect() -> None:
    line = _chain(on_cord="finish")
    line.request("report", DAY)

    cord_id, out = pull(line, "orders", DAY)

    assert out.cancel == []
    assert of_type(out.events, CordHalted)[0].finishing == ("report:2026-01-05:2",)
    out = line.succeed("report:2026-01-05:2")
    assert suspects(out.events) == [("report", DAY, 2)]
    assert started(out) == []  # mail stays halted

    resolve(line, cord_id)
    line.run_all()
    assert line.version("report", DAY) == 3
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_resolving_remakes_the_partition_then_reruns_the_affected_ones_in_order() -> None:
    line = _chain()
    cord_id, _ = pull(line, "orders", DAY)
    mark = len(line.log)

    out = resolve(line, cord_id)

    assert [(q.run_id, q.reason) for q in queued(out)] == [("clean:2026-01-05:2", "cord")]
    assert cord(line, cord_id).status is CordStatus.RESOLVING
    assert halted(line) == {("report", DAY), ("mail", DAY)}  # until the re-make succeeds
    out = line.succeed("clean:2026-01-05:2")
    (released,) = of_type(out.events, CordReleased)
    assert (released.version, released.run_id) == (2, "clean:2026-01-05:2")
    assert started(out) == ["report:2026-01-05:2"]  # mail waits for report: no mixed inputs
    assert halted(line) == set()
    line.run_all()

    assert _pipelines(line.log[mark:]) == ["clean", "report", "mail"]  # each exactly once
    assert line.state.runs["mail:2026-01-05:2"].inputs == (PartitionRef("report", DAY, 2),)
    assert of_type(line.log, CordRecovered)[0].cord_id == cord_id
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_if_the_remake_fails_the_cord_stays_pulled_until_resolved_again() -> None:
    line = _chain()
    cord_id, _ = pull(line, "orders", DAY)
    resolve(line, cord_id)

    out = line.fail("clean:2026-01-05:2")

    (failed,) = of_type(out.events, CordRemakeFailed)
    assert failed.run_id == "clean:2026-01-05:2" and "boom" in failed.error
    assert cord(line, cord_id).status is CordStatus.PULLED
    assert halted(line) == {("clean", DAY), ("report", DAY), ("mail", DAY)}
    assert line.running() == [] and line.queued() == []

    resolve(line, cord_id)
    line.run_all()
    assert cord(line, cord_id).status is CordStatus.RECOVERED
    assert line.version("mail", DAY) == 2


def test_a_remake_with_retries_left_keeps_the_cord_resolving() -> None:
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"], retries=1),
                                pipe("report", ["orders"])])
    line = Line(g)
    line.notify("raw", DAY)
    line.run_all()
    cord_id, _ = pull(line, "orders", DAY)
    resolve(line, cord_id)

    out = line.fail("clean:2026-01-05:2")

    assert of_type(out.events, CordRemakeFailed) == []
    assert cord(line, cord_id).status is CordStatus.RESOLVING
    assert [(q.reason, q.attempt) for q in queued(out)] == [("retry", 2)]


def test_a_manual_fix_accepts_the_data_as_a_new_version_and_releases_at_once() -> None:
    line = _chain()
    cord_id, _ = pull(line, "orders", DAY)

    out = resolve(line, cord_id, manual_fix=True)

    assert line.version("orders", DAY) == 2
    assert line.state.partitions[("orders", DAY)].run_id == ""
    assert of_type(out.events, CordReleased)[0].version == 2
    assert started(out) == ["report:2026-01-05:2"]
    line.run_all()
    assert line.version("clean", DAY) == 0 and line.state.run_count[("clean", DAY)] == 1
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_a_bad_source_partition_is_released_when_it_is_announced_again() -> None:
    line = _chain()
    cord_id, out = pull(line, "raw", DAY)
    assert of_type(out.events, CordHalted)[0].producer == ""
    assert suspects(out.events) == [("orders", DAY, 1), ("report", DAY, 1), ("mail", DAY, 1)]

    out = resolve(line, cord_id)
    assert out.events == [] and cord(line, cord_id).status is CordStatus.RESOLVING
    line.notify("raw", DAY, fingerprint="v1")  # the same data again is no fix
    assert cord(line, cord_id).status is CordStatus.RESOLVING

    out = line.notify("raw", DAY, fingerprint="fixed")

    assert of_type(out.events, CordReleased)[0].version == 2
    assert _pipelines(out.events) == ["clean"]
    line.run_all()
    assert [line.version(a, DAY) for a in ("orders", "report", "mail")] == [2, 2, 2]
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_two_cords_overlap_and_a_partition_resumes_only_when_neither_halts_it() -> None:
    line = _chain()
    upper, _ = pull(line, "orders", DAY)
    lower, out = pull(line, "report", DAY)
    assert of_type(out.events, CordHalted)[0].partitions == (
        PipelinePartition("report", DAY), PipelinePartition("mail", DAY))
    assert line.state.cords.halted[("mail", DAY)] == {upper, lower}

    resolve(line, upper)
    line.succeed("clean:2026-01-05:2")
    # the upper cord is released, but the lower one still holds report and mail
    assert cord(line, upper).status is CordStatus.RELEASED
    assert halted(line) == {("report", DAY), ("mail", DAY)}
    assert line.running() == []

    resolve(line, lower)
    line.run_all()
    assert halted(line) == set()
    assert [line.version(a, DAY) for a in ("orders", "report", "mail")] == [2, 2, 2]
    assert cord(line, upper).status is CordStatus.RECOVERED
    assert cord(line, lower).status is CordStatus.RECOVERED


def test_pulling_twice_or_resolving_what_is_not_pulled_changes_nothing_in_the_engine() -> None:
    line = _chain()
    cord_id, _ = pull(line, "orders", DAY)
    before = dict(line.state.cords.halted)

    _, out = pull(line, "orders", DAY)  # the service refuses this; the engine ignores it
    assert out.events == [] and line.state.cords.halted == before
    resolve(line, cord_id)
    out = resolve(line, cord_id)
    assert out.events == [] and cord(line, cord_id).resolutions == 1


def test_a_window_halts_every_partition_that_reads_the_bad_one() -> None:
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]),
                                pipe("weekly", [Input("orders", LastN(3))])])
    line = Line(g)
    for day in ("2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"):
        line.notify("raw", day)
    line.run_all()

    _, out = pull(line, "orders", "2026-01-04")

    assert halted(line) == {("clean", "2026-01-04"), ("weekly", "2026-01-04"),
                            ("weekly", "2026-01-05"), ("weekly", "2026-01-06")}
    assert sorted(suspects(out.events)) == [("weekly", "2026-01-04", 1),
                                            ("weekly", "2026-01-05", 1)]
    out = line.notify("raw", "2026-01-06")
    line.succeed("clean:2026-01-06:1")
    assert line.queued() == [] and line.running() == []  # weekly 01-06 would read the bad day


def test_a_rollup_halts_the_day_of_a_bad_hour() -> None:
    g = graph([source("clicks", HOURLY)],
              [pipe("daily", [Input("clicks", Rollup())]), pipe("top", ["daily"])])
    line = Line(g)

    pull(line, "clicks", "2026-01-05T03")

    assert halted(line) == {("daily", DAY), ("top", DAY)}


def test_lineage_halts_what_runs_actually_read_even_when_the_graph_changed() -> None:
    from andon.engine.core import replay

    before = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]), pipe("report", ["orders"])])
    line = Line(before)
    line.notify("raw", DAY)
    line.run_all()
    # report no longer reads orders in the new definitions, but its partition was made from it
    after = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]), pipe("report", ["raw"])])
    line.graph, line.state = after, replay(after, line.log)

    _, out = pull(line, "orders", DAY)

    assert halted(line) == {("clean", DAY), ("report", DAY)}
    assert suspects(out.events) == [("report", DAY, 1)]


def test_no_run_reads_a_suspect_version_after_the_release() -> None:
    """A held run whose input is suspect waits for that input's re-make, even once the cord is
    released (it would read bad data and have to run again)."""
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]), pipe("report", ["orders"]),
                                pipe("mail", ["report"])], default=1)
    line = Line(g)
    line.notify("raw", DAY)
    line.run_all()
    line.request("mail", DAY)
    line.request("clean", NEXT)  # occupies nothing: raw NEXT has not arrived
    cord_id, _ = pull(line, "orders", DAY)
    line.killed("mail:2026-01-05:2")

    resolve(line, cord_id)
    line.succeed("clean:2026-01-05:2")
    while line.running():
        run = line.running()[0]
        for ref in line.state.runs[run].inputs:
            assert ref not in line.state.cords.bad, f"{run} reads bad {ref}"
        line.succeed(run)
    assert line.version("mail", DAY) == 2
    assert cord(line, cord_id).status is CordStatus.RECOVERED


def test_derived_ids_are_deterministic() -> None:
    line = _chain()
    line.request("report", DAY)
    cord_id, _ = pull(line, "orders", DAY)
    resolve(line, cord_id)
    line.killed("report:2026-01-05:2")
    line.run_all()
    ids = [e.id for e in line.log if e.id.split(":")[0] in (
        "cord", "halted", "cordcancel", "suspect", "resolved", "released", "recovered")]
    assert ids == [
        "cord:orders:2026-01-05:1", "halted:orders:2026-01-05:1",
        "cordcancel:orders:2026-01-05:1:report:2026-01-05:2",
        "suspect:orders:2026-01-05:1:report:2026-01-05:1",
        "suspect:orders:2026-01-05:1:mail:2026-01-05:1",
        "resolved:orders:2026-01-05:1:1", "released:orders:2026-01-05:1",
        "recovered:orders:2026-01-05:1"]
    assert [q.reason for q in of_type(line.log, RunQueued)][-3:] == ["cord", "cord", "cord"]
