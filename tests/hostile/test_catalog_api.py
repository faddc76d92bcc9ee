"""Hostile declarations of catalog entries over a real `andon up`: every one is refused with
the field named (or 413 / 404 / 409), nothing refused is recorded, and the server answers the
next search as before."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ProjectFactory
from tests.web.conftest import PIPELINES, auth_header, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
GOOD = {"kind": "model", "name": "churn", "owner": "ml@example.com"}


@pytest.fixture
def api(make_project: ProjectFactory) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with running(make_project(PIPELINES)) as line, \
            httpx.Client(base_url=line.url, timeout=GUARD) as client:
        yield client, auth_header(line)


@pytest.mark.parametrize(("body", "field"), [
    ({**GOOD, "name": "x" * 10_000}, "name"),
    ({**GOOD, "name": 42}, "name"),
    ({**GOOD, "name": None, "owner": "o"}, "name"),
    ({**GOOD, "name": "../../etc/passwd"}, "name"),
    ({**GOOD, "name": "churn\u202e"}, "name"),
    ({**GOOD, "kind": ["model"]}, "kind"),
    ({**GOOD, "owner": True}, "owner"),
    ({**GOOD, "description": "x" * 10_001}, "description"),
    ({**GOOD, "tags": ["x"] * 10_000}, "tags"),
    ({**GOOD, "tags": [{"a": 1}]}, "tags"),
    ({**GOOD, "tags": ["a\u0000b"]}, "tags"),
    ({**GOOD, "links": {f"l{i}": "https://x" for i in range(1000)}}, "links"),
    ({**GOOD, "links": {"docs": ["https://x"]}}, "links"),
    ({**GOOD, "lifecycle": {"state": "deprecated", "date": "2027-02-30"}}, "lifecycle"),
    ({**GOOD, "lifecycle": {"state": "beta", "when": "2027-01-01"}}, "lifecycle"),
    ({**GOOD, "lifecycle": 1}, "lifecycle"),
    ({**GOOD, "access": {"link": 1}}, "access"),
    ({**GOOD, "": "x"}, ""),
])
def test_a_bad_entry_is_refused_naming_the_field(api: tuple[httpx.Client, dict[str, str]],
                                                 body: dict[str, object], field: str) -> None:
    client, headers = api
    answer = client.post("/api/v1/catalog/entries", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert answer.json().get("field", "") == field or answer.json()["where"] == field
    assert client.get("/api/v1/search", params={"q": "churn"}).json()["results"] == []


def test_bodies_past_the_servers_limits(api: tuple[httpx.Client, dict[str, str]]) -> None:
    client, headers = api
    big = client.post("/api/v1/catalog/entries", headers=headers,
                      content=b'{"kind": "model", "description": "' + b"x" * 2_000_000 + b'"}')
    assert big.status_code == 413
    deep = client.post("/api/v1/catalog/entries", headers=headers,
                       content=b'{"links": ' + b"[" * 100 + b"]" * 100 + b"}")
    assert deep.status_code == 422
    for raw in (b"", b"nul", b'{"kind": "model"', b'"model"', b"[]"):
        answer = client.post("/api/v1/catalog/entries", headers=headers, content=raw)
        assert answer.status_code == 422, (raw, answer.text)
    ok = client.post("/api/v1/catalog/entries", json=GOOD, headers=headers)
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(("kind", "name", "status"), [
    ("model", "x" * 5000, 404),
    # the client resolves the dots: .../entries/remove is the GET of an entry's JSON
    ("model", "..", 405),
    ("model", "churn%00", 404),
    ("modle", "churn", 422),
    ("pipeline", "clean", 422),
    ("dataset", "raw", 409),
])
def test_removing_what_cannot_be_removed(api: tuple[httpx.Client, dict[str, str]], kind: str,
                                         name: str, status: int) -> None:
    client, headers = api
    answer = client.post(f"/api/v1/catalog/entries/{kind}/{name}/remove", headers=headers)
    assert answer.status_code == status, answer.text
    assert len(answer.text) < 2000  # a huge name is not echoed back whole
