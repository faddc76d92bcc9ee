"""A model's realised performance on the board: the chart per partition on its page (threshold
line, a line where another version served, points past the threshold in red), the front
board's Models panel with the latest value against its threshold, and both in a real browser
(screenshots in test-artifacts/board/: model-performance.png, front-performance.png)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from andon.web.perfcharts import partition_chart
from tests.conftest import ProjectFactory
from tests.models.projects import land, training_project
from tests.models.test_performance_project import PERFORMANCE, _write
from tests.web.conftest import auth_header, running
from tests.web.test_browser import Page, browser  # noqa: F401 (a fixture)

# partition -> scores of a, b, c, d (labels 1, 0, 0, 1): auc 0.75, 1.0, then 0.5
SCORES = {"2026-01-02": (0.9, 0.2, 0.6, 0.4), "2026-01-03": (0.9, 0.1, 0.2, 0.8),
          "2026-01-04": (0.6, 0.6, 0.6, 0.6)}


def test_partition_chart_geometry() -> None:
    ch = partition_chart("auc", [("d2", 0.5, 2), ("d1", 0.9, 1)], 0.7, width=110, height=50)
    assert [d.partition for d in ch.dots] == ["d1", "d2"] and ch.path == "M36.0,8.0 L100.0,28.0"
    assert [d.low for d in ch.dots] == [False, True]  # 0.5 is under the floor 0.7
    assert ch.threshold_y == 18.0 and ch.threshold == "0.7"
    assert [(c.x, c.version) for c in ch.changes] == [(100.0, 2)]
    assert partition_chart("rmse", [("d1", 2.0, 0)], 1.5).dots[0].low  # a ceiling for errors
    assert partition_chart("auc", [("d1", 0.8, 0)]).threshold_y is None


def served_performance(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    """Model ``churn``: version 1 serving for the first two partitions of scores, version 2
    for the third (whose auc falls under its threshold 0.7); labels for all three."""
    root = training_project(make_project, pipelines=PERFORMANCE)
    land(root, "2026-01-01", metrics={"auc": 0.8})
    land(root, "2026-01-02", metrics={"auc": 0.9})
    for day, (a, b, c, d) in SCORES.items():
        _write(root, "features", day, f"customer_id,p\na,{a}\nb,{b}\nc,{c}\nd,{d}\n")
        _write(root, "bought", day, "customer_id,bought\na,1\nb,0\nc,0\nd,1\n")
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()

        def post(path: str, body: dict[str, object]) -> None:
            r = client.post(path, json=body, headers=auth_header(line))
            assert r.status_code == 201, r.text
            assert line.runner.drain()

        post("/api/v1/notify", {"asset": "raw", "partition": "2026-01-01"})
        post("/api/v1/models/churn/promote", {"version": 1})
        for day in SCORES:
            if day == "2026-01-04":
                post("/api/v1/notify", {"asset": "raw", "partition": "2026-01-02"})
                post("/api/v1/models/churn/promote", {"version": 2})
            post("/api/v1/notify", {"asset": "features", "partition": day})
            post("/api/v1/notify", {"asset": "bought", "partition": day})
        yield line, client


served = pytest.fixture(served_performance)


def test_model_page_charts_realised_performance(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    api = client.get("/api/v1/models/churn").json()
    auc = [(p["partition"], p["value"], p["version"]) for p in api["performance"]
           if p["metric"] == "auc"]
    assert auc == [("2026-01-02", 0.75, 1), ("2026-01-03", 1.0, 1), ("2026-01-04", 0.5, 2)]
    page = client.get("/catalog/model/churn").text
    assert re.findall(r'data-realised="([^"]+)"', page) == ["auc", "accuracy"]
    fig = page.split('data-realised="auc"')[1].split("</figure>")[0]
    assert '<line class="threshold" data-threshold="0.7"' in fig
    assert '<line class="version-change" data-version="2"' in fig
    assert "version 2 serving from 2026-01-04 (was 1)" in fig
    assert re.findall(r'<circle class="realised past" data-partition="([^"]+)"', fig) == \
        ["2026-01-04"]
    assert "2026-01-04: auc 0.5 (version 2 serving), past the threshold 0.7" in fig


def test_board_shows_the_latest_value_against_its_threshold(
        served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    page = client.get("/").text
    row = page.split('data-model="churn"')[1].split("</tr>")[0]
    assert "version 2" in row
    realised = row.split('class="realised"')[1]
    assert '<span class="realised-past" data-realised="auc"><span class="meta">auc</span> 0.5 ' \
           '<span class="meta">/ 0.7</span>' in realised
    assert '<span class="" data-realised="accuracy">' in realised  # no threshold: no colour
    assert "(2026-01-04)" in realised


def test_realised_performance_in_a_browser(  # noqa: F811
        browser, served: tuple[Line, httpx.Client]) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    line, _ = served
    tab = Page(browser, line)
    page = tab.page
    page.goto(line.url + "/catalog/model/churn")
    fig = 'figure[data-realised="auc"]'
    assert page.get_attribute(f"{fig} line.threshold", "data-threshold") == "0.7"
    past = page.eval_on_selector_all(f"{fig} circle.past", "els => els.map(e => "
                                     "[e.dataset.partition, getComputedStyle(e).fill])")
    assert past == [["2026-01-04", "rgb(196, 35, 27)"]]  # red: var(--red)
    threshold_y = float(page.get_attribute(f"{fig} line.threshold", "y1") or 0)
    ys = page.eval_on_selector_all(f"{fig} circle.realised",
                                   "els => els.map(e => Number(e.getAttribute('cy')))")
    assert ys[2] > threshold_y > ys[0]  # under the line on screen (svg y grows downwards)
    box = page.locator(f"{fig} svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    tab.shot("model-performance")
    page = tab.open("/")
    assert page.inner_text('#models tr[data-model="churn"] .realised-past') .startswith("auc")
    tab.shot("front-performance")
    assert tab.errors == []
    tab.close()
