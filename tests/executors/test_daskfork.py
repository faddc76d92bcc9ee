"""A Dask worker's fork servers (``daskfork.ForkServerPlugin``), with real processes but without a
cluster: a project's server is started on its first run and reused, and it is tied to its
worker: closing the worker (the plugin's teardown) or killing the server with SIGKILL ends its
runs and everything in their process groups."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.executors.base import RunSpec, spec_for
from andon.executors.child import write_atomic
from andon.executors.environment import base_environment
from andon.project.load import Project
from tests.executors.helpers import WAIT_FOR, alive, project_with_raw, read_pid, wait_until

pytest.importorskip("distributed")
from andon.executors.daskfork import ForkServerPlugin  # noqa: E402  (needs distributed)

DAY = "2026-01-05"
PIPELINES = r'''
import os
import subprocess
import time
from pathlib import Path

import andon

andon.source("raw", location="data/raw/{partition}.csv")

''' + WAIT_FOR + r'''

@andon.pipeline(inputs=["raw"], outputs=["gated"])
def gated(ctx):
    """Note this process and a sleeping child of its group, then wait for the test's gate."""
    child = subprocess.Popen(["sleep", "600"])
    (ctx.project_dir / f"child-{ctx.attempt}.pid").write_text(str(child.pid))
    (ctx.project_dir / f"gated-{ctx.attempt}.pid").write_text(str(os.getpid()))
    wait_for(ctx.project_dir / f"gate-{ctx.attempt}")
    child.kill()
    ctx.output("gated").write_text("done\n")
'''


@pytest.fixture
def project(make_project) -> Project:
    return project_with_raw(make_project, PIPELINES, DAY, "x\n")


@pytest.fixture
def plugin() -> Iterator[ForkServerPlugin]:
    plugin = ForkServerPlugin(start_timeout=60)
    yield plugin
    plugin.close()


def fork(plugin: ForkServerPlugin, project: Project, attempt: int) -> tuple[RunSpec, int, int]:
    """Fork a run of ``gated``: its spec, the server's pid and the run's pid."""
    spec = spec_for(project.graph, f"gated:{DAY}:{attempt}", "gated", DAY, attempt, project.root,
                    project.root / ".andon/runs")
    Path(spec.run_dir).mkdir(parents=True)
    write_atomic(Path(spec.run_dir) / "spec.json", spec.to_json())
    forked = plugin.fork(spec.run_id, str(project.root), str(Path(spec.run_dir) / "spec.json"),
                         str(spec.log_path), base_environment(os.environ))
    assert forked is not None, "the run was not forked"
    server, pid = forked
    return spec, server.pid, pid


def test_a_projects_server_starts_on_its_first_run_and_is_reused(plugin, project) -> None:
    assert plugin.servers() == {}  # nothing before the first run
    first, server, pid = fork(plugin, project, 1)
    _, again, _ = fork(plugin, project, 2)
    assert again == server and plugin.servers() == {str(project.root): server}
    assert b"--tied" in Path(f"/proc/{server}/cmdline").read_bytes().split(b"\0")
    (project.root / "gate-1").touch()
    wait_until(first.result_path.exists, "the first run's result")
    assert '"ok": true' in first.result_path.read_text()
    assert read_pid(project.root / "gated-1.pid") == pid


def test_closing_the_worker_ends_its_server_and_the_servers_runs(plugin, project) -> None:
    """The plugin's teardown (the worker closes): the server exits, and its run and the run's
    child (in the run's process group) are killed, not left behind."""
    _, server, _ = fork(plugin, project, 1)
    run, child = read_pid(project.root / "gated-1.pid"), read_pid(project.root / "child-1.pid")
    plugin.teardown(None)
    wait_until(lambda: not alive(server), "the fork server to exit with its worker")
    wait_until(lambda: not alive(run), "the run to end with its fork server")
    wait_until(lambda: not alive(child), "the run's child to end with it")
    assert plugin.servers() == {}


def test_a_server_killed_takes_its_runs_along(plugin, project) -> None:
    """SIGKILL to the server (nothing of it runs then): each run gets SIGKILL from the kernel
    (PR_SET_PDEATHSIG); the next run starts a new server."""
    _, server, _ = fork(plugin, project, 1)
    run = read_pid(project.root / "gated-1.pid")
    os.kill(server, signal.SIGKILL)
    wait_until(lambda: not alive(run), "the run to die with its fork server")
    wait_until(lambda: not plugin.servers(), "the client to see its server gone")
    _, second, _ = fork(plugin, project, 2)
    assert second != server
