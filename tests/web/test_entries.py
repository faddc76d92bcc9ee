"""Every entry of the catalog has its page: ``GET /api/v1/catalog/{kind}/{name}`` and the board's
``/catalog/{kind}/{name}`` (``/assets/{name}`` for a data set of the definitions), on a real
server whose runs really read and make data: consumers declared and observed (a declared one
that has not read for 30 days by the service's clock marked), a model's versions, who uses a
service, a pipeline's relations and runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from andon.live.clock import FakeClock
from andon.serve.up import Line
from tests.catalog.test_declared import GOOD as CATALOG
from tests.conftest import ProjectFactory
from tests.web.conftest import running

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv", owner="ingest@example.com")
andon.catalog(kind="library", name="pricing", owner="core@example.com",
              links={"code": "https://git.example.com/pricing", "bad": "javascript:alert(1)"})

@andon.pipeline(inputs=["raw"], outputs=["features"], uses=["orders-api", "pricing"])
def featurize(ctx):
    ctx.output("features").write_text("f\\n")

@andon.pipeline(inputs=["features"], outputs=["model"], models=["churn"], owner="ml@example.com")
def train(ctx):
    ctx.output("model").write_text(ctx.partition + "\\n")

@andon.pipeline(inputs=["raw"], outputs=["audit"])
def audit(ctx):
    ctx.output("audit").write_text("a\\n")
"""
DAYS = ("2026-01-05", "2026-01-06")
T0 = datetime(2026, 1, 7, 12, tzinfo=UTC)


@contextmanager
def served(make_project: ProjectFactory, catalog: str) -> Iterator[Line]:
    """The project above with ``catalog`` as its catalog.toml, served on a fake clock, its two
    days of data made."""
    root = make_project(PIPELINES, start="2026-01-05", end='"2026-01-06"')
    (root / "catalog.toml").write_text(catalog)
    with running(root, clock=FakeClock(T0)) as line:
        for key in DAYS:
            path = root / f"data/raw/{key}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"a\n{key}\n")
            line.runner.submit(line.service.notify("raw", key, line.clock.now())).result(10)
        assert line.runner.drain()
        yield line


@pytest.fixture
def line(make_project: ProjectFactory) -> Iterator[Line]:
    with served(make_project, CATALOG) as line:
        yield line


def get(line: Line, path: str, status: int = 200) -> Any:
    answer = httpx.get(line.url + path, timeout=10)
    assert answer.status_code == status, answer.text
    return answer.json() if path.startswith("/api/") else answer


def test_a_data_sets_consumers_declared_observed_and_external(line: Line) -> None:
    raw = get(line, "/api/v1/catalog/dataset/raw")
    assert (raw["kind"], raw["name"], raw["owner"], raw["url"]) == \
        ("dataset", "raw", "ingest@example.com", "/assets/raw")
    consumers = raw["consumers"]
    assert [d["pipeline"] for d in consumers["declared"]] == ["featurize", "audit"]
    assert not any(d["stale"] for d in consumers["declared"])
    observed = {o["pipeline"]: o for o in consumers["observed"]}
    assert set(observed) == {"featurize", "audit"}
    assert observed["featurize"]["runs"] == 2 and observed["featurize"]["last_partition"] == \
        "2026-01-06"
    assert consumers["external"] == [] and consumers["stale_after_days"] == 30
    assert raw["freshness"]["newest"] == "2026-01-06"
    features = get(line, "/api/v1/catalog/dataset/features")
    assert features["producer"] == "featurize" and features["upstream"] == ["featurize"]
    assert [d["pipeline"] for d in features["consumers"]["declared"]] == ["train"]


def test_a_declared_consumer_that_has_not_read_for_30_days_is_marked(line: Line) -> None:
    assert isinstance(line.clock, FakeClock)
    last = get(line, "/api/v1/catalog/dataset/raw")["consumers"]["declared"][0]["last_read_at"]
    line.clock.set(datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(days=29))
    declared = get(line, "/api/v1/catalog/dataset/raw")["consumers"]["declared"]
    assert [d["stale"] for d in declared] == [False, False]
    line.clock.advance(timedelta(days=1, seconds=1))
    declared = get(line, "/api/v1/catalog/dataset/raw")["consumers"]["declared"]
    assert [d["stale"] for d in declared] == [True, True]
    page = get(line, "/assets/raw").text
    assert 'class="pill amber stale"' in page and "no read in 30 days" in page


def test_a_model_lists_its_versions_and_a_service_its_users(line: Line) -> None:
    churn = get(line, "/api/v1/catalog/model/churn")
    assert (churn["producer"], churn["team"], churn["tags"], churn["lifecycle"]) == \
        ("train", "ml", ["ml", "customers"], "beta")
    assert churn["version_count"] == 2
    assert [(v["number"], v["partition"]) for v in churn["versions"]] == \
        [(2, "2026-01-06"), (1, "2026-01-05")]
    assert set(churn["versions"][0]["outputs"]) == {"model"}
    assert len(churn["versions"][0]["outputs"]["model"]) == 64  # its sha256
    api = get(line, "/api/v1/catalog/service/orders-api")
    assert (api["used_by"], api["lifecycle"], api["since"], api["access"]) == \
        (["featurize"], "deprecated", "2027-01-31",
         {"link": "https://access.example.com/orders-api", "note": "", "form": None})
    assert get(line, "/api/v1/catalog/library/pricing")["used_by"] == ["featurize"]
    pipe = get(line, "/api/v1/catalog/pipeline/featurize")
    assert (pipe["upstream"], pipe["downstream"], pipe["uses"], pipe["models"]) == \
        (["raw"], ["features"], ["orders-api", "pricing"], [])
    assert [r["partition"] for r in pipe["runs"]] == ["2026-01-06", "2026-01-05"]
    assert get(line, "/api/v1/catalog/pipeline/train")["models"] == ["churn"]
    crm = get(line, "/api/v1/catalog/dataset/crm_contacts")
    assert crm["url"] == "/catalog/dataset/crm_contacts" and crm["freshness"] is None
    assert crm["consumers"] == {"declared": [], "observed": [], "external": [],
                                "stale_after_days": 30}


def test_an_unknown_entry_is_404_with_a_suggestion_and_an_unknown_kind_422(line: Line) -> None:
    missing = get(line, "/api/v1/catalog/model/chrun", 404)
    assert missing["message"] == "no model named 'chrun' in the catalog"
    assert missing["hint"] == "did you mean 'churn'?"
    assert get(line, "/api/v1/catalog/service/churn", 404)["hint"] != "did you mean 'churn'?"
    bad = get(line, "/api/v1/catalog/modle/churn", 422)
    assert bad["where"] == "kind" and bad["hint"] == "did you mean 'model'?"
    assert get(line, "/api/v1/catalog/model/" + "x" * 5000, 404)["message"].startswith(
        "no model named 'xxx")
    assert "did you mean" in get(line, "/catalog/model/chrun", 404).text


def test_every_kind_has_its_page(line: Line) -> None:
    model = get(line, "/catalog/model/churn").text
    assert 'data-kind="model"' in model and 'data-version="2"' in model
    assert 'href="/catalog/pipeline/train"' in model
    service = get(line, "/catalog/service/orders-api").text
    assert 'href="/catalog/pipeline/featurize"' in service and "deprecated" in service
    assert 'href="https://access.example.com/orders-api"' in service
    library = get(line, "/catalog/library/pricing").text
    assert 'href="https://git.example.com/pricing"' in library
    assert 'href="javascript:' not in library  # a link that is not http(s): its label, as text
    pipeline = get(line, "/catalog/pipeline/featurize").text
    assert 'href="/catalog/service/orders-api"' in pipeline
    assert 'href="/catalog/library/pricing"' in pipeline and 'href="/assets/raw"' in pipeline
    assert get(line, "/catalog/pipeline/train").text.count('href="/catalog/model/churn"') == 1
    assert 'data-kind="dataset"' in get(line, "/catalog/dataset/crm_contacts").text
    moved = httpx.get(line.url + "/catalog/dataset/raw", timeout=10)
    assert moved.status_code == 302 and moved.headers["location"] == "/assets/raw"
    asset = get(line, "/assets/features").text
    assert 'data-consumer="train"' in asset and 'data-observed="train"' in asset
    assert 'id="freshness"' in asset and "newest partition 2026-01-06" in asset
