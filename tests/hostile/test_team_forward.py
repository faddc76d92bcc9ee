"""A team's standby forwards API writes, with the caller's token, to the leader's address in the
lease row (andon.serve.forward). A row forged in the database must not send the token anywhere
else: only plain http://HOST:PORT on loopback or a configured host, only the API path, never a
forwarded request again, and an oversize body is refused before anything is sent. A real
PostgreSQL lease, a real HTTP server standing in for the leader."""

from __future__ import annotations

import asyncio
import os
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from starlette.responses import PlainTextResponse

from andon.serve.forward import Forward
from andon.store.leader import Lead, read_lease
from andon.store.sql import Store
from andon.web.limits import Limits
from tests.conftest import ProjectFactory
from tests.team.members import ANDON, PIPELINES, Member

TOKEN = "Bearer secret-token-of-the-caller"


class Leader:
    """A loopback HTTP server that records what reaches it and answers 202."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, dict[str, str], bytes]] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                seen.append((self.command, self.path,
                             {k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(202)
                self.send_header("content-type", "application/json")
                self.send_header("set-cookie", "leader=1")
                self.end_headers()
                self.wfile.write(b'{"recorded": true}')

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def leader() -> Iterator[Leader]:
    found = Leader()
    yield found
    found.server.shutdown()
    found.server.server_close()


@pytest.fixture
def store(postgres_database: str) -> Iterator[Store]:
    opened = Store(postgres_database)
    yield opened
    opened.close()


def forge(store: Store, api_url: str) -> None:
    with store._write() as conn:  # a row written straight into the database, as an attacker would
        conn.execute(text("DELETE FROM leader_lease"))
        conn.execute(text("INSERT INTO leader_lease (id, token, holder, api_url, since) "
                          "VALUES (1, 7, 'forged', :u, '2026-01-01T00:00:00Z')"), {"u": api_url})


def post(store: Store, path: str = "/api/v1/notify", body: bytes = b'{"asset": "raw"}',
         headers: dict[str, str] | None = None, forward_hosts: set[str] | None = None,
         method: str = "POST") -> httpx.Response:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("the standby's own app")(scope, receive, send)

    def lease() -> Any:
        with store.read() as conn:
            return read_lease(conn)

    forward = Forward(app, lease, Limits(max_body_bytes=1000), forward_hosts or set())

    async def call() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=forward),
                                     base_url="http://127.0.0.1") as client:
            return await client.request(method, path, content=body,
                                        headers={"Authorization": TOKEN, **(headers or {})})
    return asyncio.run(call())


def test_a_write_goes_to_the_leader_with_the_callers_token(store: Store, leader: Leader) -> None:
    forge(store, f"http://127.0.0.1:{leader.port}")
    answer = post(store, "/api/v1/notify?x=1")
    assert answer.status_code == 202 and answer.json() == {"recorded": True}
    assert "set-cookie" not in answer.headers  # only the content type and Retry-After come back
    [(method, path, headers, body)] = leader.seen
    assert (method, path, body) == ("POST", "/api/v1/notify?x=1", b'{"asset": "raw"}')
    assert headers["authorization"] == TOKEN and headers["x-andon-forwarded"] == "1"


@pytest.mark.parametrize("forged", [
    "http://10.20.30.40:{port}",          # not loopback, not configured
    "http://evil.example:{port}",
    "https://127.0.0.1:{port}",           # only plain http to the leader's API
    "http://user:pw@127.0.0.1:{port}",    # no credentials of its own
    "http://127.0.0.1:{port}/steal",      # no path: only the API path is appended
    "http://127.0.0.1:{port}?q=1",
    "http://127.0.0.1",                   # no port
    "javascript:alert(1)",
    "",                                    # no leader serves yet
])
def test_a_forged_leader_address_gets_no_token(store: Store, leader: Leader, forged: str) -> None:
    forge(store, forged.format(port=leader.port))
    answer = post(store)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "1"
    assert answer.json()["where"] == "leader"
    assert leader.seen == []


def test_a_non_loopback_leader_needs_forward_hosts(store: Store) -> None:
    forge(store, "http://leader.internal:9")
    refused = post(store)
    assert "forward_hosts" in refused.json()["message"]
    allowed = post(store, forward_hosts={"leader.internal"})
    assert allowed.status_code == 503 and "does not answer" in allowed.json()["message"]


def test_reads_pages_and_forwarded_requests_are_not_forwarded(store: Store,
                                                              leader: Leader) -> None:
    forge(store, f"http://127.0.0.1:{leader.port}")
    assert post(store, method="GET").text == "the standby's own app"
    assert post(store, "/cords/new").text == "the standby's own app"  # only the API path
    again = post(store, headers={"x-andon-forwarded": "1"})
    assert again.status_code == 503 and "already forwarded" in again.json()["message"]
    assert leader.seen == []


def test_an_oversize_body_is_refused_before_anything_is_sent(store: Store,
                                                             leader: Leader) -> None:
    forge(store, f"http://127.0.0.1:{leader.port}")
    answer = post(store, body=b"x" * 5000)
    assert answer.status_code == 413
    assert leader.seen == []


def test_a_standby_answers_only_its_hosts_before_forwarding(
        make_project: ProjectFactory, postgres_database: str, tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    leader = Member(root, postgres_database, tmp_path / "a").wait_serving()
    standby = Member(root, postgres_database, tmp_path / "b").wait_serving()
    try:
        answer = httpx.post(standby.url + "/api/v1/notify", timeout=10,
                            headers={"Host": "evil.example", "Authorization": f"Bearer {standby.token}"},
                            json={"asset": "raw", "partition": "2026-01-01"})
        assert answer.status_code == 421
        big = httpx.post(standby.url + "/api/v1/notify", timeout=10, content=b"x" * 2_000_000,
                         headers={"Authorization": f"Bearer {standby.token}"})
        assert big.status_code == 413
        store = Store(postgres_database)
        try:
            assert store.partitions("raw") == []
        finally:
            store.close()
    finally:
        leader.stop()
        standby.stop()


def test_the_cli_sends_no_token_to_a_forged_leader_address(
        make_project: ProjectFactory, store: Store, postgres_database: str,
        tmp_path: Path) -> None:
    root = make_project(PIPELINES)
    lead = Lead(postgres_database, "a leader")
    try:
        assert lead.try_take()  # a leader is alive (its lock held)...
        forge(store, "http://10.20.30.40:8765")  # ...and its address was forged
        env = {**os.environ, "ANDON_DATABASE_URL": postgres_database,
               "ANDON_STATE_DIR": str(tmp_path / "cli"), "ANDON_API_TOKEN": "secret"}
        told = subprocess.run([ANDON, "notify", "raw", "2026-01-01"], cwd=root, env=env,
                              capture_output=True, text=True, timeout=60)
        assert told.returncode == 2
        assert "cannot reach it" in told.stderr and "forward_hosts" in told.stderr
        assert "secret" not in told.stderr
        assert store.partitions("raw") == []  # nor written beside the leader
    finally:
        lead.release()
