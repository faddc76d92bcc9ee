"""A project that ended (``[project] end`` in the past) is judged as of a day after its last
partition, not by the clock: its data and pipelines are not waste because the clock went on. A
pipeline that made its last partition is finished, not dead. On a real SQLite store."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from andon.audit.findings import Finding, audit, judged_at
from andon.events import OutputWritten, RunQueued, RunStarted, RunSucceeded
from andon.events.codec import format_time
from andon.project.load import load_project
from andon.store.sql import Store
from tests.audit.conftest import Planter

STOP = datetime(2026, 3, 2, tzinfo=UTC)  # a day after the last partition (2026-02-28) ended
END = "2026-02-28"
LATER = datetime(2026, 9, 1, 12, tzinfo=UTC)  # the clock, months on


def _audit(root: Path, now: datetime, since: datetime | None = None) -> list[Finding]:
    project = load_project(root)
    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        return audit(store, project.graph, project.audit, now, since)
    finally:
        store.close()


def test_judged_at_is_a_day_after_the_last_partition() -> None:
    end = datetime(2026, 2, 28, tzinfo=UTC).date()
    assert judged_at(LATER, end) == STOP
    assert judged_at(LATER, None) == LATER
    early = datetime(2026, 2, 10, tzinfo=UTC)
    assert judged_at(early, end) == early  # not ended yet: the clock


def test_an_ended_project_finds_what_it_found_on_its_last_day(planted: Planter) -> None:
    root, what = planted(copies=1, now=STOP, end=END)
    found = _audit(root, LATER)
    assert {(f.kind, f.object) for f in found} == what.expected  # no more, no less
    for f in found:  # and says how it judged
        assert "judged as of 2026-03-02" in f.evidence and "[project] end = 2026-02-28" in \
            f.evidence
        assert f.numbers["as_of"] == format_time(STOP)
    assert {(f.kind, f.object) for f in _audit(root, STOP)} == what.expected
    assert all("judged as of" not in f.evidence for f in _audit(root, STOP))  # not ended yet


def test_without_an_end_the_clock_makes_everything_waste(planted: Planter) -> None:
    root, what = planted(copies=1, now=STOP)  # the same history, no [project] end
    got = {(f.kind, f.object) for f in _audit(root, LATER)}
    assert ("unused_data", "kept0") in got and ("dead_pipeline", "alive0") in got
    assert got != what.expected  # what the fix is for


def _write(root: Path, events: list[object]) -> None:
    (root / ".andon").mkdir()
    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        store.append(events)  # type: ignore[arg-type]
    finally:
        store.close()


def _run(n: int, pipeline: str, key: str, at: datetime) -> list[object]:
    run_id = f"{pipeline}:{n}"
    return [RunQueued(id=f"q:{run_id}", at=at, run_id=run_id, pipeline=pipeline, partition=key,
                      reason="new_data"),
            RunStarted(id=f"s:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                       partition=key, pool="default"),
            RunSucceeded(id=f"e:{run_id}", at=at, run_id=run_id, pipeline=pipeline,
                         partition=key, startup_seconds=0.1, work_seconds=600.0,
                         outputs=(OutputWritten(f"{pipeline}_out", key, f"data/{key}", 10, 1,
                                                f"{pipeline}:{key}"),))]


def test_a_pipeline_that_made_its_last_partition_is_finished(tmp_path: Path) -> None:
    root = tmp_path / "ended"
    root.mkdir()
    (root / "andon.toml").write_text('[project]\nname = "ended"\ndefinitions = ["p.py"]\n'
                                     f'start = "2026-01-01"\nend = "{END}"\n')
    (root / "p.py").write_text(
        "import andon\n\ndef noop(ctx):\n    pass\n\n"
        'andon.pipeline("done", outputs=["done_out"])(noop)\n'
        'andon.pipeline("stopped", outputs=["stopped_out"])(noop)\n')
    events: list[object] = []
    events += _run(1, "done", "2026-02-27", datetime(2026, 2, 28, 1, tzinfo=UTC))
    events += _run(2, "done", END, datetime(2026, 3, 1, 1, tzinfo=UTC))
    events += _run(3, "stopped", "2026-01-10", datetime(2026, 1, 11, 1, tzinfo=UTC))
    _write(root, events)
    dead = {f.object for f in _audit(root, LATER) if f.kind == "dead_pipeline"}
    assert dead == {"stopped"}  # stopped 50 days before the end; done ran to the end
    # a window that begins after the project ended: no run in it, yet "done" is finished
    since = datetime(2026, 6, 1, tzinfo=UTC)
    dead = {f.object: f for f in _audit(root, LATER, since) if f.kind == "dead_pipeline"}
    assert set(dead) == {"stopped"}
    assert "last run 2026-01-11" in dead["stopped"].evidence
