"""The registry as the board's front door, over a real server: the top page's search box, facets
and "changed recently", the results fragment it fetches as one types, the search page, and the
catalog's browse page and JSON (the browser test is in test_browser.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from andon.web.app import CSP
from tests.conftest import ProjectFactory
from tests.web.conftest import PIPELINES, auth_header, running

CATALOG = """\
[[entries]]
kind = "model"
name = "churn"
owner = "ml@example.com"
description = "who is about to leave"
tags = ["customers", "ml"]

[[entries]]
kind = "model"
name = "churn_v1"
owner = "ML@example.com"
description = "the old churn model"
tags = ["customers"]
lifecycle = { state = "deprecated", date = 2026-03-01 }

[[entries]]
kind = "service"
name = "checkout"
owner = "web@example.com"
description = "takes the orders of customers"
tags = ["customers"]

[[entries]]
kind = "library"
name = "cleaner"
owner = "data@example.com"
description = "shared cleaning <b>helpers</b>"
"""


@pytest.fixture
def front(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=10) as client:
        yield line, client


def _land(line: Line, client: httpx.Client, key: str) -> None:
    path = line.project.root / f"data/raw/{key}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"a\n{key}\n")
    r = client.post("/api/v1/notify", json={"asset": "raw", "partition": key},
                    headers=auth_header(line))
    assert r.status_code == 201, r.text
    assert line.runner.drain()


def _names(html: str) -> list[str]:
    return re.findall(r'<li class="entry" data-kind="\w+" data-name="(\w+)">', html)


def test_the_top_page_has_the_search_the_facets_and_what_changed(
        front: tuple[Line, httpx.Client]) -> None:
    line, client = front
    page = client.get("/").text
    assert 'data-suggest="/search/results"' in page and 'action="/search"' in page
    assert '<a href="/catalog?kind=model" ><b>2</b> models</a>' in page
    assert '<b>1</b> pipeline<' in page and '<b>1</b> library<' in page
    assert 'href="/catalog?owner=ml%40example.com"' in page, "one owner in any case"
    assert re.search(r'href="/catalog\?tag=customers"[^>]*>#customers <span class="n">3', page)
    assert 'id="lines"' in page and 'id="attention"' in page, "the board is still there"
    assert '<a class="name" href="/catalog">catalog.toml</a> <span>4 entries declared' in page

    _land(line, client, "2026-01-01")
    changes = client.get("/").text.split('id="changes"')[1].split("</section>")[0]
    assert ('<a class="name" href="/catalog/pipeline/clean">clean</a> <a href="/runs/clean%3A2026-01-01%3A1">'
            'ran 2026-01-01</a> <span class="pill st-succeeded">') in changes
    assert ('<a class="name" href="/assets/clean">clean</a> <a href="/runs/clean%3A2026-01-01%3A1">'
            'partition 2026-01-01 made by clean</a>') in changes
    assert '<a class="name" href="/assets/raw">raw</a> <span>partition 2026-01-01 arrived' \
        in changes

    declared = client.post("/api/v1/catalog/entries", headers=auth_header(line), json={
        "kind": "service", "name": "billing", "owner": "pay@example.com"})
    assert declared.status_code == 201, declared.text
    changes = client.get("/").text.split('id="changes"')[1].split("</section>")[0]
    assert re.search(r'<a class="name" href="/catalog/service/billing">billing</a> '
                     r'<span>declared by [^<]+</span>', changes), changes


def test_the_results_fragment_ranks_the_exact_name_first(
        front: tuple[Line, httpx.Client]) -> None:
    _, client = front
    r = client.get("/search/results", params={"q": "churn"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.headers["content-security-policy"] == CSP
    assert "<html" not in r.text and 'id="health"' not in r.text, "a fragment, no page"
    assert _names(r.text)[:2] == ["churn", "churn_v1"]
    assert 'href="/search?q=churn">all results' in r.text
    assert client.get("/search/results", params={"q": "  "}).text.strip() == ""
    assert client.get("/search/results").text.strip() == ""
    typo = client.get("/search/results", params={"q": "chekout"}).text
    assert 'Did you mean <a href="/search?q=checkout" data-suggestion>checkout</a>?' in typo
    escaped = client.get("/search/results", params={"q": "cleaner"}).text
    assert "shared cleaning &lt;b&gt;helpers&lt;/b&gt;" in escaped and "<b>helpers" not in escaped
    many = client.get("/search/results", params={"q": "customers"}).text
    assert set(_names(many)) == {"churn", "churn_v1", "checkout"}


def test_the_search_page_is_the_registrys_search(front: tuple[Line, httpx.Client]) -> None:
    _, client = front
    page = client.get("/search", params={"q": "customers"}).text
    assert set(_names(page)) == {"churn", "churn_v1", "checkout"}
    assert 'href="/catalog?tag=customers">#customers' in page
    assert _names(client.get("/search", params={"q": "clean"}).text)[:2] == ["clean", "clean"]
    only = client.get("/search", params={"q": "customers", "kind": "service"}).text
    assert _names(only) == ["checkout"] and '<option value="service" selected>' in only
    assert "Did you mean" in client.get("/search", params={"q": "chrun"}).text
    assert "Nothing matches" not in client.get("/search").text, "no query: the empty form"
    bad = client.get("/search", params={"q": "churn", "kind": "modle"})
    assert bad.status_code == 422 and "field &#39;kind&#39;" in bad.text


def test_the_catalog_page_browses_by_kind_owner_and_tag(
        front: tuple[Line, httpx.Client]) -> None:
    _, client = front
    models = client.get("/catalog", params={"kind": "model"}).text
    assert _names(models) == ["churn", "churn_v1"] and "2 of 7 entries" in models
    assert 'aria-current="true"><b>2</b> models' in models
    assert "deprecated 2026-03-01" in models
    assert _names(client.get("/catalog", params={"owner": "ML@EXAMPLE.COM"}).text) == \
        ["churn", "churn_v1"]
    assert _names(client.get("/catalog", params={"tag": "customers", "kind": "service"}).text) \
        == ["checkout"]
    everything = client.get("/catalog").text
    assert _names(everything) == ["clean", "raw", "clean", "churn", "churn_v1", "checkout",
                                  "cleaner"]
    assert 'rel="next"' not in everything
    assert "No entries match these filters" in client.get("/catalog?tag=none").text
    bad = client.get("/catalog", params={"kind": "nope"})
    assert bad.status_code == 422 and "kind" in bad.text


def test_the_catalog_json_pages_and_filters(front: tuple[Line, httpx.Client]) -> None:
    _, client = front
    body = client.get("/api/v1/catalog", params={"limit": "3", "offset": "2"}).json()
    assert [e["name"] for e in body["entries"]] == ["clean", "churn", "churn_v1"]
    assert (body["total"], body["limit"], body["offset"]) == (7, 3, 2)
    assert body["facets"]["kinds"] == {"dataset": 2, "pipeline": 1, "model": 2, "service": 1,
                                       "library": 1}
    assert body["facets"]["declared"] == 4
    assert body["facets"]["tags"][0] == {"tag": "customers", "count": 3}
    model = client.get("/api/v1/catalog", params={"kind": "model", "tag": "ml"}).json()
    assert model["entries"] == [{"kind": "model", "name": "churn", "owner": "ml@example.com",
                                 "description": "who is about to leave",
                                 "url": "/catalog/model/churn", "tags": ["customers", "ml"],
                                 "team": "", "lifecycle": "active"}]
    assert model["total"] == 1
    r = client.get("/api/v1/catalog", params={"kind": "modle"})
    assert r.status_code == 422 and r.json()["field"] == "kind"
    assert "did you mean 'model'" in r.json()["hint"]

