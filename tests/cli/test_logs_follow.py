"""`andon logs RUN --follow`: the real console script following a run's log through a running
server while the run (a real process, fed lines by the test through a FIFO) executes."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from andon.serve.up import Line
from tests.cli.test_commands import ANDON
from tests.web.conftest import running
from tests.web.test_logstream import GUARD, PIPELINES, Run


@pytest.fixture
def served(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES)
    os.mkfifo(root / "feed.fifo")
    with running(root, executor="local") as line:
        yield line


def follow(line: Line, run_id: str) -> subprocess.Popen[str]:
    return subprocess.Popen([ANDON, "--project", str(line.project.root), "logs", run_id,
                             "--follow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def test_follow_prints_the_lines_as_the_run_writes_them_and_ends_with_it(served: Line) -> None:
    run = Run(served)
    proc = follow(served, run.run_id)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "ready\n"
        run.say("one")
        assert proc.stdout.readline().endswith(" INFO got one\n")
        assert run.status == "running", "the line came while the run was executing"
        assert proc.poll() is None, "following goes on while the run executes"
        run.finish()
        rest, err = proc.communicate(timeout=GUARD)
    finally:
        run.finish()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert rest == "done\n"


def test_follow_exits_1_when_the_run_fails(served: Line) -> None:
    run = Run(served)
    proc = follow(served, run.run_id)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        run.say("fail")
        out, err = proc.communicate(timeout=GUARD)
    finally:
        run.finish()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1
    assert "ValueError: told to fail" in out and "the run failed" in err
