"""The review on hand-made entries: labels, order, and the reactive share to the last digit."""

from __future__ import annotations

from datetime import UTC, datetime

from andon.manual.entries import ManualEntry, Occurrence
from andon.manual.review import halted_by, occurrence_key, review
from andon.manual.views import review_json

NOW = datetime(2026, 3, 31, tzinfo=UTC)  # the window of 30 days starts 2026-03-01T00:00Z


def occ(entry: str, at: str, recovered: str = "", run_id: str = "", cord_id: str = "",
        kind: str = "failure") -> Occurrence:
    return Occurrence(kind=kind, entry=entry, pipeline="p", asset="a", partition="2026-03-01",
                      at=at, recovered=recovered, run_id=run_id, cord_id=cord_id)


def entries() -> list[ManualEntry]:
    a = ManualEntry("a", "failure", "ValueError: bad <n>", ("p",), occurrences=[
        occ("a", "2026-02-20T00:00:00Z", "2026-02-20T05:00:00Z", "r0"),  # before the window
        occ("a", "2026-03-10T00:00:00Z", "2026-03-10T01:00:00Z", "r1"),  # 3600 s x 3 halted
        occ("a", "2026-03-15T00:00:00.000000Z", "2026-03-15T02:00:00Z", "r2"),  # 7200 s x 1
        occ("a", "2026-03-20T00:00:00Z", "2026-03-20T00:30:00Z", "r3")])  # 1800 s (0 -> 1)
    b = ManualEntry("b", "cord", "cord on a", ("p", "q"), occurrences=[
        occ("b", "2026-02-28T23:00:00Z", "2026-03-01T01:00:00Z", cord_id="c0", kind="cord"),
        occ("b", "2026-03-30T12:00:00Z", cord_id="c1", kind="cord")])  # open: 43200 s x 2
    c = ManualEntry("c", "check", "check rows", ("p",), occurrences=[
        occ("c", "2026-03-25T00:00:00Z", "2026-03-25T00:10:00Z", kind="check")])  # 600 s
    d = ManualEntry("d", "deadline", "late", ("p",), occurrences=[
        occ("d", "2026-01-01T00:00:00Z", kind="deadline")])  # outside: no row
    return [c, d, b, a]


COMPUTE = {"compute_seconds": 1000.0, "reactive_seconds": 185.0}


def test_rows_are_labelled_and_the_most_frequent_come_first() -> None:
    r = review(entries(), NOW, 30, halted={"r1": 3, "r3": 0, "c1": 2}, pipelines=4, **COMPUTE)
    assert [(row.entry, row.count, row.label) for row in r.rows] == [
        ("a", 3, "frequent"), ("b", 1, "rare"), ("c", 1, "new")]
    assert r.rows[1].pipelines == ("p", "q") and r.rows[1].last_seen == "2026-03-30T12:00:00Z"
    assert (r.since, r.until) == ("2026-03-01T00:00:00.000000Z", "2026-03-31T00:00:00.000000Z")


def test_the_reactive_share_to_the_digit() -> None:
    r = review(entries(), NOW, 30, halted={"r1": 3, "r3": 0, "c1": 2}, pipelines=4, **COMPUTE)
    incident = 3600 * 3 + 7200 + 1800 + 43200 * 2 + 600  # 106,800 s
    capacity = 30 * 86400 * 4
    compute, reactive = 1000, 185
    assert r.incident_share == incident / capacity
    assert round(r.incident_share, 6) == 0.010301
    assert r.compute_share == 0.185
    assert r.reactive_share == (incident + reactive) / (capacity + compute)
    assert round(r.reactive_share, 6) == 0.010318
    assert not r.flagged
    j = review_json(r)
    assert j["flagged"] is False and j["threshold"] == 0.10 and j["rows"][0]["label"] == "frequent"


def test_a_day_of_halted_pipelines_is_flagged_and_a_share_stays_within_1() -> None:
    one = ManualEntry("x", "failure", "t", ("p",), occurrences=[
        occ("x", "2026-03-30T00:00:00Z", run_id="r")])  # open the whole last day
    r = review([one], NOW, 1, halted={"r": 5}, pipelines=2)
    assert r.incident_share == 1.0 and r.compute_share == 0.0 and r.flagged
    half = review([one], NOW, 1, compute_seconds=60, reactive_seconds=60, halted={"r": 1},
                  pipelines=2)
    assert half.incident_share == 0.5
    assert half.reactive_share == (86400 + 60) / (2 * 86400 + 60)


def test_nothing_seen_is_an_empty_review() -> None:
    r = review([], NOW, 30, pipelines=0)
    assert r.rows == () and r.reactive_share == r.incident_share == r.compute_share == 0.0


def test_occurrence_key_names_the_run_the_cord_or_the_partition() -> None:
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z", run_id="r")) == "r"
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z", cord_id="c")) == "c"
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z")) == "a 2026-03-01"


def test_the_pipelines_halted_by_the_occurrence_its_pipeline_or_one() -> None:
    o = occ("a", "2026-03-01T00:00:00Z", run_id="r")
    assert halted_by(o, {"r": 4, "p": 2}) == 4
    assert halted_by(o, {"p": 2}) == 2
    assert halted_by(o, {"p": 0}) == halted_by(o, {}) == 1


def test_reactive_compute_is_at_most_the_compute() -> None:
    r = review([], NOW, 1, compute_seconds=10, reactive_seconds=50)
    assert r.compute_share == 1.0
    assert review([], NOW, 1, compute_seconds=-5, reactive_seconds=3).compute_share == 0.0
