"""Hostile environments on a Dask worker's fork server (``daskfork``): a worker started from a
shell holding andon's own settings (ANDON_*) and unrelated secrets gives its fork server none of
them, and a secret one run declared (sent over the server's pipe) stays in that run: neither the
server nor a later run forked from it sees it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from andon.executors.base import spec_for
from andon.executors.child import write_atomic
from andon.executors.environment import base_environment
from andon.project.load import Project
from tests.executors.helpers import project_with_raw, wait_until

pytest.importorskip("distributed")
from andon.executors.daskfork import ForkServerPlugin  # noqa: E402  (needs distributed)

DAY = "2026-01-05"
CANARY = "canary-dask-7f3a91c2"
RUN_SECRET = "run-secret-0b9e44d1"
PIPELINES = r'''
import json
import os

import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["seen"])
def seen(ctx):
    ctx.output("seen").write_text(json.dumps(dict(os.environ)))
'''


@pytest.fixture
def project(make_project) -> Project:
    return project_with_raw(make_project, PIPELINES, DAY, "x\n")


@pytest.fixture
def plugin(monkeypatch) -> Iterator[ForkServerPlugin]:
    monkeypatch.setenv("ANDON_API_TOKEN", CANARY)  # the worker's shell had andon's settings
    monkeypatch.setenv("ANDON_DATABASE_URL", f"postgresql://u:{CANARY}@db/x")
    monkeypatch.setenv("SOME_CLOUD_KEY", CANARY)  # and a secret nobody declared
    plugin = ForkServerPlugin(start_timeout=60)
    yield plugin
    plugin.close()


def run(plugin: ForkServerPlugin, project: Project, attempt: int,
        extra: dict[str, str]) -> tuple[int, dict[str, str]]:
    """Fork a run of ``seen`` with the worker's base environment plus ``extra``: the server's
    pid and the environment the run saw."""
    spec = spec_for(project.graph, f"seen:{DAY}:{attempt}", "seen", DAY, attempt, project.root,
                    project.root / ".andon/runs")
    Path(spec.run_dir).mkdir(parents=True)
    write_atomic(Path(spec.run_dir) / "spec.json", spec.to_json())
    forked = plugin.fork(spec.run_id, str(project.root), str(Path(spec.run_dir) / "spec.json"),
                         str(spec.log_path), {**base_environment(os.environ), **extra})
    assert forked is not None
    wait_until(spec.result_path.exists, "the run's result")
    assert '"ok": true' in spec.result_path.read_text(), spec.log_path.read_text()
    seen = json.loads((project.root / f"data/seen/{DAY}").read_text())
    return forked[0].pid, seen


def test_the_fork_server_gets_no_secret_and_a_runs_secret_stays_in_its_run(plugin,
                                                                          project) -> None:
    server, first = run(plugin, project, 1, {"RUN_TOKEN": RUN_SECRET})
    assert first["RUN_TOKEN"] == RUN_SECRET  # declared: the run has it
    assert CANARY not in json.dumps(first)  # no ANDON_* setting, no undeclared secret
    environ = Path(f"/proc/{server}/environ").read_bytes()
    assert CANARY.encode() not in environ and RUN_SECRET.encode() not in environ
    assert b"ANDON_" not in environ
    again, second = run(plugin, project, 2, {})
    assert again == server  # forked from the same server, after the first run
    assert "RUN_TOKEN" not in second and RUN_SECRET not in json.dumps(second)
