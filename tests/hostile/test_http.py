"""The HTTP server against slow, greedy and rebinding clients, over a real `andon up`: a Host
allow-list, a header timeout, a cap on connections per client address, and an event loop that
answers `/api/v1/health` while a request does long work."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from andon.serve.up import Line
from tests.hostile.sockets import answer, connect
from tests.web.conftest import PIPELINES, make_token, running

GUARD = 60.0  # seconds: a failure guard, never a measure of speed
TIGHT = {"ANDON_HEADER_TIMEOUT": "0.5", "ANDON_MAX_CLIENT_CONNECTIONS": "4",
         "ANDON_ALLOWED_HOSTS": "andon.internal, board.example"}


@pytest.fixture
def tight(make_project) -> Iterator[Line]:  # type: ignore[no-untyped-def]
    with running(make_project(PIPELINES), env=TIGHT) as line:
        yield line


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed ``sock`` (reads until it does; the guard fails the test)."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


@pytest.mark.parametrize("host, status", [
    ("evil.example", 421), ("evil.example:8765", 421), ("127.0.0.1.evil.example", 421),
    ("localhost.", 421), ("", 421),
    ("127.0.0.1", 200), ("localhost:1234", 200), ("[::1]:8765", 200), ("10.1.2.3", 200),
    ("andon.internal:8765", 200), ("BOARD.example", 200),
])
def test_only_allowed_hosts_are_answered_on_pages_and_api(tight: Line, host: str,
                                                          status: int) -> None:
    with httpx.Client(base_url=tight.url, timeout=GUARD) as client:
        for path in ("/api/v1/status", "/", "/metrics"):
            r = client.get(path, headers={"Host": host})
            assert r.status_code == status, (path, host, r.text[:200])
            if status == 421:
                assert r.json()["where"] == "Host" and "allowed_hosts" in r.json()["hint"]


def test_a_rebinding_page_cannot_write_either(tight: Line) -> None:
    before = tight.store.count_events()
    with httpx.Client(base_url=tight.url, timeout=GUARD) as client:
        r = client.post("/api/v1/runs", json={"pipeline": "clean", "partition": "2026-01-05"},
                        headers={"Host": "evil.example",
                                 "Authorization": f"Bearer {make_token(tight, 'operator')}"})
    assert r.status_code == 421
    assert tight.store.count_events() == before


def test_a_client_that_says_nothing_is_disconnected(tight: Line) -> None:
    with connect(tight) as sock:
        assert _closed(sock)


def test_headers_sent_a_byte_at_a_time_are_cut_off(tight: Line) -> None:
    request = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 10_000
    with connect(tight) as sock:
        try:
            for byte in request:  # far slower than the 0.5 s the headers may take in all
                sock.send(bytes([byte]))
                time.sleep(0.01)
            pytest.fail("the server kept reading slow headers")
        except (BrokenPipeError, ConnectionResetError):
            pass


def test_a_kept_alive_connection_is_timed_out_between_requests(tight: Line) -> None:
    with connect(tight) as sock:
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert answer(sock).startswith(b"HTTP/1.1 200")
        sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127")  # and then nothing
        assert _closed(sock)


def test_a_body_sent_a_byte_at_a_time_is_cut_off_and_records_nothing(tight: Line) -> None:
    token = make_token(tight, "operator")
    body = b'{"pipeline": "clean", "partition": "2026-01-05"}'
    before = tight.store.count_events()
    with connect(tight) as sock:
        sock.sendall(b"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: Bearer " + token.encode() + b"\r\n"
                     b"Content-Type: application/json\r\nContent-Length: "
                     + str(len(body)).encode() + b"\r\n\r\n")
        try:
            for byte in body:  # 48 bytes 0.05 s apart: longer than the 0.5 s allowed
                sock.send(bytes([byte]))
                time.sleep(0.05)
            answer = sock.recv(65536)
        except (BrokenPipeError, ConnectionResetError):
            answer = b""
    assert not answer.startswith(b"HTTP/1.1 2"), answer[:200]
    assert tight.store.count_events() == before


def test_slow_bodies_give_way_to_a_new_client_connection(tight: Line) -> None:
    token = make_token(tight, "operator")
    slow = []
    try:
        for _ in range(4):  # headers in, body announced and never sent
            sock = connect(tight)
            sock.sendall(b"POST /api/v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                         b"Bearer " + token.encode() + b"\r\nContent-Length: 100\r\n\r\n{")
            slow.append(sock)
        time.sleep(0.05)  # let the server accept them, in order (not a measure of speed)
        with httpx.Client(base_url=tight.url, timeout=GUARD) as client:
            assert client.get("/api/v1/health").status_code == 200
        assert _closed(slow[0])
    finally:
        for sock in slow:
            sock.close()


def test_idle_connections_give_way_to_a_new_client_connection(tight: Line) -> None:
    idle = [connect(tight) for _ in range(4)]  # the cap of this client address
    try:
        time.sleep(0.05)  # let the server accept them, in order (not a measure of speed)
        with httpx.Client(base_url=tight.url, timeout=GUARD) as client:
            assert client.get("/api/v1/health").status_code == 200
        assert _closed(idle[0]), "the oldest idle connection was dropped for the new one"
    finally:
        for sock in idle:
            sock.close()


def test_busy_connections_past_the_cap_get_503(tight: Line) -> None:
    streams = []
    try:
        for _ in range(4):  # event streams: connections busy with a request for as long as
            sock = connect(tight)  # they stay open
            sock.sendall(b"GET /api/v1/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200")
            streams.append(sock)
        with connect(tight) as sock:
            data = b""
            while chunk := sock.recv(65536):
                data += chunk
        assert data.startswith(b"HTTP/1.1 503") and b"too many connections" in data
    finally:
        for sock in streams:
            sock.close()


def test_health_answers_while_a_notify_hashes_a_huge_source(make_project) -> None:  # type: ignore[no-untyped-def]
    with running(make_project(PIPELINES)) as line:
        raw = line.project.root / "data/raw/2026-01-05.csv"
        raw.parent.mkdir(parents=True)
        with raw.open("wb") as fh:
            fh.truncate(2**30)  # sparse: 1 GB to hash, no disk used
        token = make_token(line, "operator")
        done = threading.Event()
        answers: list[int] = []

        def notify() -> None:
            with httpx.Client(base_url=line.url, timeout=600) as client:
                r = client.post("/api/v1/notify", json={"asset": "raw", "partition": "2026-01-05"},
                                headers={"Authorization": f"Bearer {token}"})
                answers.append(r.status_code)
            done.set()

        thread = threading.Thread(target=notify)
        thread.start()
        try:
            with httpx.Client(base_url=line.url, timeout=GUARD) as client:
                healthy_while_hashing = 0
                while not done.is_set() and healthy_while_hashing < 5:
                    if client.get("/api/v1/health").status_code == 200 and not done.is_set():
                        healthy_while_hashing += 1
            assert healthy_while_hashing == 5, "health did not answer while the file was hashed"
        finally:
            thread.join(600)
            os.unlink(raw)
        assert answers == [201]


def test_a_working_kept_alive_connection_keeps_its_place_against_silent_ones(make_project) -> None:  # type: ignore[no-untyped-def]
    with running(make_project(PIPELINES), env={"ANDON_MAX_CLIENT_CONNECTIONS": "4",
                                               "ANDON_HEADER_TIMEOUT": "30"}) as line, \
            connect(line) as working:
        ask = b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        working.sendall(ask)
        assert answer(working).startswith(b"HTTP/1.1 200")
        silent = [connect(line) for _ in range(5)]  # each past the cap drops a silent one
        try:
            time.sleep(0.05)  # let the server accept them, in order (not a measure of speed)
            working.sendall(ask)
            assert answer(working).startswith(b"HTTP/1.1 200")
            assert _closed(silent[0]) and _closed(silent[1])
        finally:
            for sock in silent:
                sock.close()
