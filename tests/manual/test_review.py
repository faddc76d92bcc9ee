"""The review on hand-made entries: labels, order, and the reactive share to the last digit."""

from __future__ import annotations

from datetime import UTC, datetime

from andon.manual.entries import ManualEntry, Occurrence
from andon.manual.review import RunCost, occurrence_key, review
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


RUNS = [RunCost(100, failed=True), RunCost(50, attempt=2), RunCost(25, reason="cord"),
        RunCost(10, reason="retry", at="2026-03-02T00:00:00Z"), RunCost(815),
        RunCost(1000, failed=True, at="2026-02-01T00:00:00Z")]  # the last before the window


def test_rows_are_labelled_and_the_most_frequent_come_first() -> None:
    r = review(entries(), RUNS, {"r1": 3, "r3": 0, "c1": 2}, 4, NOW, 30)
    assert [(row.entry, row.count, row.label) for row in r.rows] == [
        ("a", 3, "frequent"), ("b", 1, "rare"), ("c", 1, "new")]
    assert r.rows[1].pipelines == ("p", "q") and r.rows[1].last_seen == "2026-03-30T12:00:00Z"
    assert (r.since, r.until) == ("2026-03-01T00:00:00.000000Z", "2026-03-31T00:00:00.000000Z")


def test_the_reactive_share_to_the_digit() -> None:
    r = review(entries(), RUNS, {"r1": 3, "r3": 0, "c1": 2}, 4, NOW, 30)
    incident = 3600 * 3 + 7200 + 1800 + 43200 * 2 + 600  # 106,800 s
    capacity = 30 * 86400 * 4
    compute, reactive = 1000, 185  # 100 failed + 50 attempt 2 + 25 cord + 10 retry
    assert r.incident_share == round(incident / capacity, 6) == 0.010301
    assert r.compute_share == 0.185
    assert r.reactive_share == round((incident + reactive) / (capacity + compute), 6)
    assert r.reactive_share == 0.010318
    assert not r.flagged
    j = review_json(r)
    assert j["flagged"] is False and j["threshold"] == 0.10 and j["rows"][0]["label"] == "frequent"


def test_a_day_of_halted_pipelines_is_flagged_and_a_share_stays_within_1() -> None:
    one = ManualEntry("x", "failure", "t", ("p",), occurrences=[
        occ("x", "2026-03-30T00:00:00Z", run_id="r")])  # open the whole last day
    r = review([one], [], {"r": 5}, 2, NOW, 1)
    assert r.incident_share == 1.0 and r.compute_share == 0.0 and r.flagged
    half = review([one], [RunCost(60, failed=True)], {"r": 1}, 2, NOW, 1)
    assert half.incident_share == 0.5
    assert half.reactive_share == round((86400 + 60) / (2 * 86400 + 60), 6)


def test_nothing_seen_is_an_empty_review() -> None:
    r = review([], [], {}, 0, NOW, 30)
    assert r.rows == () and r.reactive_share == r.incident_share == r.compute_share == 0.0


def test_occurrence_key_names_the_run_the_cord_or_the_partition() -> None:
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z", run_id="r")) == "r"
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z", cord_id="c")) == "c"
    assert occurrence_key(occ("a", "2026-03-01T00:00:00Z")) == "a 2026-03-01"
