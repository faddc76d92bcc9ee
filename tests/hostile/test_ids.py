"""Hostile ids: a client-chosen event id can never take the id of an event andon derives (it is
stored as ``client:ID``, and checked), and a log made inconsistent before that rule existed still
lets `andon up`, `andon plan` and `andon status` start and answer, reporting which event of which
run does not fit."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.engine.core import replay
from andon.events import (
    OutputWritten,
    PartitionAvailable,
    PartitionRef,
    RunLaunched,
    RunStarted,
    RunSucceeded,
)
from andon.model.status import RunStatus
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line
from andon.store.sql import Store
from tests.cli.test_commands import andon
from tests.conftest import ProjectFactory, utc
from tests.web.conftest import PIPELINES, auth_header, running

DAY, DAY2 = "2026-01-05", "2026-01-06"
RUN = f"clean:{DAY}:1"
CORD = f"raw:{DAY}:1"


def _derived_notify_id(asset: str, key: str) -> str:
    """The id the service derives for a notify of a partition whose file is not there."""
    return "notify:" + hashlib.sha256(f"{asset}\0{key}\0no-file".encode()).hexdigest()[:32]


# every kind of id andon derives for the events that follow a notify of raw DAY (and the notify
# of DAY2 without a file): a client that chose one of them used to have that event dropped
DERIVED = [f"queued:{RUN}", f"started:{RUN}", f"ended:{RUN}", f"launched:{RUN}:0",
           f"planned:clean:{DAY}", f"at_risk:clean:{DAY}:1", _derived_notify_id("raw", DAY2),
           f"cord:{CORD}", f"pull:{CORD}", f"halted:{CORD}", f"resolved:{CORD}:1",
           f"released:{CORD}", f"check:raw:{DAY}:1:rows", f"notification:{RUN}:webhook:ops:1"]

BAD = ["", "a" * 201, "a/b", "../x", "a b", "café", "a\n", "id=1", "\x00", "<script>", "%2e%2e"]


@pytest.fixture
def line(make_project: ProjectFactory) -> Iterator[Line]:
    with running(make_project(PIPELINES)) as served:
        yield served


@pytest.fixture
def client(line: Line) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=line.url, timeout=10) as c:
        yield c



def _replayed_problems(line: Line) -> list[str]:
    return [str(p) for p in replay(line.project.graph, line.store.iter_events()).problems]


@pytest.mark.parametrize("chosen", DERIVED)
def test_a_client_id_equal_to_a_derived_one_takes_nothing_from_the_engine(
        make_project: ProjectFactory, chosen: str) -> None:
    root = make_project(PIPELINES)
    (root / "data/raw").mkdir(parents=True)
    (root / f"data/raw/{DAY}.csv").write_text("a\n1\n")
    with running(root) as line, httpx.Client(base_url=line.url, timeout=10) as client:
        auth = auth_header(line)
        body = {"asset": "raw", "partition": DAY, "id": chosen}
        first = client.post("/api/v1/notify", json=body, headers=auth)
        assert first.status_code == 201, first.text
        assert first.json() == {"id": f"client:{chosen}", "recorded": True}
        again = client.post("/api/v1/notify", json=body, headers=auth)  # idempotent
        assert (again.status_code, again.json()["recorded"]) == (200, False)
        assert line.runner.drain()
        # a notify without a file derives the id a client chose in one case: still recorded
        late = client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY2},
                           headers=auth)
        assert (late.status_code, late.json()["recorded"]) == (201, True)
        assert line.runner.drain()
        runs = client.get("/api/v1/runs").json()
        assert sorted((r["run_id"], r["status"]) for r in runs) == [
            (RUN, "succeeded"), (f"clean:{DAY2}:1", "succeeded")]
        assert line.store.has_event(f"client:{chosen}")
        assert line.store.count_events("partition.available") == 2
        assert line.store.count_events("run.queued") == 2  # the engine's events all recorded
        assert _replayed_problems(line) == []
        assert client.get("/api/v1/health").json()["problems"] == {"count": 0, "first": []}


@pytest.mark.parametrize("bad", BAD + [5, True, ["a"], {"a": 1}])
def test_a_malformed_client_id_is_refused_naming_the_field(line: Line, client: httpx.Client,
                                                           bad: object) -> None:
    before = line.store.count_events()
    r = client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY, "id": bad},
                    headers=auth_header(line))
    assert r.status_code == 422, r.text
    err = r.json()
    assert err["where"] == "id" and "'id'" in err["message"] and err["hint"]
    assert line.runner.drain()
    assert line.store.count_events() == before  # nothing recorded


def test_the_longest_allowed_client_id_is_taken(line: Line, client: httpx.Client) -> None:
    chosen = "Az09._:-" * 25  # 200 characters
    r = client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY, "id": chosen},
                    headers=auth_header(line))
    assert (r.status_code, r.json()["id"]) == (201, f"client:{chosen}")


def test_notify_id_on_the_command_line(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES, start=DAY)
    out = andon(root, "notify", "raw", DAY, "--id", f"queued:{RUN}")
    assert "recorded" in out.stdout and "already" not in out.stdout
    assert "already recorded" in andon(root, "notify", "raw", DAY, "--id", f"queued:{RUN}").stdout
    for bad in ("", "a b", "x" * 201):
        proc = andon(root, "notify", "raw", DAY2, "--id", bad, check=False)
        assert proc.returncode == 2 and "'id'" in proc.stderr and "A-Z" in proc.stderr
    plan = json.loads(andon(root, "plan", "--json").stdout)
    assert plan["problems"] == []
    store = _store(root)
    try:
        # the chosen id is the notify's, apart from andon's own: the engine, deciding the notify
        # at once, still queues the run under its id queued:RUN
        ids = {e.id: type(e).__name__ for e in store.iter_events()}
        assert ids[f"client:queued:{RUN}"] == "PartitionAvailable"
        assert ids[f"queued:{RUN}"] == "RunQueued"
        assert list(ids.values()).count("PartitionAvailable") == 1
    finally:
        store.close()


# -- a log made inconsistent by the old rule -----------------------------------------------------

def _store(root: Path) -> Store:
    project = load_project(root)
    settings = resolve(root, {}, {}, project.settings_table)
    settings.state_dir.mkdir(parents=True, exist_ok=True)
    return Store(settings.database_url)


def _break_the_log(root: Path) -> None:
    """What a notify with ``id = queued:RUN`` left behind before client ids had their own
    namespace: the run.queued of RUN dropped as a duplicate, its start and end recorded."""
    (root / "data/raw").mkdir(parents=True)
    (root / f"data/raw/{DAY}.csv").write_text("a\n1\n")
    (root / "data/clean").mkdir(parents=True)
    (root / f"data/clean/{DAY}").write_text("ok\n")
    at = utc(2026, 1, 6, 1)
    inputs = (PartitionRef("raw", DAY, 1),)
    store = _store(root)
    try:
        store.append([
            PartitionAvailable(id=f"queued:{RUN}", at=at, asset="raw", partition=DAY,
                               origin="api", location=f"data/raw/{DAY}.csv", fingerprint="f1"),
            RunStarted(id=f"started:{RUN}", at=at, run_id=RUN, pipeline="clean", partition=DAY,
                       inputs=inputs),
            RunLaunched(id=f"launched:{RUN}:0", at=at, run_id=RUN),
            RunSucceeded(id=f"ended:{RUN}", at=at, run_id=RUN, pipeline="clean", partition=DAY,
                         inputs=inputs, outputs=(OutputWritten(
                             "clean", DAY, f"data/clean/{DAY}", 3, None, "out1"),)),
        ])
    finally:
        store.close()


def test_plan_and_status_answer_on_an_inconsistent_log(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES, start=DAY)
    _break_the_log(root)
    proc = andon(root, "plan", "--json")
    taken, problem = json.loads(proc.stdout)["problems"]
    assert (taken["event_id"], taken["event"], taken["position"]) == (
        f"queued:{RUN}", "partition.available", 1)
    assert taken["run_id"] == RUN and "client:ID" in taken["message"]
    assert problem["event_id"] == f"started:{RUN}" and problem["run_id"] == RUN
    assert problem["event"] == "run.started" and problem["position"] == 2
    assert "no run.queued" in problem["message"]
    assert f"started:{RUN}" in proc.stderr and "inconsistent" in proc.stderr
    assert "inconsistent" in andon(root, "plan").stderr
    status = json.loads(andon(root, "status", "--json").stdout)
    assert status["pipelines"][0]["name"] == "clean"


def test_up_starts_on_an_inconsistent_log_and_reports_it(
        make_project: ProjectFactory, caplog: pytest.LogCaptureFixture) -> None:
    root = make_project(PIPELINES, start=DAY)
    _break_the_log(root)
    caplog.set_level(logging.WARNING, logger="andon")
    with running(root) as line, httpx.Client(base_url=line.url, timeout=10) as client:
        warned = [r.getMessage() for r in caplog.records if "inconsistent" in r.getMessage()]
        assert len(warned) == 1 and f"started:{RUN}" in warned[0] and RUN in warned[0]
        health = client.get("/api/v1/health").json()
        assert health["ok"] is True and health["problems"]["count"] == 2
        taken, problem = health["problems"]["first"]
        assert (taken["event_id"], taken["run_id"]) == (f"queued:{RUN}", RUN)
        assert (problem["event_id"], problem["run_id"]) == (f"started:{RUN}", RUN)
        assert client.get("/api/v1/plan").json()["problems"] == [taken, problem]
        # the adopted run made its output: it is not made again, and the line goes on
        assert line.runner.state.runs[RUN].status is RunStatus.SUCCEEDED
        r = client.post("/api/v1/notify", json={"asset": "raw", "partition": DAY2},
                        headers=auth_header(line))
        assert r.status_code == 201
        assert line.runner.drain()
        assert [(r["run_id"], r["status"]) for r in client.get("/api/v1/runs").json()] == [
            (f"clean:{DAY2}:1", "succeeded")]
        # a request to re-make the broken partition gets a new run number: nothing is dropped
        r = client.post("/api/v1/runs", json={"pipeline": "clean", "partition": DAY},
                        headers=auth_header(line))
        assert r.status_code == 202
        assert line.runner.drain()
        assert line.store.run(f"clean:{DAY}:2")["status"] == "succeeded"  # type: ignore[index]
        assert len(_replayed_problems(line)) == 2  # only the old ones
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_an_old_client_id_of_a_run_event_is_never_taken_by_a_run(
        make_project: ProjectFactory, caplog: pytest.LogCaptureFixture) -> None:
    """A notify with ``id = queued:RUN`` whose run never started before andon stopped: the log
    holds the id and nothing of the run. The run that follows gets the next number, so none of
    its events is dropped as a duplicate."""
    root = make_project(PIPELINES, start=DAY)
    (root / "data/raw").mkdir(parents=True)
    (root / f"data/raw/{DAY}.csv").write_text("a\n1\n")
    store = _store(root)
    try:
        store.append([PartitionAvailable(id=f"queued:{RUN}", at=utc(2026, 1, 6, 1), asset="raw",
                                         partition=DAY, origin="api",
                                         location=f"data/raw/{DAY}.csv", fingerprint="f1")])
    finally:
        store.close()
    caplog.set_level(logging.WARNING, logger="andon")
    with running(root) as line, httpx.Client(base_url=line.url, timeout=10) as client:
        assert line.runner.drain()
        assert client.get("/api/v1/health").json()["problems"]["count"] == 1
        assert [(r["run_id"], r["status"]) for r in client.get("/api/v1/runs").json()] == [
            (f"clean:{DAY}:2", "succeeded")]
        assert line.store.count_events("run.queued") == 1
        problems = replay(line.project.graph, line.store.iter_events()).problems
        assert [(p.position, p.event_id, p.run_id) for p in problems] == [(1, f"queued:{RUN}", RUN)]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("path,body", [
    ("/api/v1/runs/{id}/cancel", None),
    ("/api/v1/cords/{id}/resolve", {"note": "x"}),
    ("/api/v1/cords/{id}/restore", {"asset": "raw", "partition": DAY}),
])
@pytest.mark.parametrize("named", [f"queued:{RUN}", RUN, CORD, "client:x", ".."])
def test_ids_in_paths_only_name_what_exists(line: Line, client: httpx.Client, path: str,
                                            body: dict[str, str] | None, named: str) -> None:
    """The other routes that take an id from a client take it in the path, to name a run or a
    cord that exists; none makes an event with it."""
    before = line.store.count_events()
    r = client.post(path.format(id=named), json=body, headers=auth_header(line))
    assert r.status_code == 404, r.text
    assert line.runner.drain()
    assert line.store.count_events() == before
