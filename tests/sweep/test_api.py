"""Agreed deletions over HTTP on a real `andon up` with a fake clock: deprecating (operator;
refusals naming the field), the standings, the dry run and applying it on real files."""

from __future__ import annotations

from datetime import timedelta

import httpx

from andon.live.clock import FakeClock
from tests.conftest import ProjectFactory, utc
from tests.sweep.helpers import PIPELINES
from tests.web.conftest import auth_header, running

T0 = utc(2026, 3, 1, 9)


def test_deprecate_and_sweep_over_http(make_project: ProjectFactory) -> None:
    root = make_project(PIPELINES)
    files = []
    for day in ("2026-02-26", "2026-02-27"):
        path = root / "data/spare" / f"{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("a,b\n")
        files.append(path)
    clock = FakeClock(T0)
    with running(root, clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        op = auth_header(line)
        for day in ("2026-02-26", "2026-02-27"):
            assert client.post("/api/v1/notify", json={"asset": "spare", "partition": day},
                               headers=op).status_code == 201
        body = {"name": "spare", "delete_after": "2026-03-20", "reason": "nobody reads it",
                "replacement": "raw"}
        assert client.post("/api/v1/deprecations", json=body).status_code == 401
        assert client.post("/api/v1/deprecations", json=body,
                           headers=auth_header(line, "viewer")).status_code == 403
        past = client.post("/api/v1/deprecations", json={**body, "delete_after": "2026-01-01"},
                           headers=op)
        assert past.status_code == 422 and past.json()["where"] == "delete_after"
        assert "in the past" in past.json()["message"]
        unknown = client.post("/api/v1/deprecations", json={**body, "name": "spar"}, headers=op)
        assert unknown.status_code == 404 and "spare" in unknown.json()["hint"]
        made = client.post("/api/v1/deprecations", json=body, headers=op)
        assert made.status_code == 201, made.text
        assert made.json()["recorded"] is True and made.json()["kind"] == "dataset"
        assert client.post("/api/v1/deprecations", json=body, headers=op).status_code == 200
        (standing,) = client.get("/api/v1/deprecations").json()["deprecations"]
        assert standing["state"] == "deprecated" and standing["replacement"] == "raw"

        dry = client.get("/api/v1/sweep").json()
        assert dry["deletions"] == [] and "has not passed" in dry["blocked"][0]["reason"]
        clock.set(T0 + timedelta(days=21))
        dry = client.get("/api/v1/sweep").json()
        assert len(dry["deletions"]) == 2 and dry["freed_bytes"] == 8
        assert all(f.exists() for f in files)
        assert client.post("/api/v1/sweep/apply",
                           headers=auth_header(line, "viewer")).status_code == 403
        done = client.post("/api/v1/sweep/apply", headers=op)
        assert done.status_code == 200, done.text
        assert done.json()["removed"] == 2 and done.json()["deleted"] == ["dataset spare"]
        assert not any(f.exists() for f in files)
        (standing,) = client.get("/api/v1/deprecations").json()["deprecations"]
        assert standing["state"] == "deleted"


def test_banners_on_the_pages(make_project: ProjectFactory) -> None:
    clock = FakeClock(T0)
    with running(make_project(PIPELINES), clock=clock) as line, \
            httpx.Client(base_url=line.url, timeout=10) as client:
        body = {"name": "legacy", "delete_after": "2026-03-20", "reason": "moved <b>off</b>",
                "replacement": "raw"}
        assert client.post("/api/v1/deprecations", json=body,
                           headers=auth_header(line)).status_code == 201
        page = client.get("/assets/legacy").text
        assert 'data-lifecycle="deprecated"' in page and "deleted after 2026-03-20" in page
        assert "moved &lt;b&gt;off&lt;/b&gt;" in page  # escaped
        board = client.get("/").text
        assert "reads legacy: deprecated, deleted after 2026-03-20" in board  # summarise's line
        assert 'data-lifecycle' not in client.get("/assets/raw").text
        clock.set(T0 + timedelta(days=21))
        assert 'data-lifecycle="frozen"' in client.get("/assets/legacy").text
