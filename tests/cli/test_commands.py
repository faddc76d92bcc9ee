"""The CLI as a user runs it: the real console script, with and without a running `andon up`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from andon.model.tokens import digest

ANDON = str(Path(sys.executable).with_name("andon"))


def andon(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([ANDON, "--project", str(root), *args], capture_output=True, text=True,
                          timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    proc = subprocess.run([ANDON, "init", str(root)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for day in ("2026-01-05", "2026-01-06"):
        path = root / "data/events" / f"{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a\nb\nc\n")
    return root


def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not reached in time")


@contextmanager
def andon_up(root: Path, *args: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real ``andon up --port 0 ARGS`` on ``root``, answering once it has written its
    address; stopped with Ctrl-C at the end."""
    proc = subprocess.Popen([ANDON, "--project", str(root), "up", "--port", "0", *args],
                            stderr=subprocess.DEVNULL)
    try:
        _wait_for((root / ".andon/server.json").exists)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)


@pytest.fixture
def server(project: Path) -> Iterator[subprocess.Popen[str]]:
    with (project.parent / "up.log").open("w") as log:
        proc = subprocess.Popen([ANDON, "--project", str(project), "up", "--port", "0"],
                                stdout=log, stderr=log, text=True)
    info = project / ".andon/server.json"
    try:
        _wait_for(info.exists)
        yield proc
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_init_validate_and_offline_commands(project: Path) -> None:
    out = andon(project, "validate")
    assert out.stdout.startswith("ok: 2 pipelines, 1 sources")
    graph = json.loads(andon(project, "validate", "--json").stdout)
    assert graph["pipelines"] == ["count_events", "weekly_total"]
    # no scheduler is running: notify is recorded in the store and decided there as `andon up`
    # would (its run is queued and started; the next `up` launches it)
    assert "recorded" in andon(project, "notify", "events", "2026-01-05").stdout
    assert "already recorded" in andon(project, "notify", "events", "2026-01-05").stdout
    status = json.loads(andon(project, "status", "--json").stdout)
    assert status["sources"] == [{"name": "events", "partitions": 1, "latest": "2026-01-05",
                                  "owner": "you@example.com"}]
    runs = json.loads(andon(project, "runs", "--json").stdout)
    assert [(r["pipeline"], r["partition"], r["pid"]) for r in runs] == [
        ("count_events", "2026-01-05", None)]
    text = andon(project, "status").stdout
    assert "count_events" in text and "waiting" in text


def test_commands_against_a_running_server(project: Path, server: subprocess.Popen[str]) -> None:
    andon(project, "notify", "events", "2026-01-05")
    andon(project, "notify", "events", "2026-01-06")

    def both_done() -> bool:
        runs = json.loads(andon(project, "runs", "--json", "--pipeline", "count_events").stdout)
        return sum(r["status"] == "succeeded" for r in runs) == 2

    _wait_for(both_done)
    assert (project / "data/event_counts/2026-01-05.txt").read_text() == "3\n"
    # the 7-day window on day 2 reads days 1 and 2 (clipped at the project start? no: start is
    # 2026-01-01, so it waits for the missing days) - nothing ran for weekly_total
    runs = json.loads(andon(project, "runs", "--json").stdout)
    assert {r["pipeline"] for r in runs} == {"count_events"}
    run_id = runs[0]["run_id"]
    assert andon(project, "logs", run_id).returncode == 0
    detail = [r for r in runs if r["run_id"] == run_id][0]
    assert detail["outputs"][0]["rows"] == 1 and detail["outputs"][0]["size_bytes"] == 2
    # a manual run re-makes the partition (new version) over the API
    assert "requested" in andon(project, "run", "count_events", "--partition", "2026-01-05").stdout
    _wait_for(lambda: len(json.loads(andon(project, "runs", "--json", "--partition",
                                             "2026-01-05").stdout)) == 2
              and all(r["status"] == "succeeded" for r in json.loads(
                  andon(project, "runs", "--json", "--partition", "2026-01-05").stdout)))
    status = andon(project, "status", "--json")
    assert json.loads(status.stdout)["pipelines"][0]["partitions"]["succeeded"] == 2
    bad = andon(project, "notify", "events", "2026-13-45", check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("Error:") and "hint:" in bad.stderr
    unknown = andon(project, "logs", "nope", check=False)
    assert unknown.returncode == 2 and "no run with id" in unknown.stderr


def test_status_exits_1_when_a_run_failed(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project("""
        import andon
        andon.source("raw")

        @andon.pipeline(inputs=["raw"], outputs=["out"])
        def boom(ctx):
            raise ValueError("bad row 7")
    """)
    proc = subprocess.Popen([ANDON, "--project", str(root), "up", "--port", "0",
                             "--executor", "inprocess"], stderr=subprocess.DEVNULL)
    try:
        _wait_for((root / ".andon/server.json").exists)
        andon(root, "notify", "raw", "2026-01-02")
        _wait_for(lambda: json.loads(andon(root, "runs", "--json").stdout)[:1] != [] and
                  json.loads(andon(root, "runs", "--json").stdout)[0]["status"] == "failed")
        status = andon(root, "status", check=False)
        assert status.returncode == 1
        assert "ValueError: bad row 7" in status.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    # without a server the same commands read the store
    assert not (root / ".andon/server.json").exists()
    runs = json.loads(andon(root, "runs", "--json").stdout)
    assert runs[0]["error_type"] == "ValueError"


def test_help_is_fast_to_import() -> None:
    """`andon --help` must not import the heavy modules (checked by import, not by time)."""
    code = ("import sys; from andon.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('sqlalchemy', 'starlette', 'uvicorn', 'numpy') if m in sys.modules]\n"
            "print('HEAVY:' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ}, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_create_list_and_revoke_tokens(project: Path) -> None:
    """`andon token create | list | revoke` on the project's store; nothing secret is shown."""
    viewer = andon(project, "token", "create", "--role", "viewer", "--name", "dashboards")
    value = viewer.stdout.strip()
    assert value.startswith("andon_") and len(value) == len("andon_") + 43
    token_id = digest(value)[:12]
    assert token_id in viewer.stderr and value not in viewer.stderr
    other = andon(project, "token", "create").stdout.strip()  # operator, no name

    listed = json.loads(andon(project, "token", "list", "--json").stdout)
    assert [(t["id"], t["name"], t["role"], t["revoked_at"]) for t in listed] == [
        (token_id, "dashboards", "viewer", None), (digest(other)[:12], "", "operator", None)]
    table = andon(project, "token", "list")
    assert table.stdout.splitlines()[0].split() == ["ID", "NAME", "ROLE", "CREATED", "REVOKED"]
    assert token_id in table.stdout and "dashboards" in table.stdout
    for text in (table.stdout, json.dumps(listed)):
        for secret in (value, other, digest(value), digest(other)):
            assert secret not in text

    # by id (as the list shows it) or by the token itself
    assert "revoked " + token_id in andon(project, "token", "revoke", token_id).stdout
    assert "revoked " + digest(other)[:12] in andon(project, "token", "revoke", other).stdout
    listed = json.loads(andon(project, "token", "list", "--json").stdout)
    assert all(t["revoked_at"] for t in listed)
    again = andon(project, "token", "revoke", token_id, check=False)
    assert again.returncode == 2 and "already revoked" in again.stderr
    unknown = andon(project, "token", "revoke", "andon_nope", check=False)
    assert unknown.returncode == 2 and "no token" in unknown.stderr and "andon_nope" not in \
        unknown.stderr


def test_python_dash_m_andon_is_the_andon_command() -> None:
    out = subprocess.run([sys.executable, "-m", "andon", "--help"], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Usage: andon ") and "notify" in out.stdout
