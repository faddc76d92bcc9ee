"""The board's front door in a real browser (the machine's Chromium through Playwright, as in
test_browser.py): typing into the top page's search box shows results without a reload, the exact
name first; a result leads to its page; the facets lead to the catalog by kind.

Screenshots go to test-artifacts/board/ (front-search.png, front-typo.png, catalog-models.png)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from andon.serve.up import Line
from tests.conftest import ProjectFactory
from tests.web.conftest import running
from tests.web.test_browser import PIPELINES, Page, browser  # noqa: F401 (a fixture)
from tests.web.test_front import CATALOG


@pytest.fixture
def front(make_project: ProjectFactory) -> Iterator[Line]:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    with running(root) as line:
        yield line


def _results(page, q: str) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(kind, name) of the results the box shows for ``q``, once they are there."""
    page.wait_for_selector(f'#find-results[data-q="{q}"]', timeout=5000)
    return [tuple(x) for x in page.eval_on_selector_all(
        "#find-results li.entry", "els => els.map(e => [e.dataset.kind, e.dataset.name])")]


def test_typing_in_the_front_page_search_shows_results_without_a_reload(
        browser, front: Line) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    tab = Page(browser, front)
    page = tab.open("/")
    assert page.is_hidden("#find-results"), "no results before typing"
    page.evaluate("window.__sameDocument = true")  # gone if the page reloads
    box = page.locator("#find-q")
    box.press_sequentially("clean", delay=40)  # a request per pause at most; stale ones aborted
    found = _results(page, "clean")
    assert found[:2] == [("dataset", "clean"), ("pipeline", "clean")], found
    assert ("library", "cleaner") in found, "then the names that start with it"
    assert page.is_visible("#find-results")
    tab.shot("front-search")
    assert page.evaluate("window.__sameDocument") is True, "the page was not reloaded"

    box.fill("")
    box.press_sequentially("chrun", delay=40)
    _results(page, "chrun")
    assert page.inner_text("#find-results .suggest").startswith("Nothing matches")
    assert page.get_attribute("#find-results [data-suggestion]", "href") == "/search?q=churn"
    tab.shot("front-typo")

    box.fill("")
    box.press_sequentially("checkout", delay=40)
    assert _results(page, "checkout")[0] == ("service", "checkout")
    box.press("Escape")
    page.wait_for_selector("#find-results", state="hidden", timeout=5000)

    box.press_sequentially("clean", delay=40)
    _results(page, "clean")
    page.click("#find-results li.entry:first-child a.name")
    page.wait_for_url(f"{front.url}/assets/clean", timeout=5000)
    assert page.inner_text("h1").startswith("clean")

    page = tab.open("/")
    page.click('.facet-kinds a[href="/catalog?kind=model"]')
    page.wait_for_url(f"{front.url}/catalog?kind=model", timeout=5000)
    kinds = page.eval_on_selector_all("li.entry", "els => els.map(e => e.dataset.kind)")
    assert kinds == ["model", "model"]
    assert page.inner_text("h1").startswith("Catalog: models")
    tab.shot("catalog-models")

    # without the script the box is a plain form to /search
    page = tab.open("/")
    page.fill("#find-q", "customers")
    page.press("#find-q", "Enter")
    page.wait_for_url(f"{front.url}/search?q=customers", timeout=5000)
    assert page.locator("li.entry").count() == 3
    assert tab.errors == [], f"console errors: {tab.errors}"
    tab.close()
