"""Token management over the HTTP API (admin only), on a real server."""

from __future__ import annotations

import logging

import httpx
import pytest

from andon.model.tokens import digest
from andon.serve.up import Line
from tests.web.conftest import make_token

ROUTES = [("GET", "/api/v1/tokens", None),
          ("POST", "/api/v1/tokens", {"role": "viewer", "name": "x"}),
          ("POST", "/api/v1/tokens/0123456789ab/revoke", None)]


def _auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_token_routes_need_the_admin_role(client: httpx.Client, line: Line, method: str,
                                          path: str, body: dict[str, str] | None) -> None:
    r = client.request(method, path, json=body)
    assert r.status_code == 401 and "token" in r.json()["message"]
    for role in ("viewer", "operator"):
        r = client.request(method, path, json=body, headers=_auth(make_token(line, role)))
        assert r.status_code == 403, (role, r.text)
        assert "admin" in r.json()["message"]
    assert [t["name"] for t in line.service.tokens()] == ["viewer", "operator"]  # none made
    assert all(t["revoked_at"] is None for t in line.service.tokens())


def test_admin_creates_a_viewer_token_then_revokes_it(client: httpx.Client, line: Line,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    admin = _auth(make_token(line, "admin"))
    r = client.post("/api/v1/tokens", json={"role": "viewer", "name": "dashboards"}, headers=admin)
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    made = r.json()
    value = made["token"]
    # the CLI's format: the recognisable prefix and 256 random bits (43 url-safe characters)
    assert value.startswith("andon_") and len(value) == len("andon_") + 43
    assert made["role"] == "viewer" and made["name"] == "dashboards"
    assert made["id"] == digest(value)[:12] and made["revoked_at"] is None
    assert line.store.token_role(digest(value)) == "viewer"  # stored by its SHA-256
    viewer = _auth(value)
    # the new token is known: it reads, and is refused (not unknown) for what needs more
    assert client.get("/api/v1/status", headers=viewer).status_code == 200
    r = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                    headers=viewer)
    assert r.status_code == 403 and "operator" in r.json()["message"]
    assert client.get("/api/v1/tokens", headers=viewer).status_code == 403

    r = client.post(f"/api/v1/tokens/{made['id']}/revoke", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == made["id"] and r.json()["revoked_at"]
    assert "token" not in r.json()
    # its very next request fails
    r = client.get("/api/v1/tokens", headers=viewer)
    assert r.status_code == 401 and "revoked" in r.json()["message"]
    assert client.post("/api/v1/notify", json={}, headers=viewer).status_code == 401
    # revoking twice is a conflict; an unknown id is not found; the admin token still works
    r = client.post(f"/api/v1/tokens/{made['id']}/revoke", headers=admin)
    assert r.status_code == 409 and "already revoked" in r.json()["message"]
    assert client.post("/api/v1/tokens/0123456789ab/revoke", headers=admin).status_code == 404
    assert client.post("/api/v1/tokens/nope/revoke", headers=admin).status_code == 404
    # the token itself in the URL is refused: URLs end up in logs
    other = client.post("/api/v1/tokens", json={"role": "operator"}, headers=admin).json()
    r = client.post(f"/api/v1/tokens/{other['token']}/revoke", headers=admin)
    assert r.status_code == 422 and r.json()["field"] == "token_id"
    assert line.store.token_role(digest(other["token"])) == "operator"  # not revoked
    assert other["name"] == ""
    # the server logs no token (the test's own client logs the URL it was given above)
    logged = "\n".join(r.getMessage() for r in caplog.records
                       if not r.name.startswith(("httpx", "httpcore")))
    assert value not in logged and other["token"] not in logged


def test_an_admin_may_revoke_its_own_token(client: httpx.Client, line: Line) -> None:
    value = make_token(line, "admin")
    own = digest(value)[:12]
    assert client.post(f"/api/v1/tokens/{own}/revoke", headers=_auth(value)).status_code == 200
    assert client.get("/api/v1/tokens", headers=_auth(value)).status_code == 401


def test_the_list_shows_no_secret(client: httpx.Client, line: Line) -> None:
    admin_value = make_token(line, "admin")
    admin = _auth(admin_value)
    made = [client.post("/api/v1/tokens", json={"role": role, "name": f"bot-{role}"},
                        headers=admin).json() for role in ("viewer", "operator", "admin")]
    client.post(f"/api/v1/tokens/{made[0]['id']}/revoke", headers=admin)
    r = client.get("/api/v1/tokens", headers=admin)
    assert r.status_code == 200
    listed = r.json()
    assert [(t["name"], t["role"]) for t in listed] == [
        ("admin", "admin"), ("bot-viewer", "viewer"), ("bot-operator", "operator"),
        ("bot-admin", "admin")]
    assert {tuple(sorted(t)) for t in listed} == {("created_at", "id", "name", "revoked_at",
                                                   "role")}
    assert [t["revoked_at"] is not None for t in listed] == [False, True, False, False]
    assert [t["id"] for t in listed[1:]] == [m["id"] for m in made]
    for value in [admin_value, *(m["token"] for m in made)]:
        assert value not in r.text and digest(value) not in r.text
    assert "andon_" not in r.text


@pytest.mark.parametrize(("body", "field", "says"), [
    ({"role": "superuser"}, "role", "one of viewer, operator, admin"),
    ({"role": "Admin"}, "role", "one of viewer, operator, admin"),
    ({}, "role", "required"),
    ({"role": 3}, "role", "must be a str"),
    ({"role": "viewer", "name": 5}, "name", "must be a str"),
    ({"role": "viewer", "name": "x" * 101}, "name", "at most 100"),
    ({"role": "viewer", "name": "a\nb"}, "name", "control"),
])
def test_bad_bodies_get_422_naming_the_field(client: httpx.Client, line: Line, body: dict,
                                             field: str, says: str) -> None:
    r = client.post("/api/v1/tokens", json=body, headers=_auth(make_token(line, "admin")))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field and says in r.json()["message"]
    assert len(line.service.tokens()) == 1  # only the admin's own
