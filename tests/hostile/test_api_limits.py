"""Request limits over a real `andon up`: body size (declared and streamed), JSON depth, string
length, numbers, log pages and offsets, backfill ranges. Each is refused with the usual error
JSON, and nothing is recorded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from andon.serve.up import Line
from tests.conftest import utc
from tests.hostile.sockets import answer, connect
from tests.web.conftest import PIPELINES, auth_header, make_token, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
SMALL = {"ANDON_MAX_BODY_BYTES": "4096", "ANDON_MAX_STRING_BYTES": "100",
         "ANDON_MAX_JSON_DEPTH": "8", "ANDON_LOG_PAGE_BYTES": "1000"}


@pytest.fixture
def small(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    with running(make_project(PIPELINES), env=SMALL) as line:
        yield line


@pytest.fixture
def api(small: Line) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=small.url, timeout=GUARD) as client:
        yield client



def _raw(line: Line, request: bytes, timeout: float = GUARD) -> bytes:
    """Send ``request`` on a fresh socket and read the answer (headers and body)."""
    with connect(line, timeout) as sock:
        sock.sendall(request)
        return answer(sock)


def test_a_declared_body_past_the_cap_is_413_before_any_of_it_is_sent(small: Line) -> None:
    token = make_token(small, "operator")
    before = small.store.count_events()
    for path in ("/api/v1/notify", "/login", "/logout", "/api/v1/runs"):
        answer = _raw(small, f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                             f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {10**12}\r\n\r\n".encode())
        assert answer.startswith(b"HTTP/1.1 413"), (path, answer[:200])
        assert b"max_body_bytes" in answer
    assert small.store.count_events() == before


def test_a_streamed_body_is_counted_and_cut_off_at_the_cap(small: Line) -> None:
    # chunked: no Content-Length to check up front, and the body never ends; the answer comes
    # once the chunks pass the cap, so the server counted them as they came
    token = make_token(small, "operator")
    chunk = b"400\r\n" + b"x" * 1024 + b"\r\n"
    before = small.store.count_events()
    answer = _raw(small, b"POST /api/v1/notify HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Authorization: Bearer " + token.encode() + b"\r\n"
                         b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
                         + chunk * 5)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b'"where":"body"' in answer
    assert small.store.count_events() == before


def test_login_checks_the_origin_before_it_reads_the_body(small: Line) -> None:
    # the body is announced but never sent: only a server that does not wait for it answers
    answer = _raw(small, b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example"
                         b"\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                         b"Content-Length: 2000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]


@pytest.mark.parametrize("body, status, where", [
    ('{"asset": "raw", "partition": "2026-01-05", "reason": "' + "r" * 101 + '"}', 422, "reason"),
    ('{"asset": "raw", "partition": "2026-01-05", "reason": "a\\u0000b"}', 422, "reason"),
    ('{"asset": "raw", "partition": "2026-01-05", "reason": "\\ud800"}', 422, "reason"),
    ('{"asset": "raw", "partition": "2026-01-05", "reason": "ok", "x": ' + "[" * 9 + "]" * 9
     + "}", 422, "x"),
    ("[" * 2000 + "]" * 2000, 422, ""),
    ('{"asset": "raw", "partition": "2026-01-05", "reason": "ok", "' + "k" * 101 + '": 1}', 422,
     "body"),
])
def test_strings_depth_and_nul_are_limited_in_every_body(small: Line, body: str, status: int,
                                                         where: str) -> None:
    before = small.store.count_events()
    with httpx.Client(base_url=small.url, timeout=GUARD) as client:
        r = client.post("/api/v1/cords", content=body.encode(),
                        headers={**auth_header(small), "Content-Type": "application/json"})
    assert r.status_code == status, r.text
    assert r.json()["message"] and r.json()["where"] == where
    assert small.store.count_events() == before


def test_a_number_past_2_53_is_refused(small: Line, api: httpx.Client) -> None:
    line, client = small, api
    r = client.post("/api/v1/cords/c1/restore", headers=auth_header(line),
                    content=b'{"asset": "raw", "partition": "2026-01-05", "version": '
                            + str(10**30).encode() + b"}")
    assert r.status_code == 422 and r.json()["where"] == "version"
    r = client.post("/api/v1/cords/c1/resolve", headers=auth_header(line),
                    json={"note": "n", "manual_fix": "yes"})
    assert r.status_code == 422 and r.json()["where"] == "manual_fix"


def test_a_huge_backfill_is_refused_before_its_partitions_are_listed(small: Line,
                                                                     api: httpx.Client) -> None:
    line, client = small, api
    before = line.store.count_events()
    r = client.post("/api/v1/backfills", headers=auth_header(line),
                    json={"pipeline": "clean", "from": "2026-01-01", "to": "9998-12-31"})
    assert r.status_code == 422 and "larger than" in r.json()["message"]
    r = client.post("/api/v1/backfills", headers=auth_header(line),
                    json={"pipeline": "clean", "from": "0001-01-01", "to": "9999-12-31"})
    assert r.status_code == 422
    r = client.post("/api/v1/backfills", headers=auth_header(line),
                    json={"pipeline": "clean", "from": "2026-01-01", "to": "10000-01-01"})
    assert r.status_code == 422
    assert line.store.count_events() == before


def test_event_stream_offsets_are_bounded(api: httpx.Client) -> None:
    client = api
    for bad in ("-1", str(10**30), "abc", "1e3"):
        r = client.get("/api/v1/events/stream", headers={"Last-Event-ID": bad})
        assert r.status_code == 422 and r.json()["where"] == "Last-Event-ID", bad
        r = client.get("/api/v1/runs/nope/log/stream", headers={"Last-Event-ID": bad})
        assert r.status_code == 422 and r.json()["where"] == "offset", bad


LOGGING = """
import andon

andon.source("raw", location="data/raw/{partition}.csv")

@andon.pipeline(inputs=["raw"], outputs=["clean"])
def clean(ctx):
    for n in range(300):
        print(f"line {n} " + "é" * 7, flush=True)
    ctx.output("clean").write_text("ok\\n")
"""


def test_a_run_log_is_served_in_pages_that_join_into_the_log(make_project) -> None:  # type: ignore[no-untyped-def]
    with running(make_project(LOGGING), env=SMALL, executor="local") as line, \
            httpx.Client(base_url=line.url, timeout=GUARD) as client:
        raw = line.project.root / "data/raw/2026-01-05.csv"
        raw.parent.mkdir(parents=True)
        raw.write_text("a\n")
        assert client.post("/api/v1/notify", headers=auth_header(line),
                           json={"asset": "raw", "partition": "2026-01-05"}).status_code == 201
        r = client.post("/api/v1/runs", headers=auth_header(line),
                        json={"pipeline": "clean", "partition": "2026-01-05"})
        assert r.status_code == 202
        deadline = time.monotonic() + GUARD
        while (runs := client.get("/api/v1/runs").json()) == [] or \
                runs[0]["status"] in ("queued", "running"):
            assert time.monotonic() < deadline, "the run did not end"
            time.sleep(0.05)
        assert runs[0]["status"] == "succeeded"
        run_id = runs[0]["run_id"]
        whole = Path(runs[0]["log_path"]).read_bytes()
        assert len(whole) > 3000
        pages, offset = [], 0
        while True:
            r = client.get(f"/api/v1/runs/{run_id}/log", params={"offset": offset,
                                                                  "limit": 10**9})
            assert r.status_code == 200
            assert len(r.content) <= 1000  # the limit is capped by log_page_bytes
            after = int(r.headers["X-Andon-Next-Offset"])
            if after == offset:
                break
            pages.append(r.text)
            offset = after
        assert len(pages) > 3
        assert "".join(pages) == whole.decode()  # no character cut at a page's edge
        r = client.get(f"/api/v1/runs/{run_id}/log", params={"offset": 10**12})
        assert r.status_code == 200 and r.text == ""
        for bad in ("-1", str(10**30), "x"):
            r = client.get(f"/api/v1/runs/{run_id}/log", params={"offset": bad})
            assert r.status_code == 422 and r.json()["where"] == "offset", bad
        for bad in ("0", "-5", "y"):
            r = client.get(f"/api/v1/runs/{run_id}/log", params={"limit": bad})
            assert r.status_code == 422 and r.json()["where"] == "limit", bad


def test_the_backfill_cap_is_a_setting(make_project) -> None:  # type: ignore[no-untyped-def]
    from andon.live.service import Service
    from andon.model.errors import BadRequest
    from andon.project.load import load_project
    from andon.project.settings import resolve
    from andon.store.sql import Store

    root = make_project(PIPELINES)
    project = load_project(root)
    settings = resolve(root, {}, {"ANDON_MAX_BACKFILL": "5"}, project.settings_table)
    store = Store(f"sqlite:///{root / 'andon.db'}")
    svc = Service(project.graph, store, root, settings.max_backfill)
    assert len(svc.backfill("clean", "2026-01-01", "2026-01-05", utc(2026, 2, 1))) == 5
    with pytest.raises(BadRequest, match="6 partitions is larger than 5"):
        svc.backfill("clean", "2026-01-01", "2026-01-06", utc(2026, 2, 1))
    assert store.count_events() == 0
