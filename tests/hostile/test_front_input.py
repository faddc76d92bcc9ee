"""Hostile requests to the board's front door over a real `andon up`: the results fragment and the
search page with a 10 KB query or odd characters, the browse page with a huge or nonsense page
and over-long filters, and the catalog's JSON with bad limits, offsets, kinds, owners and tags.
Each is refused naming the field (or answered harmlessly), markup is never echoed unescaped, and
the server answers the next request as before."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.cli.test_search import CATALOG
from tests.conftest import ProjectFactory
from tests.web.conftest import PIPELINES, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
ODD = ['"churn', "churn*", "NEAR(a b)", "a AND OR NOT", "^churn", "col:churn", "\x01\x7f",
       "%00", "\u202ecustomers", "🦆", "ｃｈｕｒｎ", "' or 1=1 --", "<script>alert(1)</script>",
       "x" * 1000]


@pytest.fixture
def board(make_project: ProjectFactory) -> Iterator[httpx.Client]:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=GUARD) as client:
        yield client


def _still_answers(client: httpx.Client) -> None:
    r = client.get("/search/results", params={"q": "churn"})
    assert r.status_code == 200 and 'data-name="churn"' in r.text


def test_a_10kb_query_is_refused_naming_the_field(board: httpx.Client) -> None:
    q = "x" * 10_240
    fragment = board.get("/search/results", params={"q": q})
    assert fragment.status_code == 422 and 'data-field="q"' in fragment.text
    assert "<html" not in fragment.text and q not in fragment.text
    page = board.get("/search", params={"q": q})
    assert page.status_code == 422 and "field &#39;q&#39;" in page.text
    _still_answers(board)


@pytest.mark.parametrize("q", ODD)
def test_odd_queries_are_searched_as_words_and_escaped(board: httpx.Client, q: str) -> None:
    for path in ("/search/results", "/search"):
        r = board.get(path, params={"q": q})
        assert r.status_code == 200, (path, r.text[:300])
        assert "<script>alert" not in r.text
    _still_answers(board)


@pytest.mark.parametrize("page", ["-5", "0", "abc", "1e9", str(10**30), "99999999999"])
def test_a_huge_or_nonsense_page_is_an_empty_page_or_the_first(board: httpx.Client,
                                                                page: str) -> None:
    r = board.get("/catalog", params={"page": page, "kind": "model"})
    assert r.status_code == 200
    assert ('data-name="churn"' in r.text) == (page in ("-5", "0", "abc", "1e9"))
    assert "on this page" in r.text or 'data-name="churn"' in r.text
    _still_answers(board)


@pytest.mark.parametrize(("params", "field"), [
    ({"kind": "modle"}, "kind"),
    ({"kind": "x" * 10_240}, "kind"),
    ({"owner": "o" * 10_240}, "owner"),
    ({"tag": "t" * 10_240}, "tag"),
])
def test_bad_browse_filters_are_a_422_naming_the_field(board: httpx.Client,
                                                       params: dict[str, str],
                                                       field: str) -> None:
    page = board.get("/catalog", params=params)
    assert page.status_code == 422 and f"field &#39;{field}&#39;" in page.text
    api = board.get("/api/v1/catalog", params=params)
    assert api.status_code == 422 and api.json()["field"] == field
    assert len(api.text) < 2000, "the refusal does not echo the input"


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": "-1"}, "limit"),
    ({"limit": "0"}, "limit"),
    ({"limit": "1001"}, "limit"),
    ({"limit": str(10**30)}, "limit"),
    ({"limit": "ten"}, "limit"),
    ({"limit": "--5"}, "limit"),
    ({"limit": "٣"}, "limit"),
    ({"offset": "-1"}, "offset"),
    ({"offset": "10000001"}, "offset"),
    ({"offset": str(10**30)}, "offset"),
    ({"offset": "1.5"}, "offset"),
])
def test_bad_limits_and_offsets_are_a_422_naming_the_field(board: httpx.Client,
                                                           params: dict[str, str],
                                                           field: str) -> None:
    r = board.get("/api/v1/catalog", params=params)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    ok = board.get("/api/v1/catalog", params={"offset": "10000000", "limit": "1000"})
    assert ok.status_code == 200 and ok.json()["entries"] == [] and ok.json()["total"] == 5
