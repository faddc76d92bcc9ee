"""A model's page and the front board's Models panel in a real browser (the machine's
Chromium, driven by Playwright against a real server); screenshots go to
test-artifacts/board/ (model-page.png, front-models.png)."""

from __future__ import annotations

import httpx

from andon.serve.up import Line
from tests.web.test_browser import Page, browser  # noqa: F401 (a fixture)
from tests.web.test_model_page import served  # noqa: F401 (a fixture)


def test_model_page_and_board_in_a_browser(  # noqa: F811
        browser, served: tuple[Line, httpx.Client]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line, _ = served
    tab = Page(browser, line)
    page = tab.page
    page.goto(line.url + "/catalog/model/churn")
    assert page.eval_on_selector_all("figure.chart", "els => els.map(e => e.dataset.metric)")[
        :2] == ["auc", "loss"]
    titles = page.eval_on_selector_all('figure[data-metric="auc"] svg title',
                                       "els => els.map(e => e.textContent)")
    assert "version 1: auc 0.71 (serving)" in titles
    assert any(t.startswith("rolled back to version 1 by ") and "<script" in t for t in titles)
    box = page.locator('figure[data-metric="auc"] svg').bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    assert page.evaluate("window.pwned") is None, "the reason's markup ran"
    tab.shot("model-page")

    page = tab.open("/")
    assert page.eval_on_selector_all("#models tr[data-model]",
                                     "els => els.map(e => e.dataset.model)") == ["churn"]
    assert "version 1" in page.inner_text('#models tr[data-model="churn"]')
    tab.shot("front-models")
    assert tab.errors == []
    tab.close()
