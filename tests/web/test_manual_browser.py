"""The operations manual in a real browser (the machine's Chromium through Playwright): the
manual from the board's navigation, an entry, resolving it from the board's form, and the
known-fix hint on a failed run's page and in the board's attention list.

Screenshots go to test-artifacts/board/manual-*.png (look at them after a change)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from andon.serve.up import Line
from tests.web.test_board import _land
from tests.web.test_browser import Page, browser  # noqa: F401  (the module's browser fixture)
from tests.web.test_manual_pages import NOTE, flaky  # noqa: F401  (the served flaky project)


def test_an_operator_reads_the_manual_resolves_an_entry_and_sees_the_fix_when_it_returns(
        browser, flaky: tuple[Line, httpx.Client]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line, client = flaky
    (entry,) = line.service.manual.entries(datetime.now(UTC))
    tab = Page(browser, line, "operator")
    try:
        page = tab.open("/")
        page.click('nav a[href="/manual"]')
        page.wait_for_url(line.url + "/manual")
        page.wait_for_selector('#heard[data-state="live"]', timeout=5000)
        row = page.locator(f'tr[data-entry="{entry.id}"]')
        assert row.get_attribute("data-state") == "open"
        assert "TimeoutError: timed out after <n>s fetching <url>" in row.inner_text()
        tab.shot("manual-list")

        row.locator("td.title a").click()
        page.wait_for_url(f"{line.url}/manual/{entry.id}")
        page.wait_for_selector('#heard[data-state="live"]', timeout=5000)
        assert page.locator("#manual-occurrences tbody tr").count() == 2
        page.fill("form.resolve-entry input[name=note]", NOTE)
        page.fill("form.resolve-entry input[name=link]", "https://tracker.example/42")
        page.fill("form.resolve-entry input[name=commit]", "abc1234")
        page.click("button[data-action=resolve-entry]")
        # the live parts follow the event: the resolution shows without a reload
        page.wait_for_selector("#manual-resolutions .resolution", timeout=2000)
        resolution = page.inner_text("#manual-resolutions .resolution")
        assert NOTE in resolution and "https://tracker.example/42" in resolution
        assert page.locator("#inj-note").count() == 0, "the note is shown as text"
        tab.shot("manual-entry-resolved")

        _land(line, client, ["2026-01-03"])  # it comes back
        run_id = line.service.runs("export", partition="2026-01-03", limit=1)[0]["run_id"]
        page = tab.open(f"/runs/{run_id}")
        hint = page.locator("p.known-fix").inner_text()
        assert "seen 3 times since" in hint and f"last fixed by: {NOTE}" in hint
        assert "(https://tracker.example/42)" in hint
        tab.shot("manual-run-hint")
        page.click("p.known-fix a.manual-link")
        page.wait_for_url(f"{line.url}/manual/{entry.id}")

        page = tab.open("/")
        assert page.locator("#attention p.known-fix").count() == 3, "each failed run's hint"
        # the run that failed after the fix: the fix known then (the earlier two had none)
        again = page.locator("#attention li", has_text="export 2026-01-03")
        assert f"last fixed by: {NOTE}" in again.locator("p.known-fix").inner_text()
        assert page.locator("#review li[data-entry]").count() == 1, "three times: it keeps coming back"
        assert page.locator("#h-reactive").count() == 1
        tab.shot("manual-board")
        page = tab.open("/manual/review")
        assert page.locator(f'#manual-review tr[data-entry="{entry.id}"]').count() == 1
        tab.shot("manual-review")
        assert tab.errors == [], f"console errors: {tab.errors}"
    finally:
        tab.close()
