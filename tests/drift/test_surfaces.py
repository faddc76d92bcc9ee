"""Drift as a user reads it: ``GET /api/v1/drift/{asset}`` on a served project, the heat map on
the data set's page and on the model's page, and ``andon drift`` over HTTP and offline."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from tests.cli.test_commands import _wait_for, andon, andon_up
from tests.conftest import ProjectFactory
from tests.drift.projects import drift_project, land
from tests.web.conftest import auth_header, running

DAYS = ["2026-01-02", "2026-01-03", "2026-01-04", "2026-01-05"]


@pytest.fixture
def served(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    root = drift_project(make_project)
    for day in DAYS:
        land(root, day, mean=3.0 if day == "2026-01-05" else 0.0)
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()
        for day in DAYS:
            assert client.post("/api/v1/notify", json={"asset": "raw", "partition": day},
                               headers=auth_header(line)).status_code == 201
            assert line.runner.drain()
        assert line.runner.drain()
        assert client.post("/api/v1/models/churn/promote", json={"version": 1},
                           headers=auth_header(line)).status_code == 201
        yield line, client


def test_drift_over_http_and_on_the_pages(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    heat = client.get("/api/v1/drift/features").json()
    assert set(heat) >= {"asset", "reference", "partitions", "columns", "cells"}
    assert heat["reference"] == "training of churn (serving version 1)"
    assert heat["partitions"] == DAYS and heat["columns"] == ["spend", "orders", "plan"]
    cell = next(c for c in heat["cells"] if (c["partition"], c["column"]) ==
                ("2026-01-05", "spend"))
    assert cell["band"] == "red" and set(cell) == {"partition", "column", "psi", "js", "p",
                                                   "band"}
    one = client.get("/api/v1/drift/features", params={"partition": "2026-01-03"}).json()
    assert one["red"] is False and one["reference_partitions"] == ["2026-01-02"]
    since = client.get("/api/v1/drift/features", params={"since": "2026-01-04"}).json()
    assert since["partitions"] == ["2026-01-04", "2026-01-05"]

    page = client.get("/assets/features")
    assert page.status_code == 200
    assert 'id="drift-features"' in page.text and "PSI" in page.text
    assert page.text.count('<td class="r"') >= 1
    model = client.get("/catalog/model/churn")
    assert 'id="drift-features"' in model.text  # the data set the model trains on
    assert 'id="drift-recent"' not in model.text
    plain = client.get("/assets/raw")
    assert "drift-" not in plain.text  # not profiled: no heat map


def test_drift_api_refusals(served: tuple[Line, httpx.Client]) -> None:
    _, client = served
    r = client.get("/api/v1/drift/raw")
    assert r.status_code == 404 and "not profiled" in r.json()["message"]
    assert client.get("/api/v1/drift/featurs").json()["hint"].startswith("did you mean")
    assert client.get("/api/v1/drift/features",
                      params={"partition": "2030-01-01"}).status_code == 404
    r = client.get("/api/v1/drift/features", params={"since": "x" * 65})
    assert r.status_code == 422 and r.json()["field"] == "since"
    r = client.get("/api/v1/drift/features", params={"partition": "a\x01b"})
    assert r.status_code == 422 and r.json()["field"] == "partition"
    for hostile in ("..%2F..%2Fetc%2Fpasswd", "a%00b", "x" * 300, "%2e%2e"):
        assert client.get(f"/api/v1/drift/{hostile}").status_code == 404


def test_andon_drift_over_http_and_offline(make_project: ProjectFactory) -> None:
    root = drift_project(make_project)
    for day in DAYS[:3]:
        land(root, day, mean=3.0 if day == "2026-01-04" else 0.0)
    with andon_up(root, "--executor", "inprocess"):
        for day in DAYS[:3]:
            andon(root, "notify", "raw", day)
        _wait_for(lambda: len(json.loads(andon(root, "drift", "recent", "--json").stdout)[
            "partitions"]) == 3)
        shown = andon(root, "drift", "recent").stdout
        assert "reference: window:2" in shown and "spend" in shown and "X " in shown
    offline = json.loads(andon(root, "drift", "features", "--json").stdout)
    assert offline["partitions"] == DAYS[:3]
    one = andon(root, "drift", "features", "--partition", "2026-01-03").stdout
    assert "COLUMN" in one and "spend" in one
    bad = andon(root, "drift", "raw", check=False)
    assert bad.returncode == 2 and "not profiled" in bad.stderr
