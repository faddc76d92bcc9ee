"""Realised performance in a real project under a real ``andon up``: predictions land, labels
land a day later, and only then does the performance pipeline run; its metrics show in
``andon model show --json`` and the API with the version that was serving. A bad labels
partition fails its run only; the scheduler goes on. A name taken by a pipeline fails the load."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

from tests.cli.test_commands import _wait_for, andon, andon_up
from tests.conftest import ProjectFactory
from tests.models.projects import TRAINING, land, training_project

PERFORMANCE = TRAINING + """
    andon.source("features")
    andon.source("bought")

    @andon.pipeline(inputs=["features"], outputs=["scores"],
                    locations={"scores": "data/{asset}/{partition}.csv"})
    def score(ctx):
        ctx.output("scores").write_text(ctx.inputs["features"].read_text())

    andon.performance("churn", predictions="scores", labels="bought", metric=["auc", "accuracy"],
                      key="customer_id", prediction="p", label="bought", threshold={"auc": 0.7})
"""


def _write(root: Path, asset: str, day: str, text: str) -> None:
    path = root / "data" / asset / day
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _model(root: Path) -> dict:  # type: ignore[type-arg]
    return json.loads(andon(root, "model", "show", "churn", "--json").stdout)


def _runs(root: Path) -> list[dict]:  # type: ignore[type-arg]
    return list(json.loads(andon(root, "runs", "--json").stdout))


def test_performance_runs_when_the_labels_land(make_project: ProjectFactory) -> None:
    root = training_project(make_project, pipelines=PERFORMANCE)
    land(root, "2026-01-02", metrics={"auc": 0.8})
    _write(root, "features", "2026-01-02",
           "customer_id,p\na,0.9\nb,0.2\nc,0.6\nd,0.4\n")
    _write(root, "bought", "2026-01-02", "customer_id,bought\na,1\nb,0\nc,0\nd,1\n")
    _write(root, "features", "2026-01-03", "customer_id,p\na,0.9\nb,0.2\n")
    _write(root, "bought", "2026-01-03", "customer_id,bought\na,1\nb,yes\n")
    with andon_up(root, "--executor", "inprocess"):
        andon(root, "notify", "raw", "2026-01-02")
        _wait_for(lambda: _model(root)["version_count"] == 1)
        andon(root, "model", "promote", "churn", "1")
        andon(root, "notify", "features", "2026-01-02")
        _wait_for(lambda: any(r["pipeline"] == "score" and r["status"] == "succeeded"
                              for r in _runs(root)))
        assert not any(r["pipeline"] == "churn_performance" for r in _runs(root))
        assert _model(root)["performance"] == []  # no labels yet: nothing measured
        andon(root, "notify", "bought", "2026-01-02")  # a day later, the labels
        _wait_for(lambda: _model(root)["performance"] != [])
        shown = _model(root)
        values = {p["metric"]: p for p in shown["performance"]}
        assert values["auc"] == {"partition": "2026-01-02", "metric": "auc", "value": 0.75,
                                 "version": 1}
        assert values["accuracy"]["value"] == 0.5 and values["rows"]["value"] == 4
        assert shown["threshold"] == {"auc": 0.7}
        assert shown["performance_pipeline"] == "churn_performance"
        text = andon(root, "model", "show", "churn").stdout
        assert "realised performance (churn_performance)" in text
        assert "2026-01-02  v1  auc=0.75 accuracy=0.5" in text and "threshold: auc=0.7" in text

        base = json.loads((root / ".andon/server.json").read_text())["url"].rstrip("/")
        url = f"{base}/api/v1/models/churn"
        with urllib.request.urlopen(url) as answer:
            api = json.loads(answer.read())
        assert api["performance"] == shown["performance"] and api["threshold"] == {"auc": 0.7}

        # a label that is no number fails that run, naming it; the scheduler goes on
        andon(root, "notify", "features", "2026-01-03")
        andon(root, "notify", "bought", "2026-01-03")
        _wait_for(lambda: any(r["pipeline"] == "churn_performance" and r["status"] == "failed"
                              for r in _runs(root)))
        failed = next(r for r in _runs(root) if r["pipeline"] == "churn_performance"
                      and r["status"] == "failed")
        assert failed["partition"] == "2026-01-03"
        status = andon(root, "status", check=False).stdout
        assert "model 'churn', partition 2026-01-03: bought column 'bought', row 3: 'yes' is " \
               "not a number" in status
        assert len(_model(root)["performance"]) == 3  # the scheduler still answers


def test_a_taken_name_fails_the_load(make_project: ProjectFactory) -> None:
    root = training_project(make_project, pipelines=PERFORMANCE + """
    @andon.pipeline(inputs=["scores"], outputs=["x"])
    def churn_performance(ctx):
        pass
""")
    done = andon(root, "validate", check=False)
    assert done.returncode == 2
    assert "derives the pipeline 'churn_performance', but pipeline 'churn_performance'" in \
        done.stderr
    assert "pass name='...' to andon.performance(...)" in done.stderr
