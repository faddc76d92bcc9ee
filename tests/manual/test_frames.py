"""The executors record a failing run's frames in the project's code: in-process and in a real
subprocess through the local executor, and in the run.failed event the runner writes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from andon.events import Frame, RunFailed
from andon.events.codec import from_dict, to_dict
from andon.executors.base import ExecResult, spec_for
from andon.executors.child import project_resolver
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.project.load import Project
from tests.executors.helpers import Reports, project_with_raw

DAY = "2026-01-05"
PIPELINES = '''
import json

import andon
from frame_helpers.parse import parse_all

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["parsed"])
def parsed(ctx):
    rows = parse_all(ctx.inputs["raw"].read_text())
    json.loads("{not json")  # never reached


@andon.pipeline(inputs=["raw"], outputs=["deep"])
def deep(ctx):
    def down(n):
        return down(n + 1)
    down(0)
'''
HELPER = '''
def parse_row(line):
    return float(line.split()[1])


def parse_all(text):
    return [parse_row(line) for line in text.splitlines()]
'''


@pytest.fixture
def project(make_project) -> Project:
    def make(pipelines: str) -> object:
        root = make_project(pipelines)
        (root / "frame_helpers").mkdir()
        (root / "frame_helpers/__init__.py").write_text("")
        (root / "frame_helpers/parse.py").write_text(HELPER)
        return root

    return project_with_raw(make, PIPELINES, DAY, "a 1\nb n/a\n")


@pytest.fixture(params=["inprocess", "local"])
def run(request: pytest.FixtureRequest, project: Project) -> Iterator[object]:
    executor = (InProcessExecutor(project_resolver(str(project.root)))
                if request.param == "inprocess" else LocalProcessExecutor(kill_grace=0.5))

    def run(pipeline: str) -> ExecResult:
        reports = Reports()
        spec = spec_for(project.graph, f"{pipeline}:{DAY}:1", pipeline, DAY, 1, project.root,
                        project.root / ".andon/runs")
        executor.start(spec, reports)
        return reports.wait(spec.run_id)

    yield run
    executor.shutdown()


def test_the_user_frames_innermost_last(run) -> None:
    res = run("parsed")
    assert res.error_type == "ValueError"
    assert res.error_message == "could not convert string to float: 'n/a'"
    # the list comprehension is a frame of its own before Python 3.12
    assert res.frames[0] == Frame("pipelines.py", "parsed")
    assert res.frames[-1] == Frame("frame_helpers/parse.py", "parse_row")
    assert all(not f.file.startswith(("/", "..")) and "andon" not in f.file for f in res.frames)


def test_a_deep_recursion_keeps_the_innermost_frames(run) -> None:
    res = run("deep")
    assert res.error_type == "RecursionError"
    assert len(res.frames) == 20 and set(res.frames) == {Frame("pipelines.py", "down")}


def test_run_failed_carries_the_frames_and_an_older_log_still_loads() -> None:
    event = RunFailed(run_id="r", pipeline="p", partition=DAY, error_type="ValueError",
                      frames=(Frame("pipelines.py", "p"), Frame("lib/x.py", "f")))
    assert from_dict(to_dict(event)) == event
    older = to_dict(event)
    del older["frames"]
    assert from_dict(older).frames == ()  # type: ignore[attr-defined]
    assert ExecResult.from_json(ExecResult("r", False, frames=event.frames).to_json()).frames == \
        event.frames
