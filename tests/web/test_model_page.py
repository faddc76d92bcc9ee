"""A model on the board: its page charts each metric over its versions (a dot per version, the
serving one marked, a line per promotion, dashed for a rollback), and the front board lists
each serving model with its serving version's metrics. A real server and a project whose
training pipeline logs metrics (tests/models/projects.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from andon.web.charts import Marker, VersionDot, version_chart
from tests.conftest import ProjectFactory
from tests.models.projects import land, training_project
from tests.web.conftest import auth_header, running

DAYS = ("2026-01-02", "2026-01-03", "2026-01-04")
HOSTILE = '<script id="inj-reason">window.pwned = 1</script> auc fell'


def test_version_chart_geometry() -> None:
    ch = version_chart("auc", [(2, 0.9), (1, 0.8)], (1, 3), serving=2,
                       promotions=[(1, False, "andon", "auto"), (2, True, "bob", "<b>x</b>"),
                                   (5, False, "", "")], width=110, height=50)
    assert ch.path == "M36.0,28.0 L68.0,8.0"
    assert ch.dots == [VersionDot(36.0, 28.0, 1, 0.8, False, "version 1: auc 0.8"),
                       VersionDot(68.0, 8.0, 2, 0.9, True, "version 2: auc 0.9 (serving)")]
    assert ch.markers == [Marker(36.0, 1, False, "promoted version 1 by andon: auto"),
                          Marker(68.0, 2, True, "rolled back to version 2 by bob: <b>x</b>")]
    assert (ch.low, ch.high, ch.first, ch.last, ch.top, ch.bottom) == ("0.8", "0.9", 1, 3,
                                                                       8.0, 28.0)


def test_version_chart_one_version() -> None:
    ch = version_chart("loss", [(4, 1.5)], (4, 4), width=110, height=50)
    assert ch.dots == [VersionDot(68.0, 18.0, 4, 1.5, False, "version 4: loss 1.5")]
    assert ch.path == "M68.0,18.0" and ch.markers == [] and (ch.low, ch.high) == ("0.5", "2.5")


def served_model(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    """Three versions of ``churn`` (manual deploy) logging auc and loss (the second without
    loss) and ten more metrics in the third; version 1 promoted, then 3, then rolled back
    with a reason carrying markup."""
    root = training_project(make_project)
    extra = {f"m{i:02d}": i / 10 for i in range(10)}
    given = [{"auc": 0.71, "loss": 0.6}, {"auc": 0.78}, {"auc": 0.83, "loss": 0.4, **extra}]
    for day, metrics in zip(DAYS, given, strict=True):
        land(root, day, metrics=metrics)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()
        for day in DAYS:
            assert client.post("/api/v1/notify", json={"asset": "raw", "partition": day},
                               headers=auth_header(line)).status_code == 201
            assert line.runner.drain()
        for path, body in (("promote", {"version": 1, "reason": "first"}),
                           ("promote", {"version": 3, "reason": "better auc"}),
                           ("rollback", {"reason": HOSTILE})):
            r = client.post(f"/api/v1/models/churn/{path}", json=body, headers=auth_header(line))
            assert r.status_code == 201, r.text
        assert line.runner.drain()
        yield line, client


served = pytest.fixture(served_model)


def test_model_page_charts(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    page = client.get("/catalog/model/churn").text
    figures = re.findall(r'<figure class="chart" data-metric="([^"]+)">', page)
    assert figures == ["auc", "loss", "m00", "m01", "m02", "m03", "m04", "m05"]  # 8 charted
    assert 'id="more-metrics">also logged: m06, m07, m08, m09<' in page
    auc = page.split('data-metric="auc"')[1].split("</figure>")[0]
    assert "<title>auc over versions 1 to 3</title>" in auc
    assert len(re.findall(r"<circle ", auc)) == 3
    assert '<circle class="serving" data-version="1"' in auc  # rolled back to 1
    assert "<title>version 3: auc 0.83</title>" in auc
    assert "<title>version 1: auc 0.71 (serving)</title>" in auc
    assert auc.count('<line class="promotion"') == 2 and auc.count('<line class="rollback"') == 1
    assert "<title>promoted version 3 by" in auc
    loss = page.split('data-metric="loss"')[1].split("</figure>")[0]
    assert len(re.findall(r"<circle ", loss)) == 2  # version 2 logged no loss


def test_board_models_panel(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    page = client.get("/").text
    panel = page.split('<section id="models"')[1].split("</section>")[0]
    row = panel.split('data-model="churn"')[1].split("</tr>")[0]
    assert '<a href="/catalog/model/churn">churn</a>' in row
    assert "version 1" in row and "manual" in row
    assert '<span class="meta">auc</span> 0.71' in row and "0.6" in row


def test_board_without_models(make_project: ProjectFactory) -> None:
    with running(make_project('import andon\nandon.source("raw")\n')) as line:
        page = httpx.get(line.url + "/", timeout=30).text
    assert 'id="models"' not in page
