"""dead_pipeline by agreed deletion dates (``andon deprecate``, the catalog's lifecycle) and
batch_should_stream for runs that found nothing new, on a real SQLite store holding the
planted history (``andon.audit.plant``): the actions name the command to run, and
``[audit] unchanged_share`` sets the bar."""

from __future__ import annotations

from pathlib import Path

from andon.audit.findings import Finding, audit
from andon.project.load import load_project
from andon.store.sql import Store
from tests.audit.conftest import NOW, Planter


def _found(root: Path) -> dict[tuple[str, str], Finding]:
    project = load_project(root)
    store = Store(f"sqlite:///{root / '.andon' / 'andon.db'}")
    try:
        return {(f.kind, f.object): f for f in audit(store, project.graph, project.audit, NOW)}
    finally:
        store.close()


def test_agreed_dates_judge_deprecated_pipelines(planted: Planter) -> None:
    root, _ = planted(copies=1)
    found = _found(root)
    overdue = found[("dead_pipeline", "overdue0")]
    assert "past its agreed deletion date" in overdue.evidence
    assert overdue.action.endswith("andon sweep --apply")
    assert overdue.numbers["delete_after"] < NOW.date().isoformat()
    retired = found[("dead_pipeline", "retired0")]
    assert "no deletion date agreed" in retired.evidence
    assert "andon deprecate retired0 --delete-after DATE" in retired.action
    # agreed0 has not run for 60 days, but its deletion is agreed and ahead: planned, not waste
    assert ("dead_pipeline", "agreed0") not in found
    assert ("dead_pipeline", "swept0") not in found  # deleted as agreed


def test_runs_that_found_nothing_new(planted: Planter) -> None:
    root, _ = planted(copies=1)
    found = _found(root)
    rerun = found[("batch_should_stream", "rerun0")]
    assert rerun.numbers["unchanged_runs"] == 5 and rerun.numbers["writing_runs"] == 6
    assert "found nothing new" in rerun.evidence
    assert ("batch_should_stream", "fresh0") not in found


def test_unchanged_share_sets_the_bar(planted: Planter) -> None:
    root, _ = planted(copies=1, extra="unchanged_share = 0.9\n")  # 5 of 6 is below it
    found = _found(root)
    assert ("batch_should_stream", "rerun0") not in found
    assert ("batch_should_stream", "often0") in found  # the other half still judged
