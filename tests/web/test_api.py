"""The HTTP API over a real store and a real runner (in-process executor)."""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from starlette.routing import Route

from andon.model.tokens import digest, new_token
from andon.serve.up import Line, _submitter, ensure_local_token
from andon.web.app import create_app
from andon.web.context import WebContext
from andon.web.routes import PERMISSIONS, SESSION
from tests.web.conftest import make_token


def _token(line: Line, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(line, role)}"}


SELF_SERVICE = {"/api/v1/access-requests", "/api/v1/access-requests/{request_id}/approve",
                "/api/v1/access-requests/{request_id}/reject",
                "/api/v1/consumers/{name}/subscribe", "/api/v1/consumers/{name}/unsubscribe"}


def test_every_route_has_a_permission_and_writes_need_operator(line: Line) -> None:
    app = create_app(WebContext(line.service, _submitter(line.runner), line.clock.now,
                                line.store.token_role, "test"))
    routes = [(m, r.path) for r in app.routes if isinstance(r, Route)
              for m in (r.methods or ()) if m != "HEAD"]
    assert routes, "the app exposes routes"
    for method, path in routes:
        assert (method, path) in PERMISSIONS, f"{method} {path} has no entry in PERMISSIONS"
        if (method, path) in (("POST", "/login"), ("POST", "/logout")):
            # sign a browser in or out: they check the token they are given, change no state
            assert PERMISSIONS[(method, path)] == SESSION
        elif method != "GET" and path in SELF_SERVICE:
            # any token asks for access and registers itself; the service decides who may
            # decide a request or register another name (an operator, or one of the owners)
            assert PERMISSIONS[(method, path)] == "viewer", f"{method} {path}"
        elif method != "GET":
            assert PERMISSIONS[(method, path)] in ("operator", "admin"), f"{method} {path}"
    assert SESSION not in {PERMISSIONS[r] for r in routes if r[1] not in ("/login", "/logout")}
    assert set(PERMISSIONS) == set(routes), "PERMISSIONS lists routes the app does not have"


def test_notify_needs_a_token_of_operator_role(client: httpx.Client, line: Line) -> None:
    body = {"asset": "raw", "partition": "2026-01-05"}
    r = client.post("/api/v1/notify", json=body)
    assert r.status_code == 401 and "token" in r.json()["message"]
    r = client.post("/api/v1/notify", json=body, headers={"Authorization": "Bearer andon_nope"})
    assert r.status_code == 401
    r = client.post("/api/v1/notify", json=body, headers=_token(line, "viewer"))
    assert r.status_code == 403 and "operator" in r.json()["message"]
    r = client.post("/api/v1/notify", json=body, headers=_token(line, "operator"))
    assert r.status_code == 201 and r.json()["recorded"] is True


def test_notify_triggers_the_consumer_and_is_idempotent(client: httpx.Client, line: Line) -> None:
    auth = _token(line, "operator")
    raw = line.project.root / "data/raw/2026-01-05.csv"
    raw.parent.mkdir(parents=True)
    raw.write_text("a,b\n1,2\n")
    first = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                        headers=auth)
    again = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                        headers=auth)
    assert first.json()["id"] == again.json()["id"]
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["recorded"] is False
    assert line.runner.drain()
    runs = client.get("/api/v1/runs").json()
    assert [(r["pipeline"], r["partition"], r["status"]) for r in runs] == [
        ("clean", "2026-01-05", "succeeded")]
    assert line.store.count_events("partition.available") == 1
    run = client.get(f"/api/v1/runs/{runs[0]['run_id']}").json()
    assert run["inputs"] == [{"asset": "raw", "partition": "2026-01-05", "version": 1}]
    assert run["outputs"][0]["location"] == "data/clean/2026-01-05"


@pytest.mark.parametrize("body, field", [
    ({"partition": "2026-01-05"}, "asset"),
    ({"asset": "raw"}, "partition"),
    ({"asset": 5, "partition": "2026-01-05"}, "asset"),
])
def test_malformed_bodies_get_422_naming_the_field(client: httpx.Client, line: Line, body: dict,
                                                    field: str) -> None:
    r = client.post("/api/v1/notify", json=body, headers=_token(line, "operator"))
    assert r.status_code == 422
    assert r.json()["where"] == field


def test_bad_json_and_bad_keys(client: httpx.Client, line: Line) -> None:
    auth = _token(line, "operator")
    r = client.post("/api/v1/notify", content=b"{not json",
                    headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 422 and "JSON" in r.json()["message"]
    r = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-13-45"}, headers=auth)
    assert r.status_code == 422 and "2026-01-05" in r.json()["hint"]
    r = client.post("/api/v1/notify", json={"asset": "nope", "partition": "2026-01-05"}, headers=auth)
    assert r.status_code == 404 and "raw" in r.json()["hint"]
    r = client.post("/api/v1/notify", json={"asset": "clean", "partition": "2026-01-05"}, headers=auth)
    assert r.status_code == 409
    r = client.get("/api/v1/runs/nope")
    assert r.status_code == 404
    r = client.get("/api/v1/runs?limit=x")
    assert r.status_code == 422
    # found by the fuzzer: an offset past any database integer is a 422, not a 500
    r = client.get(f"/api/v1/runs?offset={2**70}")
    assert r.status_code == 422 and r.json()["where"] == "offset"
    assert client.get(f"/api/v1/runs/nope/log?offset={2**70}").status_code == 422
    assert client.get(f"/runs?page={2**70}").status_code == 200


def test_revoked_token_fails_on_its_next_request(client: httpx.Client, line: Line) -> None:
    value = new_token()
    line.store.add_token(digest(value), "operator", "t", datetime.now(UTC))
    auth = {"Authorization": f"Bearer {value}"}
    body = {"pipeline": "clean", "partition": "2026-01-05"}
    assert client.post("/api/v1/runs", json=body, headers=auth).status_code == 202
    assert line.store.revoke_token(digest(value), datetime.now(UTC))
    assert client.post("/api/v1/runs", json=body, headers=auth).status_code == 401


def test_backfill_and_cancel_over_the_api(client: httpx.Client, line: Line) -> None:
    auth = _token(line, "operator")
    r = client.post("/api/v1/backfills", json={"pipeline": "clean", "from": "2026-01-03",
                                               "to": "2026-01-01"}, headers=auth)
    assert r.status_code == 422 and "empty" in r.json()["message"]
    r = client.post("/api/v1/backfills", json={"pipeline": "clean", "from": "2026-01-01",
                                               "to": "2026-01-03"}, headers=auth)
    assert r.status_code == 202
    assert r.json()["partitions"] == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert line.runner.drain()
    # inputs are missing, so nothing ran yet: the requests wait for data without holding slots
    assert client.get("/api/v1/runs").json() == []
    r = client.post("/api/v1/runs/nope/cancel", headers=auth)
    assert r.status_code == 404


def test_status_page_escapes_and_sends_csp(client: httpx.Client) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "andon" in r.text and "clean" in r.text
    health = client.get("/api/v1/health").json()
    assert health["ok"] and health["database"]


def test_local_token_file_is_private(line: Line) -> None:
    token = ensure_local_token(line.settings, line.store)
    path = line.settings.state_dir / "token"
    assert token.startswith("andon_") and len(token) > 40
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert line.store.token_role(digest(token)) == "admin"
    assert ensure_local_token(line.settings, line.store) == token
    assert token not in Path(line.settings.state_dir / "andon.db").read_bytes().decode("latin-1")


def test_answers_on_a_kept_alive_connection_do_not_wait_for_a_delayed_ack(
        client: httpx.Client) -> None:
    # the listening socket must say IPPROTO_TCP for asyncio to turn Nagle off on each connection;
    # with Nagle on, every answer after the first on a connection (headers and body are two
    # writes) waited for the client's delayed ACK: 40 ms or more, however small the answer
    client.get("/api/v1/health")
    took = []
    for _ in range(9):
        t0 = time.perf_counter()
        assert client.get("/api/v1/health").status_code == 200
        took.append(time.perf_counter() - t0)
    assert statistics.median(took) < 0.025, [round(t * 1000, 1) for t in took]
