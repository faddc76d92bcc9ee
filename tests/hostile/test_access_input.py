"""Hostile input to access requests over HTTP: every refusal a 4xx naming what is wrong, never a
500, never a second decision. A real server (tests/web/conftest.py), real tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
import pytest

from andon.serve.up import Line
from tests.conftest import ProjectFactory
from tests.web.conftest import auth_header, running

PIPELINES = """
import andon

andon.source("raw", owner="owner-bot", location="data/raw/{partition}.csv",
             access={"form": {"type": "object", "required": ["purpose"],
                              "properties": {"purpose": {"type": "string", "maxLength": 100},
                                             "team": {"type": "string", "enum": ["bi", "ml"]},
                                             "start": {"type": "string", "format": "date"}}}})
andon.source("other", owner="someone-else", access={"note": "ask"})
"""


@pytest.fixture
def served(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    with running(make_project(PIPELINES)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        yield line, client


def _day(days: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=days)).isoformat()


def _ask(client: httpx.Client, headers: dict[str, str], **body: object) -> httpx.Response:
    return client.post("/api/v1/access-requests", headers=headers,
                       json={"asset": "raw", "reason": "r", "answers": {"purpose": "p"}, **body})


def test_bad_requests_are_422_naming_the_field(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    viewer = auth_header(line, "viewer")
    cases = [({"reason": "x" * 2001}, "reason"), ({"reason": "  "}, "reason"),
             ({"answers": {"purpose": "x" * 101}}, "answers.purpose"),
             ({"answers": {"purpose": "p", "team": "hr"}}, "answers.team"),
             ({"answers": {"purpose": "p", "start": "2026-02-30"}}, "answers.start"),
             ({"answers": {"purpose": "p", "admin": True}}, "answers.admin"),
             ({"answers": {"purpose": ["xxxx"] * 3000}}, "answers"),
             ({"answers": "purpose=p"}, "answers"), ({"answers": {}}, "answers.purpose"),
             ({"until": "yesterday"}, "until"), ({"until": _day(0)}, "until"),
             ({"until": _day(-3)}, "until"), ({"until": _day(400)}, "until"),
             ({"until": "2026-13-01"}, "until"), ({"until": 20260301}, "until"),
             ({"requester": "someone-else"}, "requester"), ({"id": "access:raw:9"}, "id"),
             ({"contact": "a b"}, "contact"), ({"contact": "x" * 201}, "contact")]
    for body, field in cases:
        answer = _ask(client, viewer, **body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    assert client.get("/api/v1/access-requests").json() == []  # nothing was recorded


def test_unknown_ids_and_data_sets(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    op = auth_header(line, "operator")
    unknown = _ask(client, op, asset="rwa")
    assert unknown.status_code == 404 and "did you mean 'raw'" in unknown.json()["hint"]
    closed = _ask(client, op, asset="other", answers={})
    assert closed.status_code == 201  # a note-only declaration takes requests with no answers
    for request_id in ("client:raw:1", "raw:1/../other:1", "raw:0", "raw:1\x00", "x" * 5000,
                       "access:raw:1", "access-decided:raw:1"):
        for verb in ("approve", "reject"):
            answer = client.post(f"/api/v1/access-requests/{quote(request_id, safe='')}/{verb}",
                                 headers=op,
                                 json={"reason": "no"} if verb == "reject" else {})
            assert answer.status_code in (404, 422), (request_id, answer.text)
    assert client.get("/api/v1/access-requests/raw:1").status_code == 404
    assert client.get("/api/v1/access-requests", params={"status": "open"}).status_code == 422


def test_decisions_once_and_only_by_those_allowed(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    viewer = auth_header(line, "viewer")
    asked = _ask(client, viewer)
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["request_id"]
    assert request_id == "raw:1" and asked.json()["requester"] == "viewer"
    url = f"/api/v1/access-requests/{request_id}"
    assert client.post(url + "/approve", json={}).status_code == 401
    assert client.post(url + "/approve", headers=viewer, json={}).status_code == 403
    other_owner = {"Authorization": "Bearer " + _named(line, "someone-else")}
    assert client.post(url + "/approve", headers=other_owner, json={}).status_code == 403
    owner = {"Authorization": "Bearer " + _named(line, "owner-bot")}
    assert client.post(url + "/approve", headers=owner, json={"note": "x" * 2001}
                       ).status_code == 422
    assert client.post(url + "/approve", headers=owner, json={"note": "ok", "until": "2099-01-01"}
                       ).status_code == 422  # no other field
    approved = client.post(url + "/approve", headers=owner, json={"note": "ok"})
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    op = auth_header(line, "operator")
    for verb, body in (("approve", {}), ("reject", {"reason": "late"})):
        again = client.post(f"{url}/{verb}", headers=op, json=body)
        assert again.status_code == 409 and "was approved already" in again.json()["message"]
    assert line.runner.drain()
    consumers = client.get(url).json()["consumers"]
    assert [c["consumer"] for c in consumers] == ["viewer"]
    # a viewer registers itself, not someone else
    sub = client.post("/api/v1/consumers/other/subscribe", headers=viewer,
                      json={"consumer": "someone"})
    assert sub.status_code == 403
    assert client.post("/api/v1/consumers/other/subscribe", headers=viewer,
                       json={"until": _day(3)}).status_code == 201
    assert client.post("/api/v1/consumers/nope/subscribe", headers=viewer, json={}
                       ).status_code == 404


def _named(line: Line, name: str) -> str:
    """A viewer token labelled ``name``."""
    from andon.model.tokens import digest, new_token

    value = new_token()
    line.store.add_token(digest(value), "viewer", name, datetime.now(UTC))
    return value

