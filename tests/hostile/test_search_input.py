"""Hostile search requests over a real `andon up`: an empty or 10 KB query, an unknown kind, a
negative, huge or non-numeric limit are each a 422 naming the field, and the server answers the
next search as before; FTS5 syntax, control characters and odd Unicode are searched as words."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.cli.test_search import CATALOG
from tests.conftest import ProjectFactory
from tests.web.conftest import PIPELINES, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed


@pytest.fixture
def api(make_project: ProjectFactory) -> Iterator[httpx.Client]:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=GUARD) as client:
        yield client


@pytest.mark.parametrize(("params", "field"), [
    ({}, "q"),
    ({"q": ""}, "q"),
    ({"q": "   "}, "q"),
    ({"q": "x" * 10_240}, "q"),
    ({"q": "churn", "kind": "modle"}, "kind"),
    ({"q": "churn", "kind": "pipeline'; drop table entry; --"}, "kind"),
    ({"q": "churn", "limit": "-1"}, "limit"),
    ({"q": "churn", "limit": "0"}, "limit"),
    ({"q": "churn", "limit": str(10**30)}, "limit"),
    ({"q": "churn", "limit": "1001"}, "limit"),
    ({"q": "churn", "limit": "ten"}, "limit"),
    ({"q": "churn", "limit": "1e3"}, "limit"),
    ({"q": "churn", "limit": "٣"}, "limit"),  # a digit, but not an ASCII one
    ({"q": "churn", "owner": ""}, "owner"),
    ({"q": "churn", "owner": "o" * 10_240}, "owner"),
])
def test_bad_search_input_is_a_422_naming_the_field(api: httpx.Client, params: dict[str, str],
                                                    field: str) -> None:
    resp = api.get("/api/v1/search", params=params)
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["field"] == field
    assert body["hint"]
    assert api.get("/api/v1/search", params={"q": "churn"}).json()["results"][0]["name"] == \
        "churn"


@pytest.mark.parametrize("query", ['"', "churn OR", "NOT churn", "churn*", "a:b", "(", "\x00",
                                   "ab\x00cd", "\x00\x00\x00",  # FTS5 took a NUL for a string's end
                                   "\u202e", "%", "_", "chu\nrn", "🙂" * 200])
def test_odd_queries_are_words_not_syntax(api: httpx.Client, query: str) -> None:
    resp = api.get("/api/v1/search", params={"q": query})
    assert resp.status_code == 200, resp.text
    assert set(resp.json()) >= {"results", "suggestion"}


def test_the_search_answers_ranked_json(api: httpx.Client) -> None:
    body = api.get("/api/v1/search", params={"q": "clean"}).json()
    assert [(r["kind"], r["name"]) for r in body["results"][:2]] == \
        [("dataset", "clean"), ("pipeline", "clean")]
    assert body["results"][0]["url"] == "/assets/clean"
    typo = api.get("/api/v1/search", params={"q": "chrun", "kind": "model"}).json()
    assert typo["suggestion"] == "churn"
    assert api.get("/api/v1/search", params={"q": "churn", "kind": "dataset"}).json() == \
        {"results": [], "suggestion": None}
