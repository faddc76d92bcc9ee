"""The local process executor with real processes: outputs, timings, failures, timeouts, cancels,
logs, and finding runs again after the scheduler died. Each test runs with processes forked by a
fork server and with processes spawned one by one (``fork=False``)."""

from __future__ import annotations

import hashlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from andon.executors.base import RunSpec, spec_for
from andon.executors.execute import run_spec
from andon.executors.inprocess import InProcessExecutor
from andon.executors.local import LocalProcessExecutor
from andon.project.load import Project
from tests.executors.helpers import WAIT_FOR, Reports, alive, project_with_raw, read_pid, wait_until

PIPELINES = r'''
import os
import signal
import sys
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")


'''+WAIT_FOR+r'''

@andon.pipeline(inputs=["raw"], outputs=["clean"], locations={"clean": "data/clean/{partition}.csv"})
def clean(ctx):
    lines = ctx.inputs["raw"].read_text().splitlines()
    ctx.output("clean").write_text("\n".join(x.upper() for x in lines) + "\n")
    ctx.set_rows("clean", len(lines))
    print("cleaned", ctx.partition)
    ctx.log.info("attempt %d", ctx.attempt)


@andon.pipeline(inputs=["raw"], outputs=["counted"])
def counted(ctx):
    ctx.output("counted").write_text("7\n")
    return {"counted": 7}


@andon.pipeline(inputs=["raw"], outputs=["boom"])
def boom(ctx):
    print("about to fail")
    raise ValueError("bad row 3 in " + ctx.partition)


@andon.pipeline(inputs=["raw"], outputs=["quits"])
def quits(ctx):
    sys.exit(4)


@andon.pipeline(inputs=["raw"], outputs=["stubborn"])
def stubborn(ctx):
    def note(signum, frame):
        with open(ctx.project_dir / "got_sigterm", "a") as fh:
            fh.write("SIGTERM\n")
    signal.signal(signal.SIGTERM, note)  # it ignores SIGTERM: only SIGKILL ends it
    (ctx.project_dir / "stubborn.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / "never")


@andon.pipeline(inputs=["raw"], outputs=["gated"])
def gated(ctx):
    (ctx.project_dir / f"gated-{ctx.partition}.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / f"gate-{ctx.partition}")
    ctx.output("gated").write_text("done\n")


andon.pipeline("shell_ok", inputs=["raw"], outputs=["shell_ok"],
               command="echo hello {partition} from $ANDON_PIPELINE && "
                       "awk '{print $1}' $ANDON_INPUT_RAW > $ANDON_OUTPUT_SHELL_OK")
andon.pipeline("shell_exit", inputs=["raw"], outputs=["shell_exit"],
               command="echo failing on purpose; exit 3")
andon.pipeline("shell_slow", inputs=["raw"], outputs=["shell_slow"], timeout="2s",
               command="sleep 300 & echo $! > grandchild.pid; wait")
andon.pipeline("shell_tree", inputs=["raw"], outputs=["shell_tree"],
               command="sleep 300 & echo $! > tree.pid; wait")
'''

DAY = "2026-01-05"


@pytest.fixture
def project(make_project) -> Project:
    return project_with_raw(make_project, PIPELINES, DAY, "a 1\nb 2\nc 3\n")


Make = Callable[..., LocalProcessExecutor]


@pytest.fixture(params=["fork", "spawn"])
def make(request: pytest.FixtureRequest) -> Iterator[Make]:
    """LocalProcessExecutor(...) in this test's mode; each is shut down after the test."""
    made: list[LocalProcessExecutor] = []

    def make(kill_grace: float = 0.5) -> LocalProcessExecutor:
        made.append(LocalProcessExecutor(kill_grace=kill_grace, fork=request.param == "fork"))
        return made[-1]

    yield make
    for ex in made:
        ex.shutdown()


@pytest.fixture
def executor(make: Make) -> LocalProcessExecutor:
    return make()


def spec(project: Project, pipeline: str, partition: str = DAY, n: int = 1) -> RunSpec:
    return spec_for(project.graph, f"{pipeline}:{partition}:{n}", pipeline, partition, 1,
                    project.root, project.root / ".andon/runs")


def test_a_function_step_reports_its_outputs_rows_and_times(project, executor) -> None:
    reports = Reports()
    s = spec(project, "clean")
    pid = executor.start(s, reports)
    res = reports.wait(s.run_id)

    assert pid > 0 and res.ok, res
    assert res.error_type == "" and res.exit_code == 0
    (out,) = res.outputs
    path = project.root / "data/clean" / f"{DAY}.csv"
    assert out.asset == "clean" and out.partition == DAY
    assert out.location == f"data/clean/{DAY}.csv"  # relative to the project
    assert out.size_bytes == path.stat().st_size == len("A 1\nB 2\nC 3\n")
    assert out.fingerprint == hashlib.sha256(path.read_bytes()).hexdigest()
    assert out.rows == 3
    assert res.startup_seconds is not None and res.startup_seconds > 0  # a process was spawned
    assert res.work_seconds >= 0
    log = s.log_path.read_text()
    assert f"cleaned {DAY}" in log and "attempt 1" in log
    assert read_pid(Path(s.run_dir) / "pid") == pid  # the child wrote its own pid


def test_rows_can_come_from_a_returned_dict(project, executor) -> None:
    reports = Reports()
    s = spec(project, "counted")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert res.ok and res.outputs[0].rows == 7


def test_a_command_step_gets_its_paths_and_keeps_other_braces(project, executor) -> None:
    reports = Reports()
    s = spec(project, "shell_ok")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert res.ok, (res, s.log_path.read_text())
    assert (project.root / f"data/shell_ok/{DAY}").read_text() == "a\nb\nc\n"
    assert f"hello {DAY} from shell_ok" in s.log_path.read_text()
    assert res.outputs[0].rows is None and res.outputs[0].size_bytes == 6
    assert res.startup_seconds is not None


def test_an_exception_gives_its_class_and_message_and_the_traceback_in_the_log(
        project, executor) -> None:
    reports = Reports()
    s = spec(project, "boom")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert not res.ok
    assert res.error_type == "ValueError"
    assert res.error_message == f"bad row 3 in {DAY}"
    log = s.log_path.read_text()
    assert "about to fail" in log
    assert "Traceback (most recent call last)" in log and "pipelines.py" in log
    assert "raise ValueError" in log


def test_a_non_zero_exit_gives_exit_code(project, executor) -> None:
    reports = Reports()
    s = spec(project, "shell_exit")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "ExitCode" and res.exit_code == 3
    assert "failing on purpose" in s.log_path.read_text()


def test_sys_exit_in_a_function_is_an_exit_code_not_a_crash(project, executor) -> None:
    reports = Reports()
    s = spec(project, "quits")
    executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "ExitCode" and res.exit_code == 4


def test_a_timeout_kills_the_whole_process_group(project, executor) -> None:
    reports = Reports()
    s = spec(project, "shell_slow")
    assert s.timeout == 2.0
    child = executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "Timeout", res
    assert "timeout of 2s" in res.error_message
    grandchild = read_pid(project.root / "grandchild.pid")  # started by the shell
    assert not alive(child) and not alive(grandchild)
    assert executor.running() == []


def test_cancel_sends_sigterm_then_sigkill_after_the_grace(project, make) -> None:
    executor = make(kill_grace=1.0)  # ample time for the handler to note it
    reports = Reports()
    s = spec(project, "stubborn")
    executor.start(s, reports)
    pid = read_pid(project.root / "stubborn.pid")  # its SIGTERM handler is installed
    executor.cancel(s.run_id)
    res = reports.wait(s.run_id)
    assert res.cancelled and res.error_type == "Cancelled"
    assert (project.root / "got_sigterm").read_text() == "SIGTERM\n"  # asked first ...
    assert res.exit_code == -signal.SIGKILL  # ... then killed
    assert not alive(pid)


def test_cancel_reaches_the_grandchildren_of_a_shell_step(project, executor) -> None:
    reports = Reports()
    s = spec(project, "shell_tree")
    executor.start(s, reports)
    grandchild = read_pid(project.root / "tree.pid")
    assert alive(grandchild)
    executor.cancel(s.run_id)
    res = reports.wait(s.run_id)
    assert res.cancelled
    assert not alive(grandchild)


def test_cancelling_an_unknown_or_finished_run_does_nothing(project, executor) -> None:
    reports = Reports()
    s = spec(project, "clean")
    executor.start(s, reports)
    assert reports.wait(s.run_id).ok
    executor.cancel(s.run_id)
    executor.cancel("no-such-run")
    assert len(reports.results[s.run_id]) == 1


def test_each_run_keeps_its_own_log(project, executor) -> None:
    reports = Reports()
    first, second = spec(project, "clean", n=1), spec(project, "boom", n=1)
    executor.start(first, reports)
    executor.start(second, reports)
    reports.wait(first.run_id)
    reports.wait(second.run_id)
    assert first.log_path != second.log_path
    assert "Traceback" not in first.log_path.read_text()
    assert "Traceback" in second.log_path.read_text()


# -- finding runs again after the scheduler died ---------------------------------------------------

def test_a_run_that_still_executes_is_adopted_and_its_result_reported(project, executor, make) -> None:
    s = spec(project, "gated")
    pid = executor.start(s, Reports())  # the "old scheduler"
    read_pid(project.root / f"gated-{DAY}.pid")
    successor, reports = make(), Reports()
    assert successor.recover(s, pid, reports) is True
    assert successor.running() == [s.run_id]
    assert reports.results == {}  # still executing: nothing to report yet
    (project.root / f"gate-{DAY}").touch()
    res = reports.wait(s.run_id)
    assert res.ok and res.outputs[0].asset == "gated"


def test_an_adopted_run_can_be_cancelled(project, executor, make) -> None:
    s = spec(project, "gated")
    pid = executor.start(s, Reports())
    read_pid(project.root / f"gated-{DAY}.pid")
    successor, reports = make(), Reports()
    successor.recover(s, pid, reports)
    successor.cancel(s.run_id)
    assert reports.wait(s.run_id).cancelled
    assert not alive(pid)


def test_without_a_recorded_pid_the_process_is_found_once_in_proc(project, executor, make) -> None:
    s = spec(project, "gated", partition="2026-01-06")
    pid = executor.start(s, Reports())
    read_pid(project.root / "gated-2026-01-06.pid")
    (Path(s.run_dir) / "pid").unlink()  # as if the scheduler died before anything was written
    successor, reports = make(), Reports()
    assert successor.recover(s, 0, reports) is True
    assert successor.running() == [s.run_id]
    (project.root / "gate-2026-01-06").touch()
    assert reports.wait(s.run_id).ok
    assert not alive(pid)


def test_a_run_that_ended_while_nobody_watched_reports_its_result(project, executor, make) -> None:
    s = spec(project, "clean")
    executor.start(s, Reports())
    wait_until(lambda: s.result_path.exists(), "the result file")
    reports = Reports()
    assert make().recover(s, 0, reports) is True
    assert reports.wait(s.run_id).ok


def test_a_run_whose_process_died_without_a_result_is_lost(project, executor, make) -> None:
    s = spec(project, "gated", partition="2026-01-07")
    pid = executor.start(s, Reports())
    read_pid(project.root / "gated-2026-01-07.pid")
    os.killpg(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), "the run to die")
    reports = Reports()
    assert make().recover(s, pid, reports) is True
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "ProcessLost"


def test_a_run_that_never_began_is_handed_back_to_be_started(project, make) -> None:
    s = spec(project, "clean")
    reports = Reports()
    assert make().recover(s, 0, reports) is False  # no spec written
    Path(s.run_dir).mkdir(parents=True)
    (Path(s.run_dir) / "spec.json").write_text(s.to_json())  # spawned, but the child never ran
    assert make().recover(s, 0, reports) is False
    assert reports.results == {}


def test_a_reused_pid_is_not_mistaken_for_the_run(project, make) -> None:
    s = spec(project, "clean")
    Path(s.run_dir).mkdir(parents=True)
    (Path(s.run_dir) / "spec.json").write_text(s.to_json())
    (Path(s.run_dir) / "pid").write_text(str(os.getpid()))  # alive, but not the run
    reports = Reports()
    assert make().recover(s, os.getpid(), reports) is True
    assert reports.wait(s.run_id).error_type == "ProcessLost"


# -- in-process --------------------------------------------------------------------------------------

def test_the_in_process_executor_runs_inline(project) -> None:
    def resolve(name: str):
        return project.graph.pipelines[name].fn

    reports = Reports()
    ex = InProcessExecutor(resolve)
    s = spec(project, "clean")
    assert ex.start(s, reports) == 0
    assert s.run_id in reports.results  # reported before start returned ...
    assert reports.threads[s.run_id] == threading.current_thread().name  # ... on this thread
    res = reports.results[s.run_id][0]
    assert res.ok and res.outputs[0].rows == 3 and res.startup_seconds is None
    assert "attempt 1" in s.log_path.read_text()
    failed = spec(project, "boom")
    ex.start(failed, reports)
    assert reports.results[failed.run_id][0].error_type == "ValueError"
    assert "Traceback" in failed.log_path.read_text()
    assert ex.recover(s, 0, reports) is True


def test_an_unknown_pipeline_function_is_reported_not_raised(project) -> None:
    def resolve(name: str):
        raise KeyError(name)

    with open(os.devnull, "w") as sink:
        res = run_spec(spec(project, "clean"), resolve, sink)
    assert not res.ok and res.error_type == "KeyError"
