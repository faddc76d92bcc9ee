"""The operations manual on the board over a real server: the manual by kind with its filters,
an entry's page, the review (a panel on the board and its page, with the reactive share among
the vital signs), and the known-fix hint on a failed run's page and in the attention list."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from andon.manual.entries import ManualEntry
from andon.serve.up import Line
from andon.web.app import CSP
from tests.web.conftest import make_token, running
from tests.web.test_board import _land, _login, _text

# an upstream export that times out the same way every day, with the day's numbers and URL
FLAKY = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["orders"])
def export(ctx):
    fetch(ctx.partition)

def fetch(day):
    raise TimeoutError(f"timed out after {30 + int(day[-2:])}s fetching https://crm/x?day={day}")

@andon.pipeline(inputs=["orders"], outputs=["report"])
def report(ctx):
    ctx.output("report").write_text("ok\\n")
"""
TITLE = "TimeoutError: timed out after &lt;n&gt;s fetching &lt;url&gt;"
NOTE = 'restarted the <b id="inj-note">export</b>'


@pytest.fixture
def flaky(make_project) -> Iterator[tuple[Line, httpx.Client]]:  # type: ignore[no-untyped-def]
    """A served project whose export failed for good on two days (one manual entry)."""
    with running(make_project(FLAKY)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        _land(line, client, ["2026-01-01", "2026-01-02"])
        yield line, client


def _entry(line: Line) -> ManualEntry:
    (entry,) = line.service.manual.entries(datetime.now(UTC))
    return entry


def _resolve(line: Line, entry_id: str, note: str = NOTE, link: str = "https://tracker/1") -> None:
    event = line.service.manual.resolve_event(entry_id, note, datetime.now(UTC), link=link,
                                              commit="abc1234", by="alice")
    assert line.runner.submit(event).result(10)
    assert line.runner.drain()


def _words(page: str) -> str:
    """What a reader sees of ``page``: its text, markup gone and entities read."""
    return html.unescape(_text(page))


def _section(page: str, section_id: str) -> str:
    return re.findall(rf'<section id="{section_id}".*?</section>', page, re.S)[0]


def test_the_manual_lists_entries_by_kind_with_their_occurrences_and_filters(
        flaky: tuple[Line, httpx.Client]) -> None:
    line, client = flaky
    entry = _entry(line)
    assert entry.kind == "failure" and len(entry.occurrences) == 2
    r = client.get("/manual")
    assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
    page = r.text
    assert '<a href="/manual" aria-current="page">Manual</a>' in page
    listing = _section(page, "manual")
    assert 'id="kind-failure"' in listing and "Failed runs" in listing
    row = re.findall(rf'<tr data-entry="{entry.id}" data-state="open">.*?</tr>', listing, re.S)[0]
    assert TITLE in row and f'href="/manual/{entry.id}"' in row
    assert 'href="/runs?pipeline=export"' in row
    assert '<b class="occ-count">2</b>' in row
    assert '<svg class="spark"' in row and row.count('<circle class="fail"') >= 1
    assert "none yet" in row and "<script>" not in page

    assert f'data-entry="{entry.id}"' in client.get("/manual?kind=failure").text
    assert "data-entry=" not in client.get("/manual?kind=cord").text
    assert "No entry matches these filters" in client.get("/manual?kind=cord").text
    assert "data-entry=" not in client.get("/manual?since=2999-01-01").text
    assert f'data-entry="{entry.id}"' in client.get("/manual?since=2000-01-01").text
    for query, field in (("kind=nope", "kind: no kind"),
                         ("since=garbage", "is not a date"),
                         ("since=" + "9" * 100, "is not a date")):
        bad = client.get(f"/manual?{query}")
        assert bad.status_code == 422 and field in bad.text, query
    assert 'href="/manual"' in client.get("/").text, "linked from the board's navigation"


def test_an_entry_page_shows_its_signature_occurrences_and_resolutions(
        flaky: tuple[Line, httpx.Client]) -> None:
    line, client = flaky
    entry = _entry(line)
    url = f"/manual/{entry.id}"
    page = client.get(url).text
    head = _words(_section(page, "manual-entry"))
    assert "TimeoutError: timed out after <n>s fetching <url>" in head
    assert "seen 2 times" in head and "open" in head
    assert "TimeoutError" in head and "fetch" in head and "pipelines.py" in head
    occurrences = _section(page, "manual-occurrences")
    runs = [r["run_id"] for r in line.service.runs("export", limit=10)]
    for run_id in runs:
        assert f'href="/runs/{run_id.replace(":", "%3A")}"' in occurrences
    assert occurrences.index("2026-01-02") < occurrences.index("2026-01-01"), "newest first"
    assert "time to detect" in occurrences and "time to resolve" in occurrences
    assert "export 2026-01-01" in _section(page, "manual-partitions")
    assert "report" in _section(page, "manual-consumers")
    # anonymous: the command, no form
    resolutions = _section(page, "manual-resolutions")
    assert "Not resolved yet" in resolutions and "data-action" not in page
    assert f"andon manual resolve {entry.id} --note" in resolutions

    _login(client, make_token(line, "operator"))
    form = _section(client.get(url).text, "manual-resolutions")
    assert f'data-api="/api/v1/manual/{entry.id}/resolve"' in form
    assert 'data-action="resolve-entry"' in form and 'name="note"' in form
    assert 'name="link"' in form and 'name="commit"' in form

    _resolve(line, entry.id)
    page = client.get(url).text
    resolutions = _section(page, "manual-resolutions")
    assert "restarted the &lt;b id=&#34;inj-note&#34;&gt;export&lt;/b&gt;" in resolutions
    assert '<b id="inj-note">' not in page
    assert '<a class="ext" href="https://tracker/1"' in resolutions
    assert 'href="javascript' not in page, "only http(s) links become links"
    assert "abc1234" in resolutions and "alice" in resolutions
    assert "resolved" in _words(_section(page, "manual-entry"))

    missing = client.get("/manual/nosuchentry")
    assert missing.status_code == 404 and "/manual" in missing.text
    assert "nosuchentry" in missing.text


def test_the_known_fix_hint_shows_on_a_failed_runs_page_and_in_the_attention_list(
        flaky: tuple[Line, httpx.Client]) -> None:
    line, client = flaky
    entry = _entry(line)
    _resolve(line, entry.id)
    _land(line, client, ["2026-01-03"])  # the same problem again
    (run,) = line.service.runs("export", partition="2026-01-03", limit=1)
    hint = line.service.manual.hints([run["run_id"]])[run["run_id"]]
    assert hint.entry == entry.id and hint.seen == 3
    page = client.get(f"/runs/{run['run_id']}").text
    shown = re.findall(r'<p class="known-fix[^"]*" data-hint="[^"]+">.*?</p>', page, re.S)[0]
    words = _words(shown)
    assert f"seen 3 times since {hint.since[:10]}; last fixed by:" in words
    assert "restarted the <b" in words and "(https://tracker/1)" in words
    assert f'href="/manual/{entry.id}"' in shown
    assert ("regression" in words) == hint.regression
    attention = _section(client.get("/").text, "attention")
    assert attention.count('class="known-fix') == 3, "every failed run of the list has its hint"
    assert f'href="/manual/{entry.id}"' in attention
    # a run that succeeded has none
    ok = client.get("/api/v1/runs?status=succeeded").json()
    assert all("known-fix" not in client.get(f"/runs/{r['run_id']}").text for r in ok[:2])


def test_the_review_shows_what_keeps_coming_back_and_the_reactive_share(
        flaky: tuple[Line, httpx.Client]) -> None:
    line, client = flaky
    entry = _entry(line)
    board = client.get("/").text
    panel = _section(board, "review")
    assert "No frequent problem" in panel and "reactive share" in panel
    _land(line, client, ["2026-01-03"])  # the third time: a candidate for automation
    review = line.service.manual.review(datetime.now(UTC), 30)
    board = client.get("/").text
    panel = _section(board, "review")
    assert f'<li data-entry="{entry.id}">' in panel and "3×" in panel and TITLE in panel
    share = f"{review.reactive_share * 100:.1f}%"
    vital = re.findall(r'<a class="h-item (\w+)" id="h-reactive"[^>]*>(.*?)</a>', board)[0]
    assert vital[0] == ("bad" if review.flagged else "ok") and share in vital[1]
    assert "h-reactive" not in client.get("/runs").text, "the front page's vital sign"
    page = client.get("/manual/review").text
    rows = _section(page, "manual-review")
    assert f'data-entry="{entry.id}"' in rows and 'class="frequent"' in rows
    assert share in rows and "reactive share" in rows
    assert ("flagged" in rows) == review.flagged
