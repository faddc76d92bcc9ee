"""The openlineage-python client as the OpenLineage transport (``openlineage_transport =
'client'``, extra ``andon[lineage]``): the same documents as the built-in sender, through the
client, to a real local endpoint; the client reads every document andon builds; a missing extra
stops the start with the fix."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openlineage.client.event_v2 import RunEvent
from openlineage.client.serde import Serde

from andon.events import OutputWritten, PartitionRef, RunFailed, RunStarted, RunSucceeded
from andon.lineage.client import client_event
from andon.lineage.emitter import SCHEMA, run_event, run_uuid
from andon.model.errors import ConfigError
from andon.project.load import load_project
from andon.project.settings import resolve
from andon.serve.up import open_line
from tests.conftest import ProjectFactory
from tests.lineage.conftest import PIPELINES, Endpoint, wait

# facets the client adds by itself (its version as a run tag; the git checkout it runs in;
# environment variables its configuration names): everything else must be andon's document
CLIENT_FACETS = {"tags", "sourceCodeLocation", "environmentVariables"}


def andons_part(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` without what the client adds of its own accord."""
    doc = json.loads(json.dumps(doc))
    doc["run"]["facets"] = {k: v for k, v in doc["run"]["facets"].items()
                            if k not in CLIENT_FACETS}
    job_facets = {k: v for k, v in doc["job"].pop("facets", {}).items() if k not in CLIENT_FACETS}
    if job_facets:
        doc["job"]["facets"] = job_facets
    return doc


def run_line(root: Path, settings: dict[str, Any], endpoint: Endpoint) -> None:
    """Start a line on the project at ``root``, let raw arrive (clean succeeds, broken fails)
    and stop once the endpoint has the four events."""
    project = load_project(root)
    line = open_line(project, resolve(root, {"executor": "inprocess", **settings}, {},
                                      project.settings_table))
    try:
        raw = root / "data/raw/2026-01-05.csv"
        raw.parent.mkdir(parents=True)
        raw.write_text("a\n1\n")
        line.runner.submit(line.service.notify("raw", "2026-01-05", line.clock.now())).result(10)
        wait(lambda: len(endpoint.received) >= 4)
    finally:
        line.close()


def test_the_client_sends_the_built_in_documents(make_project: ProjectFactory,
                                                 endpoint: Endpoint) -> None:
    root = make_project(PIPELINES)
    run_line(root, {"openlineage_transport": "client", "openlineage_url": endpoint.url,
                    "openlineage_file": "lineage.jsonl", "openlineage_namespace": "retail"},
             endpoint)
    received = endpoint.received
    assert endpoint.paths == ["/api/v1/lineage"] * 4  # openlineage_url as given, nothing appended
    assert [(d["job"]["name"], d["eventType"]) for d in received] == [
        ("clean", "START"), ("clean", "COMPLETE"), ("broken", "START"), ("broken", "FAIL")]
    start, complete, _, fail = received
    assert complete["job"]["namespace"] == "retail"
    andon_run = complete["run"]["facets"]["andon"]["runId"]
    assert complete["run"]["runId"] == start["run"]["runId"] == run_uuid(andon_run)
    assert [(i["name"], i["facets"]["partition"]["key"]) for i in complete["inputs"]] == [
        ("raw", "2026-01-05")]
    assert [(o["name"], o["facets"]["partition"]["key"]) for o in complete["outputs"]] == [
        ("clean", "2026-01-05")]
    assert [i["name"] for i in fail["inputs"]] == ["clean"] and fail["outputs"] == []
    assert fail["run"]["facets"]["errorMessage"]["message"] == "ValueError: bad input"
    # sent by the client's HTTP library, not by the built-in sender's urllib
    assert not [h for h in endpoint.headers if "urllib" in h["user-agent"]]
    # the file holds andon's own documents, exactly what the built-in sender POSTs
    # (test_openlineage.py): through the client they arrive the same
    built_in = [json.loads(x) for x in (root / "lineage.jsonl").read_text().splitlines()]
    assert [andons_part(d) for d in received] == built_in


def test_the_client_configured_its_own_way_sends_with_auth(
        make_project: ProjectFactory, endpoint: Endpoint, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    base = endpoint.url.removesuffix("/api/v1/lineage")
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  type: http\n  url: {base}\n  endpoint: api/v1/lineage\n"
                      f"  auth:\n    type: api_key\n    apiKey: s3cret\n")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))  # the client's own variable
    run_line(make_project(PIPELINES), {"openlineage_transport": "client"}, endpoint)
    assert [d["eventType"] for d in endpoint.received] == ["START", "COMPLETE", "START", "FAIL"]
    assert endpoint.paths == ["/api/v1/lineage"] * 4
    assert {h.get("authorization") for h in endpoint.headers} == {"Bearer s3cret"}


def test_the_client_reads_every_document_andon_builds() -> None:
    at = datetime(2026, 1, 5, 6, 7, 8, 123456, tzinfo=UTC)
    ins = (PartitionRef("raw", "2026-01-05"), PartitionRef("prices", "2026-01-04"))
    docs = [run_event(RunStarted(at=at, run_id="clean-1", pipeline="clean",
                                 partition="2026-01-05"), "retail", ins),
            run_event(RunSucceeded(at=at, run_id="clean-1", pipeline="clean",
                                   partition="2026-01-05", attempt=2, inputs=ins,
                                   outputs=(OutputWritten("clean", "2026-01-05"),
                                            OutputWritten("report", "2026-01-05"))), "retail"),
            run_event(RunFailed(at=at, run_id="clean-2", pipeline="clean", partition="2026-01-06",
                                error_type="ValueError", error_message="bad input",
                                inputs=ins), "retail")]
    for doc in docs:
        event = client_event(doc)  # the client's validators: times, the run UUID, the facets
        assert isinstance(event, RunEvent) and event.schemaURL == SCHEMA
        assert Serde.to_dict(event) == doc
        assert json.loads(Serde.to_json(event)) == doc
    assert [d["eventType"] for d in docs] == ["START", "COMPLETE", "FAIL"]
    assert [len(d["inputs"]) for d in docs] == [2, 2, 2]
    assert [len(d["outputs"]) for d in docs] == [0, 2, 0]
    assert str(uuid.UUID(docs[0]["run"]["runId"])) == docs[0]["run"]["runId"]

    bad = json.loads(json.dumps(docs[0]))
    bad["run"]["runId"] = "clean-1"
    with pytest.raises(ValueError):  # not a UUID: the client refuses it
        client_event(bad)
    bad = json.loads(json.dumps(docs[0]))
    bad["run"]["facets"]["unknown"] = {"_producer": "x", "_schemaURL": "y"}
    with pytest.raises(ValueError, match="no client class for the OpenLineage facet 'unknown'"):
        client_event(bad)


def test_without_the_extra_the_client_transport_stops_the_start(
        make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(PIPELINES)
    project = load_project(root)
    with pytest.raises(ConfigError, match="openlineage_transport 'nowhere' is not known"):
        resolve(root, {"openlineage_transport": "nowhere"}, {}, project.settings_table)
    settings = resolve(root, {"executor": "inprocess", "openlineage_transport": "client"},
                       {}, project.settings_table)
    # as if openlineage-python were not installed: None in sys.modules makes its import fail
    monkeypatch.delitem(sys.modules, "andon.lineage.client", raising=False)
    for name in [m for m in sys.modules if m == "openlineage" or m.startswith("openlineage.")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "openlineage", None)
    with pytest.raises(ConfigError) as missing:
        open_line(project, settings)
    assert "openlineage_transport 'client' needs the openlineage-python client" in str(missing.value)
    assert "pip install 'andon[lineage]'" in missing.value.hint
    # the failed start let go of the scheduler lock: the built-in transport starts
    builtin = resolve(root, {"executor": "inprocess"}, {}, project.settings_table)
    open_line(project, builtin).close()


def test_the_core_does_not_import_the_client() -> None:
    code = ("import sys, andon.serve.up, andon.lineage.emitter; "
            "from andon.cli import main; "  # the group and every command module
            "print(sorted(m for m in sys.modules if m.startswith(('openlineage', 'attr'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
