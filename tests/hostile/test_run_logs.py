"""A run's log on disk is capped: a run that prints far more than the cap leaves a log.txt under
it, with the head, a marker of what was left out and the tail; it streams while the run runs,
and the cap holds for a run adopted by a new scheduler. Real processes, forked and spawned."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from andon.executors.base import RunSpec, spec_for
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.executors.logcap import CappedLog, Masker, cap_bytes
from andon.model.errors import ConfigError
from andon.project.load import Project
from andon.project.settings import resolve
from tests.executors.helpers import WAIT_FOR, Reports, project_with_raw, read_pid, wait_until

CAP = 64 * 1024
DAY = "2026-01-05"
MARKER = re.compile(r"\n\.\.\. \[andon: (\d+) bytes left out\] \.\.\.\n")

PIPELINES = r'''
import os
import sys
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")


'''+WAIT_FOR+r'''

@andon.pipeline(inputs=["raw"], outputs=["loud"])
def loud(ctx):
    for i in range(200_000):
        print(f"line {i:06d} of a very talkative run")
    os.write(2, b"straight to fd 2 at the end\n")
    ctx.output("loud").write_text("ok\n")


@andon.pipeline(inputs=["raw"], outputs=["paced"], secrets=["LOG_SECRET"])
def paced(ctx):
    print("first line, before the gate")
    sys.stdout.write("the secret is " + os.environ["LOG_SECRET"][:5])
    sys.stdout.flush()
    sys.stdout.write(os.environ["LOG_SECRET"][5:] + " in two writes\n")
    (ctx.project_dir / "paced.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / "gate")
    for i in range(100_000):
        print(f"after the gate {i:06d}")
    print("the last line")
    ctx.output("paced").write_text("ok\n")


andon.pipeline("shell_loud", inputs=["raw"], outputs=["shell_loud"],
               command="yes 'a shell line' | head -c 3000000; echo; echo the shell end")
'''


@pytest.fixture
def project(make_project) -> Project:  # type: ignore[no-untyped-def]
    return project_with_raw(make_project, PIPELINES, DAY)


ENVIRON = {**os.environ, "LOG_SECRET": "hunter2-s3cr3t"}


@pytest.fixture(params=["fork", "spawn"])
def make(request: pytest.FixtureRequest) -> Iterator[type]:
    made: list[LocalProcessExecutor] = []

    def make() -> LocalProcessExecutor:
        made.append(LocalProcessExecutor(kill_grace=0.5, fork=request.param == "fork",
                                         environ=ENVIRON, max_log_bytes=CAP))
        return made[-1]

    yield make  # type: ignore[misc]
    for ex in made:
        ex.shutdown()


def _spec(project: Project, pipeline: str) -> RunSpec:
    return spec_for(project.graph, f"{pipeline}:{DAY}:1", pipeline, DAY, 1, project.root,
                    project.root / ".andon/runs")


def _check_capped(text: str, total: int) -> tuple[str, str]:
    """The log holds a head, one marker and a tail; what it says was left out is exactly
    what is missing. Returns (head, tail)."""
    assert len(text.encode()) <= CAP
    markers = MARKER.findall(text)
    assert len(markers) == 1, markers
    head, tail = MARKER.split(text)[0], MARKER.split(text)[2]
    assert len(head.encode()) + int(markers[0]) + len(tail.encode()) == total
    return head, tail


@pytest.mark.parametrize("pipeline", ["loud", "shell_loud"])
def test_a_loud_run_leaves_a_capped_log_with_head_marker_and_tail(project: Project, make,  # type: ignore[no-untyped-def]
                                                                  pipeline: str) -> None:
    reports = Reports()
    s = _spec(project, pipeline)
    make().start(s, reports)
    assert reports.wait(s.run_id).ok
    text = s.log_path.read_text()
    if pipeline == "loud":
        total = sum(len(f"line {i:06d} of a very talkative run\n") for i in range(200_000))
        total += len("straight to fd 2 at the end\n")
        head, tail = _check_capped(text, total)
        assert head.startswith("line 000000 of a very talkative run\n")
        assert tail.endswith("line 199999 of a very talkative run\nstraight to fd 2 at the end\n")
    else:
        head, tail = _check_capped(text, 3_000_000 + len("\nthe shell end\n"))
        assert head.startswith("a shell line\n") and tail.endswith("\nthe shell end\n")


def test_the_log_streams_while_the_run_runs_and_masks_its_secret(project: Project, make) -> None:  # type: ignore[no-untyped-def]
    reports = Reports()
    s = _spec(project, "paced")
    make().start(s, reports)
    read_pid(project.root / "paced.pid")
    wait_until(lambda: "in two writes" in s.log_path.read_text(), "the first lines in the log")
    early = s.log_path.read_text()
    assert "first line, before the gate" in early
    assert "the secret is *** in two writes" in early and "hunter2" not in early
    (project.root / "gate").write_text("")
    assert reports.wait(s.run_id).ok
    text = s.log_path.read_text()
    total = len("first line, before the gate\nthe secret is *** in two writes\nthe last line\n")
    total += sum(len(f"after the gate {i:06d}\n") for i in range(100_000))
    head, tail = _check_capped(text, total)
    assert head.startswith("first line, before the gate\n") and tail.endswith("the last line\n")
    assert "hunter2" not in text


def test_the_cap_holds_for_a_run_adopted_after_its_scheduler_went(project: Project, make) -> None:  # type: ignore[no-untyped-def]
    """The copying into the log is the run's own work: a scheduler that goes away (and the
    one that adopts the run) changes nothing about it."""
    first = make()
    s = _spec(project, "paced")
    spawned = first.start(s, Reports())
    read_pid(project.root / "paced.pid")
    first._runs.clear()  # the scheduler is gone: nobody watches the run ...
    first.close()  # ... and its fork server is stopped
    (project.root / "gate").write_text("")
    reports = Reports()
    assert make().recover(s, spawned, reports)
    assert reports.wait(s.run_id).ok
    text = s.log_path.read_text()
    assert len(text.encode()) <= CAP and text.endswith("the last line\n")
    assert len(MARKER.findall(text)) == 1 and text.startswith("first line, before the gate\n")


def test_the_inprocess_executor_caps_the_log_too(project: Project) -> None:
    ex = InProcessExecutor(lambda name: project.graph.pipelines[name].fn, ENVIRON, CAP)
    reports = Reports()
    s = _spec(project, "shell_loud")  # its shell step's output (prints of a function go to
    ex.start(s, reports)                # the scheduler's own stdout in-process)
    assert reports.wait(s.run_id).ok
    head, tail = _check_capped(s.log_path.read_text(), 3_000_000 + len("\nthe shell end\n"))
    assert head.startswith("a shell line\n") and tail.endswith("\nthe shell end\n")


@settings(max_examples=60, deadline=None)
@given(chunks=st.lists(st.binary(min_size=0, max_size=3000), max_size=60),
       cap=st.sampled_from([4096, 5000, 9999]))
def test_capped_log_keeps_head_and_tail_and_counts_what_it_left_out(
        tmp_path_factory: pytest.TempPathFactory, chunks: list[bytes], cap: int) -> None:
    path = tmp_path_factory.mktemp("log") / "log.txt"
    path.write_bytes(b"before\n")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        log = CappedLog(fd, cap, [], origin=7)
        for chunk in chunks:
            log.write(chunk)
            assert os.fstat(fd).st_size <= 7 + cap
        log.write(b"", final=True)
    finally:
        os.close(fd)
    data = path.read_bytes()
    assert data.startswith(b"before\n")
    written = b"".join(chunks)
    body = data[7:]
    match = re.search(rb"\n\.\.\. \[andon: (\d+) bytes left out\] \.\.\.\n", body)
    if match is None:
        assert body == written
    else:
        head, tail = body[:match.start()], body[match.end():]
        assert written.startswith(head) and written.endswith(tail)
        assert len(head) + int(match.group(1)) + len(tail) == len(written)
    assert cap_bytes(written, cap, []) == body


@given(text=st.text(max_size=200), cut=st.lists(st.integers(0, 200), max_size=5))
def test_masker_hides_a_secret_however_the_writes_split_it(text: str, cut: list[int]) -> None:
    secret = "s3cr3t-value"
    data = (text[: len(text) // 2] + secret + text[len(text) // 2:]).encode()
    masker = Masker([secret])
    out, start = b"", 0
    for at in sorted(cut) + [len(data)]:
        out += masker.feed(data[start:max(at, start)])
        start = max(at, start)
    out += masker.feed(data[start:], final=True)
    assert secret.encode() not in out and out == data.replace(secret.encode(), b"***")


@pytest.mark.parametrize("value", ["100", "-1", "4095"])
def test_a_too_small_log_cap_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError, match="max_log_bytes"):
        resolve(tmp_path, {}, {"ANDON_MAX_LOG_BYTES": value}, {})
