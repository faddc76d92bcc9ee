"""``andon.serve.rest.look``: the one test of "nothing more can run" on a real line (the runner,
its executor and check runner, a SQLite store), as ``materialize``, ``run --wait`` and the demo's
``--exit-when-done`` use it."""

from __future__ import annotations

from pathlib import Path

from andon.events import RunFailed
from andon.live.clock import SkipClock
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.rest import Rest, look
from andon.serve.sources import announcements, placed
from andon.serve.up import Line, open_line
from tests.conftest import ProjectFactory
from tests.fromcode.projects import BOOM, PIPELINES

DAY = "2026-01-07"


def _still(line: Line) -> Rest:
    """Look until a look finds no work done meanwhile (BUSY: something ran or was committed)."""
    for _ in range(20):
        found = look(line, 30)
        if found is not Rest.BUSY:
            return found
    raise AssertionError("the line never went still")


def test_a_line_is_at_rest_waiting_for_a_retry_then_at_rest_again(make_project: ProjectFactory,
                                                                   tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess", "state_dir": str(tmp_path),
                              "database_url": f"sqlite:///{tmp_path / 'andon.db'}"},
                       {}, project.settings_table)
    clock = SkipClock()
    line = open_line(project, settings, clock)
    try:
        assert look(line, 30) is Rest.AT_REST  # no data yet: nothing can run until it comes
        bad = tmp_path / "boom.csv"
        bad.write_text(BOOM)
        for event in announcements(project, line.service,
                                   placed(project, {"raw": bad}, [DAY]), [DAY], clock.now()):
            line.runner.submit(event).result(30)
        # the first attempt ran and failed; the retry waits an hour: idle, but not at rest
        assert _still(line) is Rest.WAITING
        retry = [r.not_before for r in line.runner.state.queue.values()]
        assert len(retry) == 1 and retry[0] is not None and retry[0] > clock.now()
        clock.skip_to(retry[0])  # wakes the runner: the retry runs and fails for good
        assert _still(line) is Rest.AT_REST and not line.runner.state.queue
        assert [e.attempt for _seq, e in line.store.events()
                if isinstance(e, RunFailed)] == [1, 2]  # failed for good: nothing left to run
        assert look(line, 0) is Rest.AT_REST  # a look that may not wait still sees it
    finally:
        line.close()
