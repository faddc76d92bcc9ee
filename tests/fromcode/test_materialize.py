"""``andon.materialize``: the line ``andon up`` opens, on a temporary store, settled."""

from __future__ import annotations

from pathlib import Path

import pytest

import andon
from andon.examples import write_example
from andon.serve.outcome import MaterializeError
from tests.conftest import ProjectFactory
from tests.fromcode.projects import BOOM, EMPTY, GOOD, PIPELINES


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_minimal_example_in_process(tmp_path: Path) -> None:
    root = write_example(tmp_path / "minimal", "minimal")
    events = _file(tmp_path, "events.csv", "a\nb\nc\n")
    result = andon.materialize(root, ["2026-01-05"], sources={"events": events})
    assert result.ok and [(r.pipeline, r.status) for r in result.runs] == [
        ("count_events", "succeeded")]
    path = result.output("event_counts", "2026-01-05")
    assert path == root / "data/event_counts/2026-01-05.txt" and path.read_text() == "3\n"
    assert (root / "data/events/2026-01-05.csv").read_text() == "a\nb\nc\n"  # copied in place
    assert not (root / ".andon").exists()  # the store was a temporary one
    with pytest.raises(KeyError, match="written: event_counts 2026-01-05"):
        result.output("weekly_total", "2026-01-05")


def test_the_local_executor_runs_real_processes(make_project: ProjectFactory,
                                                tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    store = tmp_path / "kept" / "andon.db"
    store.parent.mkdir()
    result = andon.materialize(root, ["2026-01-05"], sources={"raw": _file(tmp_path, "r", GOOD)},
                               executor="local", store=store)
    assert result.ok and [r.pipeline for r in result.final] == ["clean", "report"]
    clean = result.final[0]
    assert clean.log.startswith("cleaning 2026-01-05") and clean.log_path is not None
    assert clean.log_path.is_file() and store.is_file()  # kept: a path was given
    assert clean.outputs[0].rows == 2
    assert [(c.check, c.passed) for c in result.checks] == [("row_count", True)]


def test_a_failing_blocking_check_pulls_the_cord(make_project: ProjectFactory,
                                                 tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    with pytest.raises(MaterializeError) as caught:
        andon.materialize(root, ["2026-01-06"], sources={"raw": {"2026-01-06": _file(
            tmp_path, "empty.csv", EMPTY)}})
    result = caught.value.result
    assert not result.runs  # the cord halted the consumers before they read the bad data
    assert [c.name for c in result.cords][0] == "cord.pulled"
    assert result.cords[0].fields["asset"] == "raw"
    assert "raw 2026-01-06: blocking check row_count failed" in str(caught.value)


def test_a_failure_is_retried_without_waiting_and_listed(make_project: ProjectFactory,
                                                         tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    result = andon.materialize(root, ["2026-01-07"], sources={"raw": _file(tmp_path, "b", BOOM)},
                               raise_on_failure=False, timeout=60)
    assert [(r.pipeline, r.attempt, r.status) for r in result.runs] == [
        ("clean", 1, "failed"), ("clean", 2, "failed")]  # the hour's back-off was skipped
    assert not result.ok and [r.attempt for r in result.failed] == [2]
    assert "ValueError: boom in the data" in result.runs[0].log
    assert "clean 2026-01-07 attempt 2: failed (ValueError: boom in the data)" in result.summary()


def test_stand_ins_and_named_pipelines(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)

    def stand_in(key: str, path: Path) -> None:
        path.write_text(GOOD)

    result = andon.materialize(root, ["2026-01-08", "2026-01-09"], pipelines=["report"],
                               sources={"raw": stand_in})
    assert result.ok and sorted(result.asked) == [("report", "2026-01-08"),
                                                  ("report", "2026-01-09")]
    assert len(result.runs) == 4  # the data made each once: nothing asked for twice
    nothing = andon.materialize(root, ["2026-01-10"], pipelines=["report"],
                                raise_on_failure=False)
    assert nothing.waiting == (("report", "2026-01-10"),) and not nothing.ok
