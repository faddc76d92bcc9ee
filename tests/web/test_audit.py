"""The waste audit over HTTP (``GET /api/v1/audit``) and on the board (``/audit``, also in a
real browser: the screenshot goes to test-artifacts/board/audit.png), on a real server over the
planted history (``andon.audit.plant``) with the scheduler's clock set to its end."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from andon.audit.findings import audit
from andon.audit.views import audit_json
from andon.live.clock import FakeClock
from andon.serve.up import Line
from tests.audit.conftest import NOW, Planter, planted  # noqa: F401  (the planted project)
from tests.web.conftest import running
from tests.web.test_browser import Page, browser  # noqa: F401  (the module's browser fixture)


@pytest.fixture
def served(planted: Planter) -> Iterator[tuple[Line, httpx.Client]]:  # noqa: F811
    root, _ = planted(copies=1, extra='gb_month = 0.02\ncurrency = "EUR"\n')
    with running(root, clock=FakeClock(NOW)) as line, \
            httpx.Client(base_url=line.url, timeout=30) as client:
        assert line.runner.drain()  # the runs the history's new data started have ended
        yield line, client


def test_the_api_gives_the_audit_the_cli_gives(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    got = client.get("/api/v1/audit")
    assert got.status_code == 200
    data = got.json()
    cfg = line.project.audit
    assert data == audit_json(audit(line.store, line.project.graph, cfg, NOW), cfg)
    assert data["currency"] == "EUR"
    kinds = {f["kind"] for f in data["findings"]}
    assert {"unused_data", "dead_pipeline", "noisy_alert", "fossil_artifact"} <= kinds
    unused = next(f for f in data["findings"] if f["object"] == "unused0")
    assert unused["url"] == "/assets/unused0" and unused["cost"] == pytest.approx(0.02)
    later = client.get("/api/v1/audit", params={"since": "2026-03-01"}).json()
    assert not any(f["kind"] == "unused_data" and f["object"] == "unused0"
                   for f in later["findings"])  # judged from March on: it is younger than that


@pytest.mark.parametrize("since", ["yesterday", "2026-13-01", "x" * 5000, "2026-01-01\n",
                                   "2999-01-01"])
def test_a_bad_since_is_a_422_naming_it(served: tuple[Line, httpx.Client], since: str) -> None:
    _, client = served
    got = client.get("/api/v1/audit", params={"since": since})
    assert got.status_code == 422 and "since" in got.text
    assert client.get("/audit", params={"since": since}).status_code == 422


def test_the_page_lists_the_findings_by_kind(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    page = client.get("/audit")
    assert page.status_code == 200
    html = page.text
    assert 'id="kind-unused_data"' in html and 'href="/assets/unused0"' in html
    assert "EUR a month" in html and 'href="/audit"' in html


def test_the_audit_page_in_a_browser(browser, served: tuple[Line, httpx.Client]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line, _ = served
    tab = Page(browser, line, "viewer")
    try:
        page = tab.open("/")
        page.click('nav a[href="/audit"]')
        page.wait_for_url(line.url + "/audit")
        row = page.locator('tr[data-kind="unused_data"][data-object="unused0"]')
        assert "never read by a run" in row.inner_text()
        assert page.locator("#kind-fossil_artifact").count() == 1
        tab.shot("audit")
        row.locator("a").click()
        page.wait_for_url(line.url + "/assets/unused0")
    finally:
        tab.close()
