"""OpenLineage run events from a live line: START / COMPLETE / FAIL with input and output datasets,
sent to a real local HTTP endpoint and written to a file."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import Line, open_line
from tests.conftest import ProjectFactory
from tests.lineage.conftest import PIPELINES, Endpoint, wait


def test_runs_become_openlineage_events(make_project: ProjectFactory, endpoint: Endpoint) -> None:
    url, received = endpoint.url, endpoint.received
    root = make_project(PIPELINES)
    project = load_project(root)
    settings = resolve(root, {"executor": "inprocess", "openlineage_url": url,
                              "openlineage_file": "lineage.jsonl",
                              "openlineage_namespace": "retail"}, {}, project.settings_table)
    line: Line = open_line(project, settings)
    try:
        raw = root / "data/raw/2026-01-05.csv"
        raw.parent.mkdir(parents=True)
        raw.write_text("a\n1\n")
        line.runner.submit(line.service.notify("raw", "2026-01-05", line.clock.now())).result(10)
        wait(lambda: len(received) >= 4)
    finally:
        line.close()
    kinds = [(d["job"]["name"], d["eventType"]) for d in received]
    assert kinds == [("clean", "START"), ("clean", "COMPLETE"), ("broken", "START"),
                     ("broken", "FAIL")]
    complete = received[1]
    assert complete["job"]["namespace"] == "retail"
    assert complete["inputs"][0]["name"] == "raw"
    assert complete["inputs"][0]["facets"]["partition"]["key"] == "2026-01-05"
    assert [o["name"] for o in complete["outputs"]] == ["clean"]
    assert str(uuid.UUID(complete["run"]["runId"])) == complete["run"]["runId"]
    assert complete["run"]["runId"] == received[0]["run"]["runId"]
    assert "ValueError: bad input" in received[3]["run"]["facets"]["errorMessage"]["message"]
    written = [json.loads(x) for x in Path(root / "lineage.jsonl").read_text().splitlines()]
    assert written == received
    assert {h["user-agent"].split("/")[0] for h in endpoint.headers} == {"Python-urllib"}
    assert "***" in settings.public()["openlineage_url"]
