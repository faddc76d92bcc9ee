"""Hostile requests to the board's manual pages over a real `andon up`: entry ids with markup,
10 kB long or odd; filters that are not kinds or dates; a failure message and a resolution note
with a <script> and a javascript: link. Each is refused (404 with the way to the list, 422 naming
the field) or shown escaped, and the server answers the next request as before."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest

from andon.serve.up import Line
from tests.web.conftest import running
from tests.web.test_board import _land

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
HOSTILE = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["orders"])
def export(ctx):
    raise ValueError('<script id="inj-msg">window.pwned = 1</script> at "' + ctx.partition + '"')
"""
# (an id with a "/" is no page's path: the router's 404, as for any page)
IDS = ['<img src=x onerror=alert(1) id="inj-id">', "x" * 10_240, "\u202eevil", "%00",
       "a\" onmouseover=\"alert(1)", "🦆" * 300]


@pytest.fixture
def served(make_project) -> Iterator[tuple[Line, httpx.Client]]:  # type: ignore[no-untyped-def]
    with running(make_project(HOSTILE)) as line, \
            httpx.Client(base_url=line.url, timeout=GUARD) as client:
        _land(line, client, ["2026-01-01", "2026-01-02"])
        yield line, client


def _still_answers(client: httpx.Client) -> None:
    assert client.get("/manual").status_code == 200


@pytest.mark.parametrize("entry_id", IDS)
def test_an_unknown_or_hostile_entry_id_is_a_404_with_the_way_to_the_list(
        served: tuple[Line, httpx.Client], entry_id: str) -> None:
    _, client = served
    r = client.get("/manual/" + quote(entry_id, safe=""))
    assert r.status_code == 404, entry_id[:40]
    assert "/manual" in r.text and 'id="inj-id"' not in r.text and "onmouseover=\"" not in r.text
    assert len(r.text) < 20_000, "a 10 kB id is not echoed back whole"
    _still_answers(client)


@pytest.mark.parametrize(("query", "says"), [
    ("kind=" + quote("<script>alert(1)</script>"), "kind: no kind"),
    ("kind=" + "k" * 10_000, "kind: no kind"),
    ("since=" + quote("<b>yesterday</b>"), "is not a date"),
    ("since=2026-13-45", "is not a date"),
    ("since=" + "1" * 10_000, "is not a date"),
])
def test_bad_filters_are_refused_naming_the_field(served: tuple[Line, httpx.Client],
                                                  query: str, says: str) -> None:
    _, client = served
    r = client.get(f"/manual?{query}")
    assert r.status_code == 422 and says in r.text
    assert "<script>alert" not in r.text and "<b>yesterday" not in r.text
    assert len(r.text) < 20_000
    _still_answers(client)


def test_markup_in_a_message_and_a_resolution_is_shown_as_text(
        served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    (entry,) = line.service.manual.entries(datetime.now(UTC))
    event = line.service.manual.resolve_event(
        entry.id, '<script id="inj-note">window.pwned = 2</script>', datetime.now(UTC),
        link="https://example.com/?q=a&x=1", by="<b>mallory</b>")
    assert line.runner.submit(event).result(10)
    _land(line, client, ["2026-01-03"])
    run_id = line.service.runs("export", partition="2026-01-03", limit=1)[0]["run_id"]
    pages = ["/manual", f"/manual/{entry.id}", "/manual/review", "/",
             f"/runs/{quote(run_id, safe='')}"]
    for path in pages:
        page = client.get(path).text
        for injected in ('id="inj-msg"', 'id="inj-note"', "<b>mallory"):
            assert injected not in page, (path, injected)
    entry_page = client.get(f"/manual/{entry.id}").text
    assert "&lt;script id=&#34;inj-note&#34;&gt;" in entry_page
    assert 'href="https://example.com/?q=a&amp;x=1"' in entry_page
