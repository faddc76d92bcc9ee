"""The cord pages of the board over a real server: an incident, what it halts, its suspect
outputs, its recovery, and the cord list (split from test_board.py)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from urllib.parse import quote

import httpx

from andon.serve.up import Line
from andon.web.app import CSP
from tests.executors.helpers import wait_until
from tests.web.conftest import PIPELINES, make_token, running
from tests.web.test_board import _days, _land, _login, _text

QUARANTINING = PIPELINES + """
@andon.pipeline(inputs=["clean"], outputs=["report"], bad_outputs="quarantine",
                locations={"report": "out/report/{partition}.csv"})
def report(ctx):
    ctx.output("report").write_text("ok\\n")
"""
REASON = 'nulls in <b id="inj-reason">amount</b>'


def _pulled(line: Line, client: httpx.Client) -> str:
    """Make two days, pull a cord on clean's first (which quarantines the report made from it)
    and return the cord's id."""
    _land(line, client, _days(2))
    pulled = line.service.cord_pull("clean", "2026-01-01", REASON, datetime.now(UTC), "alice")
    assert line.runner.submit(pulled).result(10)
    assert line.runner.drain()  # the quarantine is submitted after the pull's turn
    assert [o["state"] for o in line.store.cord_outputs(pulled.cord_id)] == ["quarantined"]
    return pulled.cord_id


def test_a_cord_page_shows_the_incident_what_it_halts_and_its_suspect_outputs(
        make_project) -> None:  # type: ignore[no-untyped-def]
    with running(make_project(QUARANTINING)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        cord_id = _pulled(line, client)
        assert cord_id == "clean:2026-01-01:1"
        url = "/cords/clean%3A2026-01-01%3A1"
        r = client.get(url)
        assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
        page = r.text
        assert "<script>" not in page and " style=" not in page
        assert 'id="incident" data-live' in page and 'id="halts" data-live' in page
        assert 'id="outputs" data-live' in page
        head = _text(re.findall(r'<section id="incident".*?</section>', page, re.S)[0])
        assert "clean 2026-01-01" in head and "version 1" in head
        assert "pulled by alice" in head and "open: halting" in head
        assert 'nulls in &lt;b id=&#34;inj-reason&#34;&gt;amount&lt;/b&gt;' in head
        assert '<b id="inj-reason">' not in page, "the reason is escaped"
        steps = re.findall(r'<li data-step="(\w+)">', page)
        assert steps == ["produced_bad", "detected", "pulled"]
        assert "time to detect" in head and "time to recover" in head
        # what it halts now: report's partition, linked to its runs and the data set it makes
        halts = re.findall(r'<section id="halts".*?</section>', page, re.S)[0]
        assert 'data-halt="report 2026-01-01"' in halts
        assert 'href="/runs?pipeline=report&amp;partition=2026-01-01"' in halts
        assert 'href="/assets/report"' in halts
        # the suspect output, quarantined: where it was and where it is now
        (row,) = line.store.cord_outputs(cord_id)
        outputs = re.findall(r'<section id="outputs".*?</section>', page, re.S)[0]
        assert 'data-output="report 2026-01-01 1" data-state="quarantined"' in outputs
        assert "quarantine" in outputs and "out/report/2026-01-01.csv" in outputs
        assert row["quarantine_path"] and row["quarantine_path"] in outputs
        assert "data-action" not in page, "anonymous: no buttons"

        viewer = make_token(line, "viewer")
        _login(client, viewer)
        assert "data-action" not in client.get(url).text, "a viewer: no buttons"

        _login(client, make_token(line, "operator"))
        page = client.get(url).text
        assert page.count('data-action="restore"') == 1
        assert 'data-api="/api/v1/cords/clean%3A2026-01-01%3A1/restore"' in page
        assert '<input type="hidden" name="version" value="1" data-int>' in page
        assert page.count('data-action="resolve-cord"') == 1

        # the cord is linked wherever it is shown: the board's cords, the data set's banner
        assert f'href="{url}"' in client.get("/").text
        assert f'href="{url}"' in client.get("/assets/clean").text

        r = client.get("/cords/clean%3A2026-01-09%3A1")
        assert r.status_code == 404
        assert "no cord with id" in r.text and "ASSET:PARTITION:N" in r.text
        assert "every cord is listed at /cords" in r.text


def test_a_cord_page_follows_the_cord_to_its_recovery(make_project) -> None:  # type: ignore[no-untyped-def]
    """Restored and resolved: the page shows the output restored, the halt gone and the whole
    timeline with the times to detect and to recover."""
    with running(make_project(QUARANTINING)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        cord_id = _pulled(line, client)
        op = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
        r = client.post(f"/api/v1/cords/{cord_id}/restore",
                        json={"asset": "report", "partition": "2026-01-01"}, headers=op)
        assert r.status_code == 200, r.text
        r = client.post(f"/api/v1/cords/{cord_id}/resolve", json={"note": "<i>re-exported</i>"},
                        headers=op)
        assert r.status_code == 202, r.text
        assert line.runner.drain()
        assert line.service.cord(cord_id)["status"] == "recovered"
        _login(client, make_token(line, "operator"))
        page = client.get("/cords/clean%3A2026-01-01%3A1").text
        assert re.findall(r'<li data-step="(\w+)">', page) == [
            "produced_bad", "detected", "pulled", "resolved", "remade", "recovered"]
        assert 'data-output="report 2026-01-01 1" data-state="restored"' in page
        assert "data-action" not in page, "nothing left to restore or resolve"
        assert "halts nothing now" in page and "recovered" in page
        assert "&lt;i&gt;re-exported&lt;/i&gt;" in page
        remake = line.service.cord(cord_id)["remake_run_id"]
        assert remake and f'href="/runs/{quote(remake)}"' in page


CHECKED = PIPELINES + """
andon.check("raw")(andon.checks.row_count(min=1))
"""


def test_the_board_links_the_cord_a_failing_check_pulled(make_project) -> None:  # type: ignore[no-untyped-def]
    """A blocking check's failure in the attention list and the line it halts link to the cord
    the check pulled."""
    with running(make_project(CHECKED)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        path = line.project.root / "data/raw/2026-01-01.csv"
        path.parent.mkdir(parents=True)
        path.write_text("a\n")  # a header and no rows
        line.runner.submit(line.service.notify("raw", "2026-01-01", datetime.now(UTC))).result(10)
        wait_until(lambda: line.service.cords(), "the check pulled the cord")
        assert line.runner.drain()
        url = "/cords/raw%3A2026-01-01%3Acheck-v1"
        page = client.get("/").text
        (item,) = re.findall(r'<li class="att att-critical">.*?</li>', page, re.S)
        assert "blocking check failed" in item and f'href="{url}"' in item
        (halted,) = re.findall(r'<li class="line line-red" data-pipeline="clean".*?</li>', page,
                               re.S)
        assert f'href="{url}"' in halted
        cord = client.get(url).text
        assert "pulled by check:row_count" in _text(cord)
        assert "check row_count failed: 0 rows" in cord
        assert 'data-halt="clean 2026-01-01"' in cord and "made no output suspect" in cord


def _rows(page: str) -> list[tuple[str, str]]:
    """The cord list's rows as (cord id, status), in order."""
    return re.findall(r'<tr data-cord="([^"]+)" data-status="(\w+)">', page)


def test_the_cord_list_shows_open_cords_first_then_the_newest(make_project) -> None:  # type: ignore[no-untyped-def]
    """Every cord, resolved ones too (they drop off the board), open first, linked to its page,
    its data set and its partition's runs; filtered in the URL; the reason escaped."""
    with running(make_project(QUARANTINING)) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        opened = _pulled(line, client)
        later = line.service.cord_pull("clean", "2026-01-02", "late rows", datetime.now(UTC), "bob")
        assert line.runner.submit(later).result(10)
        assert line.runner.drain()
        fixed = line.service.cord_resolve(later.cord_id, "<i>patched</i>", datetime.now(UTC),
                                          "carol", manual_fix=True)
        assert line.runner.submit(fixed).result(10)
        assert line.runner.drain()
        status = line.service.cord(later.cord_id)["status"]
        assert status in ("released", "recovered")

        r = client.get("/cords")
        assert r.status_code == 200 and r.headers["content-security-policy"] == CSP
        page = r.text
        assert "<script>" not in page and " style=" not in page
        assert 'id="cord-list" data-live' in page
        # the open cord first, though the resolved one was pulled later
        assert _rows(page) == [(opened, "pulled"), (later.cord_id, status)]
        first, second = re.findall(r"<tr data-cord=.*?</tr>", page, re.S)
        assert 'href="/cords/clean%3A2026-01-01%3A1"' in first
        assert 'href="/assets/clean"' in first
        assert 'href="/runs?pipeline=clean&amp;partition=2026-01-01"' in first
        assert '<span class="pill red">open: halting</span>' in first
        assert 'nulls in &lt;b id=&#34;inj-reason&#34;&gt;amount&lt;/b&gt;' in first
        assert '<b id="inj-reason">' not in page, "the reason is escaped"
        row = _text(first)
        assert "alice" in row and "not yet" in row, "pulled by alice, not recovered yet"
        assert 'href="/cords/clean%3A2026-01-02%3A1"' in second
        assert '<span class="pill green">' in second
        assert "bob" in _text(second) and "carol" in _text(second), "pulled and resolved by"
        assert "<i>patched</i>" not in page

        # the filter in the URL: open cords only
        page = client.get("/cords?status=open").text
        assert _rows(page) == [(opened, "pulled")]
        assert '<option value="open" selected>' in page
        assert _rows(client.get("/cords?status=nonsense").text) == _rows(client.get("/cords").text)

        # the top navigation, the board's cords and a cord's page lead here
        nav = re.findall(r"<nav>.*?</nav>", client.get("/cords").text, re.S)[0]
        assert '<a href="/cords" aria-current="page">Cords</a>' in nav
        assert '<a href="/cords" aria-current="page">' in client.get(
            "/cords/clean%3A2026-01-02%3A1").text
        board = client.get("/").text
        assert re.search(r'<a href="/cords"\s*>Cords</a>', board), "in the navigation, not current"
        cords = re.findall(r'<section id="cords".*?</section>', board, re.S)[0]
        assert 'href="/cords">all cords</a>' in cords


def test_the_cord_list_is_paged_on_the_server(client: httpx.Client, line: Line) -> None:
    days = _days(52)
    _land(line, client, days)
    for day in days:
        pulled = line.service.cord_pull("raw", day, "bad", datetime.now(UTC), "alice")
        assert line.runner.submit(pulled).result(10)
    assert line.runner.drain()
    first = client.get("/cords?status=open").text
    assert [c for c, _ in _rows(first)] == [f"raw:{d}:1" for d in reversed(days)][:50]
    assert 'href="/cords?status=open&amp;page=2"' in first and 'rel="prev"' not in first
    second = client.get("/cords?status=open&page=2").text
    assert [c for c, _ in _rows(second)] == ["raw:2026-01-02:1", "raw:2026-01-01:1"]
    assert 'rel="next"' not in second and 'href="/cords?status=open&amp;page=1"' in second
    assert _rows(client.get("/cords?page=3").text) == []
    assert "No cords" in client.get("/cords?page=3").text
    assert len(_rows(client.get("/cords?page=x").text)) == 50, "a bad page number: the first"
