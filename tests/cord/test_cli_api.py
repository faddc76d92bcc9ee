"""Pulling and resolving cords, and restoring the outputs they quarantined, from the command line
and over the API, and every refusal: unknown data set or partition, a partition already under an
open cord, an unknown or resolved cord, an output not quarantined or restored already."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from andon.events import CordHalted
from andon.model.tokens import digest, new_token
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line, serve
from tests.cli.test_commands import ANDON, andon, project  # noqa: F401  (the fixture)
from tests.executors.helpers import wait_until

DAY = "2026-01-05"


def _fails(root: Path, *args: str, says: str) -> str:
    proc = andon(root, *args, check=False)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert proc.stderr.startswith("Error: ") and says in proc.stderr, proc.stderr
    assert "hint:" in proc.stderr
    return proc.stderr


def test_the_cord_from_the_command_line_without_a_scheduler(project: Path) -> None:  # noqa: F811
    _fails(project, "cord", "pull", "evnts", DAY, "--reason", "x", says="did you mean 'events'")
    _fails(project, "cord", "pull", "events", "2026-13-40", "--reason", "x", says="events")
    _fails(project, "cord", "pull", "events", DAY, "--reason", "x", says="has not been made")
    andon(project, "notify", "events", DAY)
    _fails(project, "cord", "pull", "events", DAY, "--reason", " ", says="needs a reason")
    missing = andon(project, "cord", "pull", "events", DAY, check=False)
    assert missing.returncode == 2 and "--reason" in missing.stderr  # click's own usage error

    out = andon(project, "cord", "pull", "events", DAY, "--reason", "truncated export")
    assert out.stdout.startswith("pulled cord events:2026-01-05:1")
    _fails(project, "cord", "pull", "events", DAY, "--reason", "again",
           says="already under open cord events:2026-01-05:1")
    listed = json.loads(andon(project, "cord", "list", "--json").stdout)
    assert [(c["cord_id"], c["status"], c["reason"]) for c in listed] == [
        ("events:2026-01-05:1", "pulled", "truncated export")]
    assert listed[0]["pulled_by"].startswith("cli")
    assert [s["step"] for s in listed[0]["timeline"]] == ["produced_bad", "detected", "pulled"]

    _fails(project, "cord", "resolve", "nope:1", "--note", "x", says="no cord with id 'nope:1'")
    _fails(project, "cord", "show", "nope:1", says="no cord")
    andon(project, "cord", "resolve", "events:2026-01-05:1", "--note", "re-exported",
          "--manual-fix")
    _fails(project, "cord", "resolve", "events:2026-01-05:1", "--note", "twice",
           says="already resolved")
    # accepted as fixed, decided at once as `andon up` would: what it halted is released
    assert json.loads(andon(project, "cord", "list", "--json").stdout) == []
    assert json.loads(andon(project, "cord", "list", "--all", "--json").stdout)[0]["status"] == \
        "released"
    assert json.loads(andon(project, "cord", "list", "--all", "--json").stdout)[0]["note"] == \
        "re-exported"
    text = andon(project, "cord", "show", "events:2026-01-05:1").stdout
    assert "resolved" in text and "truncated export" in text


PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")

@andon.pipeline(inputs=["clean"], outputs=["report"], bad_outputs="quarantine",
                locations={"report": "out/report/{partition}.csv"})
def report(ctx):
    ctx.output("report").write_text("ok\\n")
"""


@pytest.fixture
def line(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES)
    settings = resolve(root, {"executor": "inprocess", "port": 0}, {}, {})
    line = open_line(load_project(root), settings)
    ready = threading.Event()
    thread = threading.Thread(target=serve, args=(line, lambda _line: ready.set()), daemon=True)
    thread.start()
    assert ready.wait(10), "the server did not come up"
    yield line
    line.stop_event.set()
    thread.join(10)


def _token(line: Line, role: str) -> dict[str, str]:
    value = new_token()
    line.store.add_token(digest(value), role, role, datetime.now(UTC))
    return {"Authorization": f"Bearer {value}"}


def test_the_cord_over_the_api(line: Line) -> None:
    op = _token(line, "operator")
    with httpx.Client(base_url=line.url, timeout=10) as c:
        body = {"asset": "clean", "partition": DAY, "reason": "nulls"}
        assert c.post("/api/v1/cords", json=body).status_code == 401
        assert c.post("/api/v1/cords", json=body, headers=_token(line, "viewer")).status_code == 403
        r = c.post("/api/v1/cords", json={**body, "asset": "nope"}, headers=op)
        assert r.status_code == 404 and r.json()["error"] == "NotFound"
        r = c.post("/api/v1/cords", json={**body, "partition": "yesterday"}, headers=op)
        assert r.status_code == 422
        r = c.post("/api/v1/cords", json={"asset": "clean", "partition": DAY}, headers=op)
        assert r.status_code == 422 and r.json()["where"] == "reason"
        r = c.post("/api/v1/cords", json=body, headers=op)
        assert r.status_code == 404 and "not been made" in r.json()["message"]

        assert c.post("/api/v1/notify", json={"asset": "raw", "partition": DAY},
                      headers=op).status_code == 201
        wait_until(lambda: line.store.partitions("report"), "report made")
        r = c.post("/api/v1/cords", json=body, headers=op)
        assert r.status_code == 201 and r.json()["cord_id"] == "clean:2026-01-05:1"
        cord_id = r.json()["cord_id"]
        r = c.post("/api/v1/cords", json=body, headers=op)
        assert r.status_code == 409 and cord_id in r.json()["message"]

        assert [x["cord_id"] for x in c.get("/api/v1/cords").json()] == [cord_id]
        assert line.runner.drain()
        halted = c.get("/api/v1/status").json()["halted"]
        assert {(h["pipeline"], h["partition"]) for h in halted} == {("clean", DAY),
                                                                    ("report", DAY)}
        assert halted[0]["cords"][0]["reason"] == "nulls"
        detail = c.get(f"/api/v1/cords/{cord_id}").json()
        assert detail["status"] == "pulled" and len(detail["halted"]) == 2
        assert [o["asset"] for o in detail["outputs"]] == ["report"]
        assert c.get("/api/v1/cords/nope:1").status_code == 404

        r = c.post("/api/v1/cords/nope:1/resolve", json={"note": "x"}, headers=op)
        assert r.status_code == 404
        r = c.post(f"/api/v1/cords/{cord_id}/resolve", json={"note": "x", "manual_fix": "yes"},
                   headers=op)
        assert r.status_code == 422 and r.json()["where"] == "manual_fix"
        r = c.post(f"/api/v1/cords/{cord_id}/resolve", json={"note": "re-ran"}, headers=op)
        assert r.status_code == 202
        wait_until(lambda: line.store.cords(cord_id)[0]["status"] == "recovered", "recovered")
        r = c.post(f"/api/v1/cords/{cord_id}/resolve", json={"note": "again"}, headers=op)
        assert r.status_code == 409
        assert c.get("/api/v1/cords").json() == []
        every = c.get("/api/v1/cords?all=1").json()
        assert every[0]["time_to_recover_seconds"] is not None
        assert "Andon cords" not in c.get("/").text


def test_the_status_page_shows_open_cords(line: Line) -> None:
    op = _token(line, "operator")
    with httpx.Client(base_url=line.url, timeout=10) as c:
        c.post("/api/v1/notify", json={"asset": "raw", "partition": DAY}, headers=op)
        wait_until(lambda: line.store.partitions("report"), "report made")
        c.post("/api/v1/cords", json={"asset": "raw", "partition": DAY,
                                      "reason": "<script>bad</script>"}, headers=op)
        assert line.runner.drain()
        page = c.get("/").text
    assert "Andon cords" in page and "&lt;script&gt;bad" in page and "<script>bad" not in page
    assert any(isinstance(e, CordHalted) for _, e in line.store.events())


def test_the_cli_talks_to_a_running_server(project: Path) -> None:  # noqa: F811
    with (project.parent / "up.log").open("w") as log:
        proc = subprocess.Popen([ANDON, "--project", str(project), "up", "--port", "0"],
                                stdout=log, stderr=log, text=True)
    try:
        wait_until((project / ".andon/server.json").exists, "the server")
        andon(project, "notify", "events", DAY)
        wait_until(lambda: json.loads(andon(project, "runs", "--json").stdout), "a run")
        out = andon(project, "cord", "pull", "events", DAY, "--reason", "bad")
        assert out.stdout.strip() == "pulled cord events:2026-01-05:1"
        _fails(project, "cord", "pull", "events", DAY, "--reason", "bad", says="already under")
        status = andon(project, "status").stdout
        assert "halted: count_events 2026-01-05 by cord events:2026-01-05:1" in status
        andon(project, "cord", "resolve", "events:2026-01-05:1", "--note", "ok", "--manual-fix")
        wait_until(lambda: json.loads(andon(project, "cord", "list", "--json").stdout) == [],
                   "the cord released")
        _fails(project, "cord", "resolve", "events:2026-01-05:1", "--note", "ok",
               says="already resolved")
    finally:
        proc.terminate()
        proc.wait(20)


def _quarantined(outputs: list[dict[str, Any]]) -> bool:
    return any(o["asset"] == "report" and o["state"] == "quarantined" for o in outputs)


def _outputs(root: Path, cord_id: str) -> list[dict[str, Any]]:
    """The suspect outputs of a cord, as `andon cord show --json` prints them."""
    return json.loads(andon(root, "cord", "show", cord_id, "--json").stdout)["outputs"]


def test_restore_over_the_api(line: Line) -> None:
    op = _token(line, "operator")
    report = line.project.root / f"out/report/{DAY}.csv"
    with httpx.Client(base_url=line.url, timeout=10) as c:
        c.post("/api/v1/notify", json={"asset": "raw", "partition": DAY}, headers=op)
        wait_until(report.exists, "report made")
        cord_id = c.post("/api/v1/cords", json={"asset": "clean", "partition": DAY,
                                                "reason": "nulls"}, headers=op).json()["cord_id"]
        wait_until(lambda: _quarantined(line.store.cord_outputs(cord_id)), "report quarantined")
        assert not report.exists()
        url, body = f"/api/v1/cords/{cord_id}/restore", {"asset": "report", "partition": DAY}

        assert c.post(url, json=body).status_code == 401
        r = c.post(url, json=body, headers=_token(line, "viewer"))
        assert r.status_code == 403 and "operator" in r.json()["message"]
        for bad, field in (({"asset": "report"}, "partition"), ({**body, "version": "1"}, "version"),
                           ({**body, "version": 0}, "version"), ({**body, "asset": 5}, "asset")):
            r = c.post(url, json=bad, headers=op)
            assert r.status_code == 422 and r.json()["where"] == field, (bad, r.json())
        assert c.post(url, content=b"{", headers=op).status_code == 422
        r = c.post("/api/v1/cords/nope:1/restore", json=body, headers=op)
        assert r.status_code == 404 and "no cord" in r.json()["message"]
        r = c.post(url, json={**body, "asset": "clean"}, headers=op)
        assert r.status_code == 404 and "report" in r.json()["hint"]
        report.write_text("re-made by hand\n")
        r = c.post(url, json=body, headers=op)
        assert r.status_code == 409 and "holds data again" in r.json()["message"]
        assert report.read_text() == "re-made by hand\n" and r.json()["hint"]
        report.unlink()
        (row,) = line.store.cord_outputs(cord_id)
        assert Path(row["quarantine_path"]).read_text() == "ok\n"  # the refusals moved nothing

        r = c.post(url, json=body, headers=op)
        assert r.status_code == 200, r.json()
        assert r.json() == {"cord_id": cord_id, "id": f"restored:{cord_id}:report:{DAY}:1",
                            "recorded": True, "asset": "report", "partition": DAY, "version": 1,
                            "location": f"out/report/{DAY}.csv"}
        assert report.read_text() == "ok\n"
        outputs = c.get(f"/api/v1/cords/{cord_id}").json()["outputs"]
        assert [(o["asset"], o["state"]) for o in outputs] == [("report", "restored")]
        r = c.post(url, json={**body, "version": 1}, headers=op)
        assert r.status_code == 409 and "already restored" in r.json()["message"]
    (restored,) = [e for _, e in line.store.events() if e.name == "output.restored"]
    assert restored.by == "operator"  # the token's name


def test_restore_from_the_command_line_with_and_without_a_server(  # type: ignore[no-untyped-def]
        make_project) -> None:
    root = make_project(PIPELINES)
    days = (DAY, "2026-01-06")
    reports = {day: root / f"out/report/{day}.csv" for day in days}
    with (root.parent / "up.log").open("w") as log:
        proc = subprocess.Popen([ANDON, "--project", str(root), "up", "--port", "0",
                                 "--executor", "inprocess"], stdout=log, stderr=log, text=True)
    try:
        wait_until((root / ".andon/server.json").exists, "the server")
        for day in days:
            andon(root, "notify", "raw", day)
            wait_until(reports[day].exists, f"report {day}")
            andon(root, "cord", "pull", "clean", day, "--reason", "nulls")
            wait_until(lambda cord=f"clean:{day}:1": _quarantined(_outputs(root, cord)),
                       f"report {day} quarantined")

        out = andon(root, "cord", "restore", f"clean:{DAY}:1", "report", DAY)
        assert out.stdout.strip() == f"restored report {DAY} v1 to out/report/{DAY}.csv"
        assert reports[DAY].read_text() == "ok\n"
        assert [o["state"] for o in _outputs(root, f"clean:{DAY}:1")] == ["restored"]
        _fails(root, "cord", "restore", f"clean:{DAY}:1", "report", DAY, says="already restored")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
    assert not (root / ".andon/server.json").exists()

    # no server: the file moves and the event goes straight to the store
    day = days[1]
    _fails(root, "cord", "restore", "nope:1", "report", day, says="no cord with id")
    _fails(root, "cord", "restore", f"clean:{day}:1", "report", day, "--version", "2",
           says="version 2 of report")
    bad = andon(root, "cord", "restore", f"clean:{day}:1", "report", day, "--version", "0",
                check=False)
    assert bad.returncode == 2 and "--version" in bad.stderr  # click's own range check
    assert not reports[day].exists()
    out = andon(root, "cord", "restore", f"clean:{day}:1", "report", day, "--version", "1")
    assert out.stdout.strip() == f"restored report {day} v1 to out/report/{day}.csv"
    assert reports[day].read_text() == "ok\n"
    assert not list((root / ".andon/quarantine").rglob("*.csv"))
    assert [o["state"] for o in _outputs(root, f"clean:{day}:1")] == ["restored"]
    _fails(root, "cord", "restore", f"clean:{day}:1", "report", day, says="already restored")
