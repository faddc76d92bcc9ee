"""The drift heat map in a real browser (the machine's Chromium, driven by Playwright against a
real server): its cells, their colours by band and their titles, on the data set's page and on
the model's page; screenshots go to test-artifacts/board/ (drift-heatmap.png,
drift-model.png)."""

from __future__ import annotations

import httpx

from andon.serve.up import Line
from tests.drift.test_surfaces import served  # noqa: F401 (a fixture)
from tests.web.test_browser import Page, browser  # noqa: F401 (a fixture)


def test_heat_map_in_a_browser(  # noqa: F811
        browser, served: tuple[Line, httpx.Client]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line, _ = served
    tab = Page(browser, line)
    page = tab.open("/assets/features")
    rows = page.eval_on_selector_all("#drift-features table.heat tbody th",
                                     "els => els.map(e => e.textContent)")
    assert rows == ["spend", "orders", "plan"]
    cells = page.eval_on_selector_all(
        "#drift-features table.heat tbody td",
        "els => els.map(e => [e.className, e.title, getComputedStyle(e).backgroundColor])")
    assert len(cells) == 3 * 4
    spend = cells[:4]  # the first row: spend over the four days
    assert [c[0] for c in spend] == ["g", "g", "g", "r"]
    assert spend[3][1].startswith("spend · 2026-01-05: PSI ") and "(red)" in spend[3][1]
    assert spend[3][2] == "rgb(196, 35, 27)"  # --red
    assert spend[0][2] != spend[3][2]
    heads = page.eval_on_selector_all("#drift-features table.heat thead a",
                                      "els => els.map(e => e.getAttribute('href'))")
    assert heads[-1] == "/runs?pipeline=make_features&partition=2026-01-05"
    assert "1 partition red" in page.inner_text("#drift-features h2")
    tab.shot("drift-heatmap")

    page = tab.open("/catalog/model/churn")
    assert page.locator("#drift-features td.r").count() >= 1
    tab.shot("drift-model")
    assert tab.errors == []
    tab.close()
