"""Hostile entries and entry URLs: ``andon.catalog(...)`` with markup, oversize or wrong-typed
fields is refused at load naming its line (or shown as text); an entry URL with a 10 KB name,
control characters, markup or an unknown kind answers 404 or 422 (never 500), and the server
answers the next request as before."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.registry.declared import load_declared
from tests.conftest import ProjectFactory
from tests.web.conftest import running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")
andon.catalog(kind="service", name="api", owner='ops <b id="inj-owner">x</b>',
              description='<script id="inj-desc">window.pwned = 1</script>',
              tags=["<i>t</i>"], links={"<b>docs</b>": "https://docs.example.com/?a=1&b=<2>"},
              access="javascript:alert(1)")

@andon.pipeline(inputs=["raw"], outputs=["clean"], uses=["api"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")
"""


@pytest.fixture
def api(make_project: ProjectFactory) -> Iterator[httpx.Client]:
    with running(make_project(PIPELINES)) as line, \
            httpx.Client(base_url=line.url, timeout=GUARD) as client:
        yield client


@pytest.mark.parametrize(("path", "status"), [
    ("/api/v1/catalog/service/" + "x" * 10_240, 404),
    ("/api/v1/catalog/service/" + quote("a\x00b\x1b[31m"), 404),
    ("/api/v1/catalog/service/" + quote("<script>alert(1)</script>", safe=""), 404),
    ("/api/v1/catalog/" + quote("<b>model<b>", safe="") + "/api", 422),
    ("/api/v1/catalog/" + "k" * 10_240 + "/api", 422),
    ("/api/v1/catalog/service/" + quote("api' or '1'='1"), 404),
    ("/catalog/service/" + quote("a\x00b"), 404),
    ("/catalog/" + quote("<b>x<b>", safe="") + "/api", 422),
])
def test_a_hostile_entry_url_is_refused(api: httpx.Client, path: str, status: int) -> None:
    answer = api.get(path)
    assert answer.status_code == status, answer.text[:300]
    if path.startswith("/api/"):
        body = answer.json()
        assert len(body["message"]) < 400 and "\x00" not in body["message"]
    else:
        assert "<script>alert" not in answer.text and "<b>x<b>" not in answer.text
    assert api.get("/api/v1/catalog/service/api").json()["used_by"] == ["clean"]


def test_markup_in_an_entry_is_text(api: httpx.Client) -> None:
    page = api.get("/catalog/service/api").text
    assert 'id="inj-desc"' not in page and 'id="inj-owner"' not in page
    assert "&lt;script id=&#34;inj-desc&#34;&gt;" in page
    assert 'href="javascript:' not in page
    assert 'href="https://docs.example.com/?a=1&amp;b=&lt;2&gt;"' in page


@pytest.mark.parametrize(("call", "says"), [
    ('andon.catalog(kind="model", name="m", owner="o", tags=["t"] * 51)', "more than 50 tags"),
    ('andon.catalog(kind="model", name="m", owner="o", description="d" * 10_001)',
     "longer than 10000 characters"),
    ('andon.catalog(kind="model", name="m", owner="o\\x00")', "control characters"),
    ('andon.catalog(kind="model", name="m", owner="o", links=["https://x"])',
     "is not a table of URLs"),
    ('andon.catalog(kind="model", name="m", owner="o", links={"x": "u" * 2001})',
     "longer than 2000"),
    ('andon.catalog(kind="model", name="../m", owner="o")', "is not an identifier"),
    ('andon.catalog(kind=["model"], name="m", owner="o")', "is not a kind of entry"),
    ('andon.catalog(kind="model", name="m", owner="o", since=[2027])', "lifecycle date"),
])
def test_a_hostile_call_is_refused_at_load(make_project: ProjectFactory, call: str,
                                           says: str) -> None:
    root = make_project("import andon\n" + call + "\n")
    with pytest.raises(ConfigError) as err:
        load_declared(root, load_project(root).graph)
    assert says in err.value.message and err.value.where == f"{root / 'pipelines.py'}:2"
