"""Hostile input to models: metrics that are NaN, infinite or no number, a 10 kB parameter,
1,000 metrics, names that are no identifiers (each fails that run, naming the metric, through a
real process); a deploy policy that is no policy, or on what is no model (`andon validate`:
exit 2 with the file and line); reasons with control characters or too long, versions that are
no integer, unknown versions, impossible names, over the API. Nothing is recorded."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.events import RunFailed, RunSucceeded
from andon.executors.context import Context, Outputs
from andon.live.clock import FakeClock
from andon.model.metrics import MAX_METRICS, MAX_PARAM_VALUE, MAX_PARAMS, MetricProblem
from andon.serve.up import Line
from tests.conftest import ProjectFactory, utc
from tests.hostile.test_definitions import validate
from tests.models.projects import catalog, land, training_project
from tests.runner.harness import open_live
from tests.web.conftest import auth_header, running


def _ctx() -> Context:
    return Context("r", "2026-01-02", 1, Path("."), {}, Outputs(), logging.getLogger("t"))


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), "0.9", None,
                                   True, [1.0], 10 ** 400])
def test_a_metric_that_is_no_finite_number_is_refused(value: object) -> None:
    ctx = _ctx()
    with pytest.raises(MetricProblem, match="metric 'auc'"):
        ctx.log_metric("auc", value)  # type: ignore[arg-type]
    assert ctx.metrics == {}


@pytest.mark.parametrize("name", ["", "a b", "x" * 129, "../etc", "\x1b[31m", 7])
def test_a_name_that_is_no_identifier_is_refused(name: object) -> None:
    ctx = _ctx()
    with pytest.raises(MetricProblem, match="not an identifier|longer than|not a string"):
        ctx.log_metric(name, 1.0)  # type: ignore[arg-type]
    with pytest.raises(MetricProblem):
        ctx.log_params({name: "x"})  # type: ignore[dict-item]


def test_the_counts_and_lengths_are_capped() -> None:
    ctx = _ctx()
    for i in range(MAX_METRICS):
        ctx.log_metric(f"m{i}", i)
    ctx.log_metric("m0", 5.0)  # logging one again replaces it: not one more
    with pytest.raises(MetricProblem, match=f"'m{MAX_METRICS}' is one too many"):
        ctx.log_metric(f"m{MAX_METRICS}", 1.0)
    ctx.log_params({f"p{i}": i for i in range(MAX_PARAMS)})
    with pytest.raises(MetricProblem, match="one too many"):
        ctx.log_params(extra=1)
    with pytest.raises(MetricProblem, match=f"more than {MAX_PARAM_VALUE}"):
        _ctx().log_params(notes="x" * 10_000)


HOSTILE = """
    import json
    import andon

    andon.source("raw")

    @andon.pipeline(inputs=["raw"], outputs=["model"], models=["churn"])
    def train(ctx):
        how = ctx.inputs["raw"].read_text()
        if how == "many":
            for i in range(1000):
                ctx.log_metric(f"m{i}", i)
        elif how == "long":
            ctx.log_params(notes="x" * 10_000)
        elif how == "inf":
            ctx.log_metric("loss", float("inf"))
        ctx.output("model").write_text("w")
"""


@pytest.mark.parametrize("executor", ["inprocess", "local"])
def test_a_hostile_run_fails_alone(make_project: ProjectFactory, executor: str) -> None:
    root = training_project(make_project, pipelines=HOSTILE)
    days = {"2026-01-02": "many", "2026-01-03": "long", "2026-01-04": "inf", "2026-01-05": "ok"}
    for day, how in days.items():
        (root / "data/raw").mkdir(parents=True, exist_ok=True)
        (root / "data/raw" / day).write_text(how)
    live = open_live(root, FakeClock(utc(2026, 1, 10)), executor=executor)
    try:
        for day in days:
            live.notify("raw", day)
        live.wait_for(lambda log: sum(isinstance(e, (RunSucceeded, RunFailed))
                                      for e in log) >= 4, "four runs ending")
        failed = {e.partition: e.error_message for e in live.log if isinstance(e, RunFailed)}
        assert "'m200' is one too many" in failed["2026-01-02"]
        assert "parameter 'notes' is 10000 characters" in failed["2026-01-03"]
        assert "metric 'loss' is inf" in failed["2026-01-04"]
        assert live.runner.alive() and "2026-01-05" not in failed
        assert live.service.models.show("churn").version_count == 1
    finally:
        live.close()


@pytest.mark.parametrize("extra,message", [
    ('deploy = "sometimes"\n', "deploy = 'sometimes' is not a model's deploy policy"),
    ("deploy = 1\n", "deploy = 1 is not"),
    ('deploy = ["auto"]\n', "is not a model's deploy policy"),
])
def test_a_deploy_that_is_no_policy_is_refused(make_project: ProjectFactory, extra: str,
                                               message: str) -> None:
    root = make_project('import andon\nandon.source("raw")\n')
    (root / "catalog.toml").write_text("# models\n\n" + catalog().replace(
        'deploy = "manual"\n', extra))
    text = validate(root)
    assert message in text and "catalog.toml:3" in text and 'deploy = \\"auto\\"' not in text


def test_deploy_on_what_is_no_model_is_refused(make_project: ProjectFactory) -> None:
    root = make_project('import andon\nandon.source("raw")\n'
                        'andon.catalog("service", "api", owner="x@example.com", deploy="auto")\n')
    text = validate(root)
    assert "entry 'api' (service): deploy = 'auto' is not a model's deploy policy" in text
    assert "pipelines.py:3" in text


@pytest.fixture
def served(make_project: ProjectFactory) -> Iterator[tuple[Line, httpx.Client]]:
    root = training_project(make_project)
    land(root, "2026-01-02", metrics={"auc": 0.8})
    with running(root) as line, httpx.Client(base_url=line.url, timeout=30) as client:
        assert client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-02"},
                           headers=auth_header(line)).status_code == 201
        assert line.runner.drain()
        yield line, client


@pytest.mark.parametrize("body,field", [
    ({"version": 1, "reason": "bad\x1b[31m red"}, "reason"),
    ({"version": 1, "reason": "line\nbreak"}, "reason"),
    ({"version": 1, "reason": "x" * 501}, "reason"),
    ({"version": "1"}, "version"),
    ({"version": True}, "version"),
    ({"version": 1.5}, "version"),
    ({}, "version"),
    ({"version": 1, "by": "someone else"}, "by"),
])
def test_a_bad_promotion_is_422_naming_the_field(served: tuple[Line, httpx.Client],
                                                 body: dict[str, object], field: str) -> None:
    line, client = served
    r = client.post("/api/v1/models/churn/promote", json=body, headers=auth_header(line))
    assert r.status_code == 422 and r.json()["field"] == field, r.text
    assert client.get("/api/v1/models/churn").json()["promotions"] == []


@pytest.mark.parametrize("version", [0, -1, 2, 2 ** 53 - 1])
def test_an_unknown_version_is_404(served: tuple[Line, httpx.Client], version: int) -> None:
    line, client = served
    r = client.post("/api/v1/models/churn/promote", json={"version": version},
                    headers=auth_header(line))
    assert r.status_code == 404, r.text
    assert client.get("/api/v1/models/churn").json()["promotions"] == []


@pytest.mark.parametrize("name", ["a%01b", "%1b%5B31m", "x" * 10_000, "%00"])
def test_an_impossible_name_is_404(served: tuple[Line, httpx.Client], name: str) -> None:
    line, client = served
    for r in (client.get(f"/api/v1/models/{name}"),
              client.post(f"/api/v1/models/{name}/promote", json={"version": 1},
                          headers=auth_header(line))):
        assert r.status_code == 404, r.text
        assert len(r.text) < 2000 and "\x1b" not in r.text and "\x00" not in r.text


def test_the_api_declares_no_deploy_policy(served: tuple[Line, httpx.Client]) -> None:
    line, client = served
    r = client.post("/api/v1/catalog/entries", headers=auth_header(line), json={
        "kind": "model", "name": "elsewhere", "owner": "x@example.com", "deploy": "auto"})
    assert r.status_code == 422 and r.json()["field"] == "deploy", r.text
