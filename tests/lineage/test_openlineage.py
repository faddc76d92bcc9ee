"""OpenLineage run events from a live line: START / COMPLETE / FAIL with input and output datasets,
sent to a real local HTTP endpoint and written to a file."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from andon.project import load_project
from andon.settings import resolve
from andon.up import Line, open_line
from tests.conftest import ProjectFactory

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")


@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    ctx.output("clean").write_text("ok\\n")


@andon.pipeline(inputs=["clean"], outputs=["broken"])
def broken(ctx):
    raise ValueError("bad input")
"""


@pytest.fixture
def endpoint() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (the http.server protocol)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append(json.loads(body))
            self.send_response(201)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/v1/lineage", received
    server.shutdown()
    server.server_close()


def _wait(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_runs_become_openlineage_events(make_project: ProjectFactory,
                                        endpoint: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = endpoint
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
        _wait(lambda: len(received) >= 4)
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
    assert "***" in settings.public()["openlineage_url"]
