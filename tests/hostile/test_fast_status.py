"""``andon status``'s fast door (andon.cli.fast) against a state folder or a server it cannot
trust: an address off this machine is never sent the token (the click path decides), and an
answer too large, too slow or not a status ends in a clear error, exit 2, without hanging."""

from __future__ import annotations

import fcntl
import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from andon.cli import fast

Answer = Callable[[BaseHTTPRequestHandler], None]


@contextmanager
def published(root: Path, url: str) -> Iterator[None]:
    """``root``'s state folder as a live ``andon up`` leaves it: its lock held, its address in
    server.json."""
    state = root / ".andon"
    state.mkdir()
    (state / "server.json").write_text(json.dumps({"url": url, "pid": os.getpid()}))
    fd = os.open(state / "scheduler.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(fd)


@contextmanager
def server(answer: Answer) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802  (the stdlib's name)
            answer(self)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def status(root: Path) -> tuple[int | None, str]:
    err = io.StringIO()
    return fast.serve(["--project", str(root), "status"], "andon", {}, io.StringIO(), err), \
        err.getvalue()


def _send(body: bytes, length: int | None = None) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        if length != -1:  # -1: no length, the answer ends when the connection does
            handler.send_header("Content-Length", str(len(body) if length is None else length))
        handler.end_headers()
        handler.wfile.write(body)
    return answer


def test_an_address_off_this_machine_is_left_to_the_click_path(make_project) -> None:  # type: ignore[no-untyped-def]
    root = make_project("import andon\n")
    for url in ("http://10.255.255.1:8765", "http://evil.example:80", "http://127.0.0.1@evil:1",
                "https://127.0.0.1:1", "http://127.0.0.1:99999", "http://127.0.0.1:1/x"):
        assert fast._loopback(url) is None, url
    with published(root, "http://10.255.255.1:8765"):
        t0 = time.monotonic()
        assert status(root) == (None, "")  # declined before any connection
        assert time.monotonic() - t0 < 5  # not a timing claim: it never connected


@pytest.mark.parametrize("answer, said", [
    (_send(b"x" * 5000), "5,000 bytes, more than the 4,096 read"),
    (_send(b"x" * 5000, length=-1), "more than the 4,096 bytes read"),
    (_send(b"{}", length=10**12), "1,000,000,000,000 bytes"),
    (_send(b"<html>not json</html>"), "not JSON"),
    (_send(b"[1, 2]"), "not a JSON object"),
    (_send(b'{"pipelines": 3}'), "is not a status"),
])
def test_an_answer_that_is_no_status_is_a_clear_error(make_project, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                                      answer: Answer, said: str) -> None:
    monkeypatch.setattr(fast, "MAX_ANSWER_BYTES", 4096)
    root = make_project("import andon\n")
    with server(answer) as url, published(root, url):
        code, err = status(root)
    assert code == 2 and err.startswith("Error: ") and said in err and "hint:" in err


def test_a_server_that_never_finishes_is_given_up_on(make_project, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(fast, "TIMEOUT", 0.5)
    root = make_project("import andon\n")
    release = threading.Event()

    def trickle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        while not release.wait(0.1):  # a byte now and then, never the whole answer
            handler.wfile.write(b" ")
            handler.wfile.flush()

    with server(trickle) as url, published(root, url):
        try:
            code, err = status(root)
        finally:
            release.set()
    assert code == 2 and "within 0.5 s" in err


@pytest.mark.parametrize("raw", [b"", b"garbage", b"SSH-2.0-OpenSSH\r\n\r\n", b"HTTP/1.1 abc\r\n\r\n",
                                 b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n{}",
                                 b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20000 + b"\r\n{}"])
def test_an_answer_that_is_not_http_is_refused(raw: bytes) -> None:
    with pytest.raises(fast.Unusable):
        fast._answer(raw)
