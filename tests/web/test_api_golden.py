"""The API's JSON, byte for byte: every read-only route of ``andon.web.routes.ROUTES`` (and the
query variants the command line sends) is answered over a small, deterministic project and
compared, as text, with a golden file under ``tests/web/golden/`` (key order is part of the
answer). Asked twice: of a running ``andon up`` (its live plan, workers and problems), and of the
same store with no scheduler (the offline answers ``andon ... --json`` prints), where the
command line's LocalClient must answer exactly what the API does.

The project: a source and two pipelines with deadlines, on a fake clock; one partition made
all the way, one whose report fails; a cord pulled on the good partition's clean data (its
report quarantined as a suspect) and another pulled and accepted as fixed; three tokens made
with fixed values, one revoked.

Only values that truly vary between runs are masked (``normalise``): the real seconds a run's
code took (``work_seconds``, ``startup_seconds``: measured by the executor, not on the fake
clock), the temporary project folder in paths, and process ids.

To regenerate the goldens after an intended change of the API's JSON::

    ANDON_UPDATE_GOLDEN=1 .venv/bin/pytest tests/web/test_api_golden.py
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from andon.cli.local import LocalClient
from andon.live.clock import FakeClock
from andon.live.service import Service
from andon.model.tokens import digest
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line
from andon.store.sql import Store
from andon.web.app import create_app
from andon.web.context import WebContext
from andon.web.routes import ROUTES, path_for
from tests.executors.helpers import GUARD, wait_until
from tests.web.conftest import running

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("ANDON_UPDATE_GOLDEN") == "1"

PIPELINES = r'''
import andon

andon.source("raw", location="data/raw/{partition}.csv", expected_arrival="2h", owner="ingest",
             description="raw exports",
             access={"note": "ask ingest", "form": {"type": "object", "required": ["purpose"],
                     "properties": {"purpose": {"type": "string", "maxLength": 200}}}})


@andon.pipeline(inputs=["raw"], outputs=["clean"], deadline="6h", expected_duration="30m",
                owner="data", description="cleans the export", models=["dedup"])
def clean(ctx):
    ctx.log_metric("duplicates", 0.25 if ctx.partition.endswith("4") else 0.5)
    ctx.log_params(mode="strict", window=7)
    ctx.output("clean").write_text("ok\n")


@andon.pipeline(inputs=["clean"], outputs=["report"], bad_outputs="quarantine",
                locations={"report": "out/report/{partition}.csv"}, deadline="8h",
                expected_duration="10m", owner="bi")
def report(ctx):
    if ctx.partition == "2026-01-04":
        raise ValueError("the report of the 4th is broken")
    ctx.output("report").write_text("ok\n")


andon.profile("report", columns=["ok"])
'''

START = datetime(2026, 1, 6, 1, 0, tzinfo=UTC)
GOOD, BAD = "2026-01-05", "2026-01-04"
# token values fixed (never a real secret): their ids and listings are the same every run
TOKENS = (("andon_golden_admin_000000000000000000000000", "admin", "lead"),
          ("andon_golden_operator_0000000000000000000000", "operator", "ci"),
          ("andon_golden_viewer_00000000000000000000000", "viewer", "old"))

# (golden name, route name, path parameters, query)
CALLS: tuple[tuple[str, str, dict[str, str], dict[str, str]], ...] = (
    ("health", "health", {}, {}),
    ("status", "status", {}, {}),
    ("runs", "list_runs", {}, {}),
    ("runs_pipeline", "list_runs", {}, {"pipeline": "report"}),
    ("runs_failed", "list_runs", {}, {"status": "failed"}),
    ("runs_partition", "list_runs", {}, {"partition": GOOD}),
    ("runs_cli", "list_runs", {}, {"pipeline": "clean", "status": "succeeded",
                                   "partition": GOOD, "limit": "50"}),
    ("runs_page", "list_runs", {}, {"limit": "2", "offset": "1"}),
    ("run_good", "get_run", {"run_id": f"report:{GOOD}:1"}, {}),
    ("run_failed", "get_run", {"run_id": f"report:{BAD}:1"}, {}),
    ("run_log", "run_log", {"run_id": f"clean:{GOOD}:1"}, {}),
    ("partitions", "partitions", {}, {}),
    ("partitions_clean", "partitions", {}, {"asset": "clean"}),
    ("plan", "plan", {}, {}),
    ("cords", "list_cords", {}, {}),
    ("cords_all", "list_cords", {}, {"all": "1"}),
    ("cord_open", "get_cord", {"cord_id": f"clean:{GOOD}:1"}, {}),
    ("cord_released", "get_cord", {"cord_id": f"raw:{BAD}:1"}, {}),
    ("tokens", "list_tokens", {}, {}),
    ("search", "search", {}, {"q": "clean"}),
    ("access_requests", "list_access_requests", {}, {}),
    ("access_requests_raw", "list_access_requests", {}, {"asset": "raw", "status": "requested"}),
    ("access_request", "get_access_request", {"request_id": "raw:1"}, {}),
    ("consumers", "list_consumers", {}, {}),
    ("catalog_dataset", "catalog_entry", {"kind": "dataset", "name": "clean"}, {}),
    ("catalog_pipeline", "catalog_entry", {"kind": "pipeline", "name": "report"}, {}),
    ("catalog", "catalog", {}, {}),
    ("catalog_page", "catalog", {}, {"kind": "dataset", "limit": "1", "offset": "1"}),
    ("manual", "list_manual", {}, {}),
    ("manual_failures", "list_manual", {}, {"kind": "failure", "since": "2026-01-01"}),
    ("manual_entry", "get_manual_entry", {"entry_id": "5c963778d801"}, {}),
    ("manual_review", "manual_review", {}, {"days": "7"}),
    ("models", "list_models", {}, {}),
    ("model", "get_model", {"name": "dedup"}, {}),
    ("catalog_model", "catalog_entry", {"kind": "model", "name": "dedup"}, {}),
    ("drift", "get_drift", {"asset": "report"}, {}),
    ("deprecations", "list_deprecations", {}, {}),
    ("sweep", "sweep_plan", {}, {}),
    ("audit", "audit", {}, {}),
    ("audit_since", "audit", {}, {"since": "2026-01-01"}),
)
STREAMS = {"run_log_stream", "events_stream", "openapi"}  # not JSON answers to compare


def normalise(data: Any, root: str) -> Any:
    """``data`` with what varies between runs masked: real durations measured by the executor,
    the temporary project folder in strings, process ids."""
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            if key in ("work_seconds", "startup_seconds", "reactive_share",
                       "compute_share") and value is not None:
                value = "<seconds>"
            elif key == "pid" and value is not None:
                value = "<pid>"
            out[key] = normalise(value, root)
        return out
    if isinstance(data, list):
        return [normalise(v, root) for v in data]
    if isinstance(data, str):
        return data.replace(root, "<ROOT>")
    return data


def text_of(answer: str, root: str) -> str:
    """An answer as compared: JSON keeps its key order; pretty-printed for readable diffs."""
    try:
        data = json.loads(answer)
    except ValueError:
        return answer.replace(root, "<ROOT>")
    return json.dumps(normalise(data, root), indent=2, ensure_ascii=False) + "\n"


def check(name: str, text: str) -> None:
    """``text`` is the golden ``name`` (``.json``, or ``.txt`` for an answer that is not JSON);
    with ANDON_UPDATE_GOLDEN=1 it becomes it."""
    path = GOLDEN / f"{name}.json"
    if not text.startswith(("{", "[")):
        path = path.with_suffix(".txt")
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden {path.name}: run with ANDON_UPDATE_GOLDEN=1 once"
    assert text == path.read_text(), f"the answer of {name} changed"


def test_every_read_only_api_route_is_covered() -> None:
    called = {route for _, route, _, _ in CALLS}
    reads = {r.name for r in ROUTES if r.is_api and r.method == "GET"}
    assert reads - STREAMS == called


def _wait(line: Line, what: str, done: Callable[[], bool]) -> None:
    """Until ``done()`` holds and the scheduler has nothing left to do."""
    wait_until(lambda: done() and not [r for r in line.store.runs(limit=1000)
                                       if r["status"] in ("queued", "running")], what)


def _post(c: httpx.Client, path: str, body: dict[str, Any], auth: dict[str, str]) -> None:
    r = c.post(path, json=body, headers=auth)
    assert r.status_code < 300, r.text


@pytest.fixture
def project(make_project) -> Iterator[Path]:  # type: ignore[no-untyped-def]
    root = make_project(PIPELINES, start=BAD)
    for day in (BAD, GOOD):
        raw = root / "data/raw" / f"{day}.csv"
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(f"export of {day}\n")
    (root / "catalog.toml").write_text('[[entries]]\nkind = "model"\nname = "dedup"\n'
                                       'owner = "data"\n')
    yield root


def _build(line: Line, clock: FakeClock) -> None:
    """Drive the running server to the state the goldens show, one settled step at a time."""
    store = line.store
    for value, role, name in TOKENS:
        store.add_token(digest(value), role, name, START - timedelta(days=1))
    store.revoke_token(digest(TOKENS[2][0]), START - timedelta(hours=12))
    op = {"Authorization": f"Bearer {TOKENS[1][0]}"}
    with httpx.Client(base_url=line.url, timeout=GUARD) as c:
        _post(c, "/api/v1/notify", {"asset": "raw", "partition": BAD}, op)
        _wait(line, "the runs of the 4th", lambda: len(store.runs()) == 2)
        clock.advance(timedelta(minutes=5))
        _post(c, "/api/v1/notify", {"asset": "raw", "partition": GOOD}, op)
        _wait(line, "the runs of the 5th", lambda: len(store.runs()) == 4)
        clock.advance(timedelta(minutes=5))
        _post(c, "/api/v1/cords", {"asset": "raw", "partition": BAD,
                                   "reason": "short export"}, op)
        _wait(line, "the cord on raw", lambda: len(store.cords()) == 1)
        clock.advance(timedelta(minutes=5))
        _post(c, f"/api/v1/cords/raw:{BAD}:1/resolve", {"note": "checked by hand",
                                                        "manual_fix": True}, op)
        _wait(line, "the release", lambda: not store.cords(status=("pulled",)))
        clock.advance(timedelta(minutes=5))
        _post(c, "/api/v1/cords", {"asset": "clean", "partition": GOOD,
                                   "reason": "duplicated rows"}, op)
        _wait(line, "the quarantine", lambda: any(
            o["state"] == "quarantined" for o in store.cord_outputs(f"clean:{GOOD}:1")))
        clock.advance(timedelta(minutes=5))
        for body in ({"asset": "raw", "reason": "audit", "until": "2026-02-01",
                      "answers": {"purpose": "the yearly audit"}},
                     {"asset": "raw", "reason": "a study", "answers": {"purpose": "churn"},
                      "contact": "bi@example.com"}):
            _post(c, "/api/v1/access-requests", body, op)
        _post(c, "/api/v1/access-requests/raw:1/approve", {"note": "for a month"},
              {"Authorization": f"Bearer {TOKENS[0][0]}"})
        _wait(line, "the consumer", lambda: bool(line.service.access.consumers()))
        clock.advance(timedelta(minutes=5))
        _post(c, "/api/v1/models/dedup/promote", {"version": 3, "reason": "re-made"}, op)
        _post(c, "/api/v1/models/dedup/promote", {"version": 1}, op)
        _post(c, "/api/v1/models/dedup/rollback", {"reason": "the first was worse"}, op)
        _post(c, "/api/v1/deprecations", {"name": "report", "delete_after": "2026-03-01",
                                          "reason": "nobody reads it", "kind": "pipeline"}, op)
        _wait(line, "a settled scheduler", lambda: True)
    # and every event submitted so far handled and committed, whatever the load: the status
    # counts the log's events
    assert line.runner.quiet(GUARD), "the scheduler never settled"


def _answers(client: httpx.Client | TestClient, root: str) -> dict[str, str]:
    """Every call of CALLS answered by ``client``, as compared."""
    out = {}
    for name, route, params, query in CALLS:
        r = client.get(path_for(route, **params), params=query)
        assert r.status_code == 200, (name, r.status_code, r.text)
        out[name] = text_of(r.text, root)
    return out


def test_the_api_answers_as_the_goldens_say(project: Path) -> None:
    clock = FakeClock(START)
    root = str(project)
    admin = {"Authorization": f"Bearer {TOKENS[0][0]}"}
    with running(project, clock=clock) as line:
        _build(line, clock)
        with httpx.Client(base_url=line.url, timeout=GUARD, headers=admin) as c:
            live = _answers(c, root)
    for name, text in live.items():
        check(f"live_{name}", text)

    # the same store with no scheduler: what the API and `andon ... --json` answer offline
    project_ = load_project(project)
    settings = resolve(project, {"executor": "inprocess"}, {}, project_.settings_table)
    store = Store(settings.database_url)
    try:
        service = Service(project_.graph, store, project)

        async def submit(_events: Any) -> list[bool]:
            raise AssertionError("a read-only route submitted events")

        app = create_app(WebContext(service, submit, clock.now, store.token_role,
                                    project="test", alive=lambda: False))
        with TestClient(app, base_url="http://127.0.0.1", headers=admin) as tc:
            offline = _answers(tc, root)
        for name, text in offline.items():
            check(f"offline_{name}", text)
        local = LocalClient(project_, settings)
        try:
            cli = {"status": local.status(), "runs_cli": local.runs("clean", "succeeded", GOOD,
                                                                      50),
                   "cords": local.cords(False), "cords_all": local.cords(True),
                   "cord_open": local.cord(f"clean:{GOOD}:1"), "tokens": local.tokens(),
                   "search": local.search("clean", None, None, 20),
                   "access_requests": local.access_requests(None, None),
                   "access_requests_raw": local.access_requests("raw", "requested"),
                   "access_request": local.access_request_of("raw:1"),
                   "manual": local.manual(None, None),
                   "manual_failures": local.manual("failure", "2026-01-01"),
                   "manual_entry": local.manual_entry("5c963778d801"),
                   "drift": local.drift("report", None, None)}
        finally:
            local.service.store.close()
        for name, data in cli.items():
            assert text_of(json.dumps(data), root) == offline[name], name
    finally:
        store.close()
