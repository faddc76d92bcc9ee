"""Blocking checks gate what flows downstream: a new version reaches its consumers only once
every blocking check of its asset passed on it; the fix of an andon cord is released only when its
checks pass, and a fix that fails them leaves the cord pulled."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from andon.events import CheckFailed, CheckPassed, CordPulled, CordReleased, CordRemakeFailed
from andon.serve.up import Line
from tests.checks.helpers import Log, announce, open_logged, raw_clean_report
from tests.conftest import ProjectFactory

PIPELINES = raw_clean_report("ops") + """
andon.check("clean")(andon.checks.row_count(min=1))
"""


@pytest.fixture
def line(make_project: ProjectFactory) -> Iterator[tuple[Line, Log]]:
    made, log = open_logged(make_project(PIPELINES), datetime(2026, 1, 8, tzinfo=UTC))
    assert made.project.graph.gated == {"clean": 1}
    yield made, log
    made.close()


def runs_of(line: Line, pipeline: str) -> list[dict[str, object]]:
    return line.store.runs(pipeline=pipeline)


def test_consumers_wait_for_the_blocking_checks(line: tuple[Line, Log]) -> None:
    live, log = line
    announce(live, "2026-01-05", "id\n1\n")
    log.wait_for(lambda ev: any(isinstance(e, CheckPassed) for e in ev), "the check")
    assert live.runner.quiet()
    report = runs_of(live, "report")
    assert [r["status"] for r in report] == ["succeeded"]
    passed = log.of(CheckPassed)[0]
    started = [e for e in log.events if e.name == "run.started" and
               getattr(e, "pipeline", "") == "report"][0]
    assert log.events.index(passed) < log.events.index(started)  # read only after the check


def test_a_version_that_fails_its_check_is_never_read(line: tuple[Line, Log]) -> None:
    live, log = line
    announce(live, "2026-01-06", "id\n")  # no rows: clean's check fails
    log.wait_for(lambda ev: any(isinstance(e, CordPulled) for e in ev), "the cord")
    assert live.runner.quiet()
    assert runs_of(live, "report") == []
    (failed,) = log.of(CheckFailed)
    assert failed.asset == "clean" and failed.blocking  # type: ignore[attr-defined]


def test_a_fix_that_fails_its_checks_leaves_the_cord_pulled(line: tuple[Line, Log]) -> None:
    live, log = line
    announce(live, "2026-01-07", "id\n1\n")
    log.wait_for(lambda ev: any(e.name == "run.succeeded" and getattr(e, "pipeline", "") ==
                                "report" for e in ev), "the first report")
    now = live.clock.now()
    pull = live.service.cord_pull("clean", "2026-01-07", "wrong totals", now, "tester")
    live.runner.submit(pull).result(10)
    cord_id = pull.cord_id
    # the producer is "fixed" but its output is still empty: the re-make fails its check
    (live.project.root / "data/raw/2026-01-07.csv").write_text("id\n")
    live.runner.submit(live.service.cord_resolve(cord_id, "retry", now, "tester")).result(10)
    log.wait_for(lambda ev: any(isinstance(e, CordRemakeFailed) for e in ev), "the failed fix")
    assert not log.of(CordReleased)
    assert live.service.cord(cord_id)["status"] == "pulled"
    # a real fix passes its check: the cord is released and the report is made again
    (live.project.root / "data/raw/2026-01-07.csv").write_text("id\n1\n2\n")
    live.runner.submit(live.service.cord_resolve(cord_id, "fixed", now, "tester")).result(10)
    log.wait_for(lambda ev: any(isinstance(e, CordReleased) for e in ev), "the release")
    assert live.runner.quiet()
    reports = runs_of(live, "report")
    assert [r["status"] for r in reports] == ["succeeded", "succeeded"]
