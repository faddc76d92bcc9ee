"""The models' API on a served project (``andon up`` wired as in production, the automatic
promotions included): listing, one model, promote and rollback with their roles, 404 with a
did-you-mean, and the model's entry page."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from tests.conftest import ProjectFactory
from tests.models.projects import land, training_project
from tests.web.conftest import auth_header, running


@pytest.fixture
def served(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    root = training_project(make_project, deploy="auto")
    for day, auc in (("2026-01-02", 0.8), ("2026-01-03", 0.9)):
        land(root, day, metrics={"auc": auc})
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        line.service.catalog.wait()
        for day in ("2026-01-02", "2026-01-03"):
            assert client.post("/api/v1/notify", json={"asset": "raw", "partition": day},
                               headers=auth_header(line)).status_code == 201
            assert line.runner.drain()
            # the automatic promotion is decided off the runner thread, then recorded
            assert line.promoter is not None and line.promoter.wait(30)
        assert line.runner.drain()
        yield line, client


def test_models_over_http(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    listing = client.get("/api/v1/models").json()["models"]
    assert listing == [{"name": "churn", "owner": "ml@example.com", "producer": "train",
                        "deploy": "auto", "versions": 2, "latest": 2, "serving": 2}]
    model = client.get("/api/v1/models/churn").json()
    assert [v["metrics"] for v in model["versions"]] == [{"auc": 0.9}, {"auc": 0.8}]
    assert [(p["version"], p["by"], p["reason"]) for p in model["promotions"]] == [
        (1, "andon", "auto"), (2, "andon", "auto")]
    assert model["rollback_to"] == 1

    viewer = auth_header(line, "viewer")
    assert client.post("/api/v1/models/churn/rollback", json={},
                       headers=viewer).status_code == 403
    r = client.post("/api/v1/models/churn/rollback", json={"reason": "auc fell in prod"},
                    headers=auth_header(line))
    assert r.status_code == 201, r.text
    assert r.json() | {"id": ""} == {"model": "churn", "version": 1, "previous": 2,
                                     "run_id": model["versions"][1]["run_id"],
                                     "rollback": True, "id": "", "recorded": True}
    r = client.post("/api/v1/models/churn/promote", json={"version": 2, "reason": "fixed"},
                    headers=auth_header(line))
    assert r.status_code == 201 and r.json()["previous"] == 1
    assert client.get("/api/v1/models/churn").json()["serving"] == 2

    page = client.get("/catalog/model/churn")
    assert page.status_code == 200
    assert "serving <strong>version 2</strong>" in page.text and "auc fell in prod" in page.text
    assert 'class="serving"' in page.text and "0.9" in page.text


@pytest.mark.parametrize("path,body", [
    ("/api/v1/models/chrun", None),
    ("/api/v1/models/chrun/promote", {"version": 1}),
    ("/api/v1/models/chrun/rollback", {}),
])
def test_an_unknown_model_is_404_with_a_suggestion(served: tuple[Line, httpx.Client], path: str,
                                                   body: dict[str, object] | None) -> None:
    line, client = served
    r = (client.get(path) if body is None
         else client.post(path, json=body, headers=auth_header(line)))
    assert r.status_code == 404 and "did you mean 'churn'" in r.json()["hint"], r.text


def test_an_unknown_version_is_404(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    r = client.post("/api/v1/models/churn/promote", json={"version": 7},
                    headers=auth_header(line))
    assert r.status_code == 404 and "1 to 2" in r.json()["hint"]
    r = client.post("/api/v1/models/churn/promote", json={"version": 2},
                    headers=auth_header(line))
    assert r.status_code == 409  # serving already
