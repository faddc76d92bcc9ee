"""A secret canary: set in the environment and in the project's settings (a webhook URL with a
token, an SMTP password, an OpenLineage URL with a key), it must appear in no log line, no event,
no API answer, no page and not in ``/metrics`` after a small project has run end to end (notify,
runs, a failure, a cord)."""

from __future__ import annotations

import json
import logging
import os

import httpx
import pytest

from andon.events import NotificationFailed, NotificationSent, RunFailed, RunSucceeded
from andon.events.codec import to_dict
from andon.serve.up import Line
from tests.conftest import ProjectFactory
from tests.notify.servers import free_port, hook_server
from tests.web.conftest import make_token, running

CANARY = "canary-7f3a9c1e5b2d4806"

PIPELINES = """
import andon

andon.source("raw", location="data/raw/{partition}.csv", owner="alerts")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    text = ctx.inputs["raw"].read_text()
    if "bad" in text:
        raise ValueError("the raw data is bad")
    ctx.output("clean").write_text(text)

@andon.pipeline(inputs=["clean"], outputs=["report"])
def report(ctx):
    ctx.output("report").write_text("ok\\n")
"""


def _wait(line: Line, ready, what: str, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    for _ in range(int(timeout * 20)):
        if ready([ev for _, ev in line.store.events()]):
            return
        line.runner.drain(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_no_secret_leaks_anywhere(make_project: ProjectFactory, monkeypatch: pytest.MonkeyPatch,
                                  caplog: pytest.LogCaptureFixture,
                                  capfd: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ANDON_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ANDON_SMTP_PORT", str(free_port()))  # nobody listens: delivery fails
    monkeypatch.setenv("ANDON_SMTP_USER", "andon")
    monkeypatch.setenv("ANDON_SMTP_PASSWORD", CANARY + "-smtp")
    monkeypatch.setenv("ANDON_TEST_CUSTOM_SECRET", CANARY + "-custom")
    caplog.set_level(logging.DEBUG)
    with hook_server(["fail"]) as hook, hook_server() as lineage:
        # an OpenLineage endpoint with a key in its URL
        monkeypatch.setenv("ANDON_OPENLINEAGE_URL",
                           f"{lineage.url}/api/v1/lineage?api_key={CANARY}-ol")
        hook_url = f"{hook.url}/hooks/{CANARY}-token?key={CANARY}-query"
        root = make_project(PIPELINES, extra=(
            f'[notify]\nsubscribers = ["alerts", "ops@example.com"]\n'
            f'[notify.webhooks]\nalerts = "{hook_url}"\n'
            "[settings]\nnotify_attempts = 2\nnotify_retry_delay = 0.05\nnotify_timeout = 2\n"))
        with running(root, os.environ) as line, httpx.Client(base_url=line.url, timeout=10) as client:
            assert line.settings.smtp_password == CANARY + "-smtp"  # the canary is in use
            auth = {"Authorization": f"Bearer {make_token(line, 'operator')}"}
            raw = root / "data/raw"
            raw.mkdir(parents=True)
            (raw / "2026-01-05.csv").write_text("a\n1\n")
            (raw / "2026-01-06.csv").write_text("bad\n")
            for key in ("2026-01-05", "2026-01-06"):
                r = client.post("/api/v1/notify", json={"asset": "raw", "partition": key},
                                headers=auth)
                assert r.status_code == 201, r.text
            _wait(line, lambda evs: any(isinstance(e, RunFailed) for e in evs)
                  and any(isinstance(e, RunSucceeded) and e.pipeline == "report" for e in evs),
                  "a failed and a succeeded run")
            r = client.post("/api/v1/cords", json={"asset": "clean", "partition": "2026-01-05",
                                                   "reason": "looks wrong"}, headers=auth)
            assert r.status_code == 201, r.text
            cord_id = r.json()["cord_id"]
            # the webhook fails once then takes the retry; the e-mail fails twice
            _wait(line, lambda evs: any(isinstance(e, NotificationSent) for e in evs)
                  and sum(isinstance(e, NotificationFailed) and e.channel == "email"
                          for e in evs) >= 2, "deliveries tried")
            line.runner.drain(5)
            runs = client.get("/api/v1/runs?limit=1000").json()
            assert {r["status"] for r in runs} >= {"succeeded", "failed"}
            urls = ["/api/v1/health", "/api/v1/status", "/api/v1/runs", "/api/v1/partitions",
                    "/api/v1/plan", "/api/v1/cords", "/api/v1/cords?all=1",
                    f"/api/v1/cords/{cord_id}", "/api/v1/openapi.json", "/metrics",
                    "/", "/runs", "/assets/raw", "/assets/clean", "/assets/report", "/pools",
                    "/deliveries", "/search?q=raw", "/login", f"/runs?q={CANARY[:6]}"]
            for run in runs:
                urls += [f"/api/v1/runs/{run['run_id']}", f"/api/v1/runs/{run['run_id']}/log",
                         f"/runs/{run['run_id']}"]
            for url in urls:
                for headers in ({}, auth):
                    r = client.get(url, headers=headers)
                    assert r.status_code == 200, (url, r.status_code)
                    assert CANARY not in r.text, f"the canary leaks in GET {url}"
            logged = line.store.events()
            events = [to_dict(ev) for _, ev in logged]
            # the live stream, replayed from the start up to the last event
            streamed = ""
            with client.stream("GET", "/api/v1/events/stream?last_event_id=0") as r:
                for chunk in r.iter_text():
                    streamed += chunk
                    if f"id: {logged[-1][0]}\n" in streamed:
                        break
            assert CANARY not in streamed, "the canary leaks in the event stream"
        assert hook.bodies and CANARY in hook.paths[0], "the webhook got its secret URL"
        assert lineage.bodies and CANARY in lineage.paths[0], "OpenLineage got its secret URL"
        # ... and what was sent to them holds no secret either
        assert CANARY not in json.dumps(hook.bodies) + json.dumps(lineage.bodies)
    for event in events:
        assert CANARY not in json.dumps(event), f"the canary leaks in an event: {event}"
    logs = caplog.text
    assert "failed" in logs  # the failed deliveries were logged...
    assert CANARY not in logs  # ... without the secret
    out, err = capfd.readouterr()
    assert CANARY not in out and CANARY not in err
    for path in (root / ".andon").rglob("*"):
        if path.is_file() and path.suffix in (".log", ".json", ".txt", ""):
            assert CANARY not in path.read_text(errors="replace"), f"the canary leaks in {path}"
