"""The JSON of the cord read routes, byte for byte (key order included), on a log holding cords in
every state: recovered after a re-make, released by a manual fix, resolving, pulled with a failed
re-make, pulled with an output quarantined and restored, one deleted, one pulled by a check.

``GET /api/v1/cords`` (open, ``?all=1``), ``GET /api/v1/cords/{id}`` and the status's ``cords``
and ``halted`` are compared with ``cord_json_golden.json``; the Service's answers (what the CLI
prints without a server, ``andon cord list --json`` and ``show --json``) are the same JSON. To
write the goldens again after an intended change of the JSON: ``ANDON_WRITE_GOLDEN=1 pytest
tests/cord/test_cord_json_golden.py``."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from andon import events as ev
from andon.engine.core import Decisions
from andon.live.service import Service
from andon.project.load import load_project
from andon.store.sql import Store
from andon.web.app import create_app
from andon.web.context import WebContext
from tests.conftest import ProjectFactory
from tests.engine.cordlib import of_type, pull, resolve
from tests.engine.harness import Line

GOLDEN = Path(__file__).with_name("cord_json_golden.json")

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["orders"])
def clean(ctx):
    pass

@andon.pipeline(inputs=["orders"], outputs=["report"], bad_outputs="quarantine",
                locations={"report": "out/report/{partition}.csv"})
def report(ctx):
    pass

@andon.pipeline(inputs=["report"], outputs=["mail"], bad_outputs="delete",
                locations={"mail": "out/mail/{partition}.txt"})
def mail(ctx):
    pass
"""

MINUTE = timedelta(minutes=1)


def _aside(out: Decisions, kind: type) -> list[ev.Event]:
    """What the cord's file step would record (of type ``kind``) for the suspect outputs the
    engine decided in ``out``: a quarantine or a deletion, per the pipeline's ``bad_outputs``."""
    done: list[ev.Event] = []
    for s in of_type(out.events, ev.OutputSuspect):
        where = f".andon/quarantine/{s.cord_id}/{s.location}"
        if s.action == "quarantine":
            done.append(ev.OutputQuarantined(at=s.at, cord_id=s.cord_id, asset=s.asset,
                                             partition=s.partition, version=s.version,
                                             location=s.location, quarantine_path=where))
        elif s.action == "delete":
            done.append(ev.OutputDeleted(at=s.at, cord_id=s.cord_id, asset=s.asset,
                                         partition=s.partition, version=s.version,
                                         location=s.location))
    return [e for e in done if isinstance(e, kind)]


def cord_log(root: Path) -> tuple[Line, list[str]]:
    """The engine's log of a line with five cords, one per day, in different states; and their
    ids, oldest first."""
    project = load_project(root)
    line = Line(project.graph)
    for day in ("2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"):
        line.notify("raw", day, fingerprint=f"raw@{day}")
        line.run_all()
        line.tick(MINUTE)
    ids = []

    # recovered: re-made after the pull; its report was quarantined, its mail deleted
    cord_id, out = pull(line, "orders", "2026-01-05", "duplicated rows")
    for e in _aside(out, ev.Event):
        line.send(e)
    line.tick(5 * MINUTE)
    resolve(line, cord_id)
    line.tick(MINUTE)
    line.run_all()
    ids.append(cord_id)

    # released by a manual fix (then recovered downstream)
    line.tick(MINUTE)
    cord_id, out = pull(line, "orders", "2026-01-06", "a column of nulls")
    for e in _aside(out, ev.Event):
        line.send(e)
    line.tick(3 * MINUTE)
    resolve(line, cord_id, manual_fix=True)  # what it halted re-runs: not finished here
    ids.append(cord_id)

    # resolving: pulled by a check on a source, which waits to be announced again
    line.tick(MINUTE)
    raw = "raw:2026-01-07:1"
    out = line.send(ev.CordPulled(id=f"cord:{raw}", at=line.now, cord_id=raw, asset="raw",
                                  partition="2026-01-07", reason="row count 0 < 10",
                                  by="check:rows", detected_at=line.now - 2 * MINUTE))
    line.tick(2 * MINUTE)
    resolve(line, raw)
    ids.append(raw)

    # pulled, its report quarantined and restored by hand, its mail deleted
    line.tick(MINUTE)
    cord_id, out = pull(line, "orders", "2026-01-08", "late data")
    for e in _aside(out, ev.Event):
        line.send(e)
    (moved,) = _aside(out, ev.OutputQuarantined)
    assert isinstance(moved, ev.OutputQuarantined)
    line.tick(MINUTE)
    request = ev.OutputRestoreRequested(at=line.now, cord_id=cord_id, asset=moved.asset,
                                        partition=moved.partition, version=moved.version,
                                        location=moved.location,
                                        quarantine_path=moved.quarantine_path, by="cli:ann")
    line.send(request)
    line.send(ev.OutputRestored(at=line.now, cord_id=cord_id, asset=moved.asset,
                                partition=moved.partition, version=moved.version,
                                location=moved.location, quarantine_path=moved.quarantine_path,
                                by="cli:ann"))
    ids.append(cord_id)

    # pulled again after its re-make failed
    line.tick(MINUTE)
    cord_id, out = pull(line, "orders", "2026-01-09", "wrong currency")
    line.tick(MINUTE)
    resolve(line, cord_id)
    line.tick(MINUTE)
    (remake,) = [r for r in line.running() if r.startswith("clean:2026-01-09:")]
    out = line.fail(remake)
    assert of_type(out.events, ev.CordRemakeFailed)
    ids.append(cord_id)
    return line, ids


def _body(data: Any) -> str:
    """JSON as the API sends it (starlette's JSONResponse)."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":"))


async def _no_submit(events: Any) -> list[bool]:
    raise AssertionError("a read must not submit")


@pytest.fixture
def answers(make_project: ProjectFactory, tmp_path: Path) -> tuple[dict[str, str], Service]:
    root = make_project(PIPELINES)
    line, ids = cord_log(root)
    store = Store(f"sqlite:///{tmp_path / 'cords.db'}")
    store.append(line.log)
    service = Service(line.graph, store, root)
    app = create_app(WebContext(service, _no_submit, lambda: line.now, lambda _t: None, "test"))
    got: dict[str, str] = {}
    with TestClient(app, base_url="http://127.0.0.1") as client:
        paths = ["/api/v1/cords", "/api/v1/cords?all=1",
                 *(f"/api/v1/cords/{cord_id}" for cord_id in ids), "/api/v1/cords/nope:1"]
        for path in paths:
            response = client.get(path)
            assert response.status_code == (404 if "nope" in path else 200), response.text
            got[path] = response.text
        status = client.get("/api/v1/status").json()
        got["status: cords"] = _body(status["cords"])
        got["status: halted"] = _body(status["halted"])
    return got, service


def test_the_cord_routes_answer_the_golden_json(answers: tuple[dict[str, str], Service]) -> None:
    got, _service = answers
    if os.environ.get("ANDON_WRITE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert list(got) == list(golden)
    for name, text in golden.items():
        assert got[name] == text, name


def test_the_service_answers_the_same_json_as_the_api(
        answers: tuple[dict[str, str], Service]) -> None:
    got, service = answers
    assert _body(service.cords()) == got["/api/v1/cords"]
    assert _body(service.cords(True)) == got["/api/v1/cords?all=1"]
    for cord in service.cords(True):
        assert _body(service.cord(cord["cord_id"])) == got[f"/api/v1/cords/{cord['cord_id']}"]
    status = service.status()
    assert _body(status["cords"]) == got["status: cords"]
    assert _body(status["halted"]) == got["status: halted"]


def test_the_log_holds_a_cord_in_every_state(answers: tuple[dict[str, str], Service]) -> None:
    got, _service = answers
    everything = json.loads(got["/api/v1/cords?all=1"])
    assert sorted({c["status"] for c in everything}) == ["pulled", "recovered", "released",
                                                         "resolving"]
    states = {o["state"] for c in everything
              for o in json.loads(got[f"/api/v1/cords/{c['cord_id']}"])["outputs"]}
    assert states == {"suspect", "quarantined", "deleted", "restored"}
    assert any(c["manual_fix"] for c in everything)
    assert any(c["remake_error"] for c in everything)
    assert json.loads(got["status: halted"])
