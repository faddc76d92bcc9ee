"""The fork server behind the local executor, with real processes: each run forked into a session
of its own, edits of the definitions taking effect, a server that dies (its runs go on, a new one
takes over), a server that dies before the executor learnt the pid (the run never began), and the
projects where forking is unsafe (runs are spawned instead)."""

from __future__ import annotations

import os
import signal
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.executors.base import RunSpec, spec_for
from andon.executors.child import write_atomic
from andon.executors.forkclient import ForkFailed, ForkServer
from andon.executors.local import LocalProcessExecutor
from andon.executors.processes import SERVER_MODULE, is_run_process
from andon.project.load import Project, load_project
from tests.executors.helpers import Reports, alive, read_pid, wait_until

DAY = "2026-01-05"

PIPELINES = r'''
import os
import random
import time

import andon
import helper

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["said"])
def said(ctx):
    ctx.output("said").write_text(helper.WORD + "\n")


@andon.pipeline(inputs=["raw"], outputs=["who"])
def who(ctx):
    me = os.getpid()
    ctx.output("who").write_text(f"{me} {os.getsid(me)} {os.getppid()} {random.random()}\n")


@andon.pipeline(inputs=["raw"], outputs=["gated"])
def gated(ctx):
    (ctx.project_dir / f"gated-{ctx.attempt}.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120  # a failure guard only
    while not (ctx.project_dir / f"gate-{ctx.attempt}").exists():
        assert time.monotonic() < deadline
        time.sleep(0.01)
    ctx.output("gated").write_text("done\n")
'''


@pytest.fixture
def project(make_project) -> Project:
    root = make_project(PIPELINES)
    (root / "helper.py").write_text('WORD = "first"\n')
    return load_project(root)


@pytest.fixture
def executor() -> Iterator[LocalProcessExecutor]:
    ex = LocalProcessExecutor(kill_grace=0.5)
    yield ex
    ex.shutdown()


def spec(project: Project, pipeline: str, attempt: int = 1) -> RunSpec:
    return spec_for(project.graph, f"{pipeline}:{DAY}:{attempt}", pipeline, DAY, attempt,
                    project.root, project.root / ".andon/runs")


def run(executor: LocalProcessExecutor, s: RunSpec) -> tuple[int, str]:
    """Start ``s``, wait for its report; (pid, what it wrote to its only output)."""
    reports = Reports()
    pid = executor.start(s, reports)
    res = reports.wait(s.run_id)
    assert res.ok, (res, s.log_path.read_text())
    return pid, Path(next(iter(s.outputs.values()))).read_text()


def server_of(executor: LocalProcessExecutor, project: Project) -> ForkServer:
    return executor._servers[str(project.root)]


def cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


def rewrite(path: Path, text: str) -> None:
    """Edit a file as an editor would; a changed size is enough for the server to notice, even
    within the file system's time resolution."""
    path.write_text(textwrap.dedent(text))


def spare_of(server: ForkServer, runs: set[int]) -> int:
    """The process the server forked ahead for its next run (none of ``runs``)."""
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    wait_until(lambda: set(map(int, children.read_text().split())) - runs, "a spare")
    return min(set(map(int, children.read_text().split())) - runs)


def test_each_run_is_forked_by_the_server_into_a_session_of_its_own(project, executor) -> None:
    first, out1 = run(executor, spec(project, "who", 1))
    server = server_of(executor, project)
    spare = spare_of(server, {first})  # forked ahead, in its own session, holding no run
    assert os.getsid(spare) == spare and not is_run_process(spare, spec(project, "who", 2).run_dir)
    second, out2 = run(executor, spec(project, "who", 2))
    assert second == spare  # the next run was handed to it
    assert SERVER_MODULE in cmdline(server.pid)
    pid1, sid1, parent1, random1 = out1.split()
    pid2, sid2, parent2, random2 = out2.split()
    assert (int(pid1), int(pid2)) == (first, second) and first != second
    assert sid1 == pid1 and sid2 == pid2  # each leads its own session (and process group)
    assert int(parent1) == int(parent2) == server.pid  # forked, not spawned by the scheduler
    assert random1 != random2  # each forked process has its own random state


def test_a_forked_run_is_told_from_a_process_that_reuses_its_pid(project, executor) -> None:
    s = spec(project, "gated")
    pid = executor.start(s, Reports())
    read_pid(project.root / "gated-1.pid")
    assert is_run_process(pid, s.run_dir)
    assert not is_run_process(server_of(executor, project).pid, s.run_dir)  # not the server
    other = spec(project, "gated", 2)
    assert not is_run_process(pid, other.run_dir)  # not another run's
    write_atomic(Path(s.run_dir) / "spec.json", s.to_json())  # a spec written again: a new start
    assert not is_run_process(pid, s.run_dir)
    (project.root / "gate-1").touch()


def test_an_edited_definitions_module_takes_effect_on_the_next_run(project, executor) -> None:
    assert run(executor, spec(project, "said", 1))[1] == "first\n"
    rewrite(project.root / "helper.py", 'WORD = "second one"\n')  # a module the definitions import
    assert run(executor, spec(project, "said", 2))[1] == "second one\n"
    pipelines = project.root / "pipelines.py"
    pipelines.write_text(pipelines.read_text().replace("helper.WORD +", "helper.WORD.upper() +"))
    assert run(executor, spec(project, "said", 3))[1] == "SECOND ONE\n"


def test_a_broken_edit_fails_the_runs_until_it_is_fixed(project, executor) -> None:
    pipelines = project.root / "pipelines.py"
    good = pipelines.read_text()
    pipelines.write_text(good + "\nthis is not python\n")
    reports = Reports()
    broken = spec(project, "said", 1)
    executor.start(broken, reports)
    res = reports.wait(broken.run_id)
    assert not res.ok and res.error_type == "DefinitionError", res
    assert "pipelines.py" in res.error_message
    assert "DefinitionError" in broken.log_path.read_text()  # the traceback, in the run's log
    pipelines.write_text(good)
    assert run(executor, spec(project, "said", 2))[1] == "first\n"


def test_when_the_server_dies_its_runs_go_on_and_a_new_server_takes_over(project, executor) -> None:
    reports = Reports()
    s = spec(project, "gated")
    pid = executor.start(s, reports)
    read_pid(project.root / "gated-1.pid")
    old = server_of(executor, project)
    os.kill(old.pid, signal.SIGKILL)
    wait_until(lambda: not old.alive, "the executor to notice the server died")
    assert alive(pid) and executor.running() == [s.run_id]
    _, out = run(executor, spec(project, "said"))  # started by a new server
    assert out == "first\n" and server_of(executor, project).pid != old.pid
    (project.root / "gate-1").touch()
    res = reports.wait(s.run_id)
    assert res.ok and res.outputs[0].asset == "gated"


def test_a_run_that_dies_after_its_server_is_lost(project, executor) -> None:
    reports = Reports()
    s = spec(project, "gated")
    pid = executor.start(s, reports)
    read_pid(project.root / "gated-1.pid")
    server = server_of(executor, project)
    os.kill(server.pid, signal.SIGKILL)
    wait_until(lambda: not server.alive, "the executor to notice the server died")
    os.killpg(pid, signal.SIGKILL)
    res = reports.wait(s.run_id)
    assert not res.ok and res.error_type == "ProcessLost", res  # its exit code died with the server


def test_close_stops_the_server_and_leaves_the_runs_executing(project, executor) -> None:
    reports = Reports()
    s = spec(project, "gated")
    pid = executor.start(s, reports)
    read_pid(project.root / "gated-1.pid")
    server = server_of(executor, project)
    executor.close()
    wait_until(lambda: not server.alive, "the server to exit")
    assert alive(pid)
    (project.root / "gate-1").touch()
    assert reports.wait(s.run_id).ok


def test_a_server_that_dies_before_answering_leaves_a_run_that_never_began(project) -> None:
    """The forked process waits for the server's "go", sent only once the executor was told
    its pid; here it hangs opening its log (a FIFO nobody reads), the server dies meanwhile."""
    s = spec(project, "said")
    run_dir = Path(s.run_dir)
    run_dir.mkdir(parents=True)
    write_atomic(run_dir / "spec.json", s.to_json())
    os.mkfifo(s.log_path)
    server = ForkServer(str(project.root), sys.executable)
    failed: list[BaseException] = []

    def fork() -> None:
        try:
            server.fork(s.run_id, str(run_dir / "spec.json"), str(s.log_path), 60)
        except ForkFailed as exc:
            failed.append(exc)

    asking = threading.Thread(target=fork)
    asking.start()
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    wait_until(lambda: children.read_text().strip(), "the server to fork")
    child = int(children.read_text().split()[0])
    os.kill(server.pid, signal.SIGKILL)
    asking.join(60)
    assert failed and not server.alive
    fifo = os.open(s.log_path, os.O_RDONLY | os.O_NONBLOCK)  # let it open its log
    try:
        wait_until(lambda: not alive(child), "the forked process to give up")
    finally:
        os.close(fifo)
    assert not (run_dir / "pid").exists() and not s.result_path.exists()  # no user code ran
    assert LocalProcessExecutor().recover(s, child, Reports()) is False  # so start it again


def test_definitions_that_start_threads_are_spawned_instead(make_project) -> None:
    root = make_project(PIPELINES + textwrap.dedent('''
        import threading
        threading.Thread(target=time.sleep, args=(600,), daemon=True).start()

        @andon.pipeline(inputs=["raw"], outputs=["argv"])
        def argv(ctx):
            ctx.output("argv").write_text(open("/proc/self/cmdline").read())
        '''))
    (root / "helper.py").write_text('WORD = "first"\n')
    project = load_project(root)
    executor = LocalProcessExecutor(kill_grace=0.5)
    try:
        for attempt in (1, 2):
            _, out = run(executor, spec(project, "argv", attempt))
            assert "andon.executors.child" in out, out  # spawned, as forking is unsafe here
        assert str(root) not in executor._servers  # and it is not asked again
    finally:
        executor.shutdown()


def test_prints_while_the_definitions_load_do_not_disturb_the_server(make_project) -> None:
    root = make_project('print("loading the definitions")\n' + PIPELINES)
    (root / "helper.py").write_text('print("helper too")\nWORD = "first"\n')
    executor = LocalProcessExecutor(kill_grace=0.5)
    try:
        assert run(executor, spec(load_project(root), "said"))[1] == "first\n"
        assert server_of(executor, load_project(root)).alive
    finally:
        executor.shutdown()


def context_switches(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return sum(int(line.split()[1]) for line in status.splitlines()
               if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


def test_an_idle_server_sleeps(project, executor) -> None:
    run(executor, spec(project, "said"))
    server = server_of(executor, project)
    time.sleep(0.1)  # let it finish reaping
    before = context_switches(server.pid)
    time.sleep(0.5)
    assert context_switches(server.pid) == before, "an idle fork server woke up"


def test_a_server_that_hangs_loading_the_project_is_killed_and_the_run_spawned(make_project) -> None:
    root = make_project(r'''
        import sys
        import time

        import andon

        if "forkserver" in sys.argv[0]:  # only the fork server hangs importing this
            time.sleep(600)

        andon.source("raw", location="data/raw/{partition}.csv")
        andon.pipeline("shell", inputs=["raw"], outputs=["shell"],
                       command="echo made > $ANDON_OUTPUT_SHELL")
        ''')
    project = load_project(root)
    executor = LocalProcessExecutor(kill_grace=0.5, start_timeout=1.0)
    try:
        executor.warm(str(root))
        server = server_of(executor, project)
        assert run(executor, spec(project, "shell"))[1] == "made\n"  # spawned after 1 s
        wait_until(lambda: not server.alive, "the hung server to be killed")
        assert str(root) not in executor._servers
    finally:
        executor.shutdown()


def test_health_says_whether_a_fork_server_is_there_to_start_runs(project, executor) -> None:
    """The board's health strip: ``alive`` while the project's fork server runs, not once it
    died (until the next run starts another); spawning executors are always able."""
    executor.warm(str(project.root))
    assert executor.health() == {"name": "local", "mode": "fork", "alive": True, "runs": 0}
    reports = Reports()
    s = spec(project, "gated")
    executor.start(s, reports)
    read_pid(project.root / "gated-1.pid")
    assert executor.health()["runs"] == 1
    server = server_of(executor, project)
    os.kill(server.pid, signal.SIGKILL)
    wait_until(lambda: not server.alive, "the executor to notice the server died")
    assert executor.health() == {"name": "local", "mode": "fork", "alive": False, "runs": 1}
    run(executor, spec(project, "said"))  # a new server takes over
    assert executor.health()["alive"] is True
    (project.root / "gate-1").touch()
    assert reports.wait(s.run_id).ok
    assert executor.health()["runs"] == 0
    spawning = LocalProcessExecutor(fork=False)
    assert spawning.health() == {"name": "local", "mode": "spawn", "alive": True, "runs": 0}
