"""Failed runs are retried with exponential back-off; after the last retry a failure is final."""

from __future__ import annotations

from datetime import timedelta

from andon.engine.core import next_wakeup
from andon.model.status import RunStatus
from tests.engine.harness import Line, graph, pipe, queued, source, started

DAY = "2026-01-05"


def test_retries_back_off_exponentially_and_then_fail_for_good() -> None:
    g = graph([source("raw")], [pipe("flaky", ["raw"], retries=2,
                                     retry_delay=timedelta(seconds=10))])
    line = Line(g)
    line.notify("raw", DAY)
    failed_at = line.now

    out = line.fail("flaky:2026-01-05:1")

    (retry,) = queued(out)
    assert (retry.run_id, retry.reason, retry.attempt) == ("flaky:2026-01-05:2", "retry", 2)
    assert retry.not_before == failed_at + timedelta(seconds=10)
    assert started(out) == []  # it holds no slot while it waits
    assert line.state.pool_used.get("default", 0) == 0
    assert next_wakeup(line.state, line.now) == retry.not_before

    assert line.tick(timedelta(seconds=9)).events == []  # too early
    assert started(line.tick(timedelta(seconds=1))) == ["flaky:2026-01-05:2"]
    assert next_wakeup(line.state, line.now) is None

    line.tick(timedelta(minutes=1))
    out = line.fail("flaky:2026-01-05:2")
    (retry,) = queued(out)
    assert (retry.attempt, retry.not_before) == (3, line.now + timedelta(seconds=20))  # doubled
    assert started(line.tick(timedelta(seconds=20))) == ["flaky:2026-01-05:3"]

    out = line.fail("flaky:2026-01-05:3")  # 1 try + 2 retries: that was the last
    assert out.events == []
    assert next_wakeup(line.state, line.now) is None
    assert line.state.active == {}
    last = line.state.last_end[("flaky", DAY)]
    assert (last.status, last.attempt) == (RunStatus.FAILED, 3)
    assert line.tick(timedelta(days=1)).events == []  # a final failure waits for a person


def test_a_failure_without_retries_is_final_until_someone_acts() -> None:
    line = Line(graph([source("raw")], [pipe("etl", ["raw"]), pipe("report", ["etl"])]))
    line.notify("raw", DAY)

    out = line.fail("etl:2026-01-05:1")

    assert out.events == []
    assert line.status("etl:2026-01-05:1") is RunStatus.FAILED
    assert line.version("etl", DAY) == 0  # nothing downstream can start

    # a person re-runs it by hand: a fresh first attempt, and the line continues from there
    out = line.request("etl", DAY)
    assert [(q.run_id, q.reason, q.attempt) for q in queued(out)] == [
        ("etl:2026-01-05:2", "manual", 1)]
    assert started(line.succeed("etl:2026-01-05:2")) == ["report:2026-01-05:1"]


def test_new_data_after_a_final_failure_queues_a_new_first_attempt() -> None:
    line = Line(graph([source("raw")], [pipe("etl", ["raw"])]))
    line.notify("raw", DAY, fingerprint="bad")
    line.fail("etl:2026-01-05:1")

    out = line.notify("raw", DAY, fingerprint="fixed")

    assert [(q.reason, q.attempt) for q in queued(out)] == [("new_data", 1)]


def test_back_off_is_capped_at_an_hour() -> None:
    p = pipe("x", ["raw"], retries=10, retry_delay=timedelta(minutes=10))
    assert [p.retry_backoff(a) for a in (1, 2, 3, 4, 5)] == [
        timedelta(minutes=10), timedelta(minutes=20), timedelta(minutes=40), timedelta(hours=1),
        timedelta(hours=1)]
