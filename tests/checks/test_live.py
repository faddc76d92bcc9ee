"""Checks in the live shell (``open_line``: the real runner, store and wiring): they run after a
source is announced and after a run writes a partition, off the scheduler's thread; their results
are events; a failing blocking check pulls the cord and its owners hear about it by webhook."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from andon.events import CheckFailed, CheckPassed, CordPulled, NotificationSent
from andon.serve.up import Line
from tests.checks.helpers import Log, announce, open_logged, raw_clean_report
from tests.conftest import ProjectFactory
from tests.notify.servers import hook_server

PIPELINES = raw_clean_report("alerts") + """
import threading

andon.check("raw")(andon.checks.row_count(min=1))
andon.check("clean", blocking=False)(andon.checks.value_range("amount", min=0))

THREADS = []


@andon.check("raw", blocking=False)
def where_it_ran(ctx):
    THREADS.append(threading.current_thread().name)
    return andon.CheckResult(True, {"version": ctx.version, "rows": ctx.table.rows}, "seen")
"""


@pytest.fixture
def line_factory(make_project: ProjectFactory) -> Iterator[Callable[..., tuple[Line, Log]]]:
    lines: list[Line] = []

    def make(extra: str = "") -> tuple[Line, Log]:
        line, log = open_logged(make_project(PIPELINES, extra=extra),
                                datetime(2026, 1, 8, tzinfo=UTC))
        lines.append(line)
        return line, log

    yield make
    for line in lines:
        line.close()


def test_checks_run_after_announcements_and_runs(line_factory: Callable[..., tuple[Line, Log]]
                                                 ) -> None:
    line, log = line_factory()
    announce(line, "2026-01-05", "id,amount\n1,10\n2,-3\n")
    log.wait_for(lambda ev: len([e for e in ev if isinstance(e, (CheckPassed, CheckFailed))]) >= 3,
                 "three check results")
    passed = {(e.asset, e.check): e for e in log.of(CheckPassed)}  # type: ignore[attr-defined]
    rows = passed[("raw", "row_count")]
    assert isinstance(rows, CheckPassed)
    assert (rows.partition, rows.version, rows.blocking, rows.numbers) == (
        "2026-01-05", 1, True, {"rows": 2.0})
    assert passed[("raw", "where_it_ran")].numbers == {"version": 1.0, "rows": 2.0}
    (warning,) = log.of(CheckFailed)
    assert isinstance(warning, CheckFailed)
    assert (warning.asset, warning.check, warning.blocking) == ("clean", "value_range", False)
    assert warning.numbers["out_of_range"] == 1 and "amount: 1 outside [0, ]" in warning.message
    assert not log.of(CordPulled)  # a warning check only notifies
    module = line.project.graph.pipelines["clean"].fn.__globals__  # type: ignore[union-attr]
    assert module["THREADS"] and all(t.startswith("andon-check") for t in module["THREADS"])
    # the results are in the log, with stable ids: the same version is never checked twice
    stored = [e.id for _, e in line.store.events() if isinstance(e, (CheckPassed, CheckFailed))]
    assert "check:raw:2026-01-05:1:row_count" in stored and len(stored) == 3


def test_a_failing_blocking_check_pulls_the_cord_and_tells_the_owner(
        line_factory: Callable[..., tuple[Line, Log]]) -> None:
    with hook_server() as hook:
        line, log = line_factory(f'[notify.webhooks]\nalerts = "{hook.url}/hook"\n')
        announce(line, "2026-01-06", "id,amount\n")  # a header and no rows
        log.wait_for(lambda ev: any(isinstance(e, NotificationSent) for e in ev),
                     "the cord notification")
        (pulled,) = log.of(CordPulled)
        assert isinstance(pulled, CordPulled)
        assert (pulled.cord_id, pulled.asset, pulled.partition, pulled.version, pulled.by) == (
            "raw:2026-01-06:check-v1", "raw", "2026-01-06", 1, "check:row_count")
        assert pulled.reason == "check row_count failed: 0 rows, outside [1, ]"
        failed = [e for e in log.of(CheckFailed) if e.blocking]  # type: ignore[attr-defined]
        assert len(failed) == 1 and pulled.detected_at == failed[0].at
        (body,) = hook.bodies
        assert body["event"] == "cord.pulled" and body["by"] == "check:row_count"
        assert body["reason"] == pulled.reason
        assert {"asset": "report", "partition": "2026-01-06"} in body["affected"]
        # the planner's estimate: clean then report re-made, 10 minutes each before any history
        assert "Expected delay: 20m00s" in body["text"]
        (sent,) = log.of(NotificationSent)
        assert (sent.about, sent.recipient) == ("cord.pulled", "alerts")  # type: ignore[attr-defined]


def test_a_check_that_raises_fails_with_its_error(tmp_path: Path) -> None:
    from andon.checks.context import CheckContext
    from andon.checks.runner import run_check
    from andon.model.definitions import Check

    def broken(ctx: CheckContext) -> bool:
        raise RuntimeError("boom")

    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    moment = datetime(2026, 1, 6, tzinfo=UTC)
    ctx = CheckContext("x", "2026-01-05", 1, data, tmp_path, moment, moment)
    result = run_check(Check("broken", "x", broken), ctx)
    assert not result.passed and result.message == "the check raised RuntimeError: boom"
    odd = run_check(Check("odd", "x", lambda c: "yes"), ctx)
    assert not odd.passed and "return andon.CheckResult" in odd.message
    missing = CheckContext("x", "2026-01-05", 1, tmp_path / "nope.csv", tmp_path, moment, moment)
    assert run_check(Check("rows", "x", broken), missing).message.startswith("no data at")
