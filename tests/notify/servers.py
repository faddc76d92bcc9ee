"""Real receivers on 127.0.0.1: an HTTP server for webhooks and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

GUARD = 30.0  # seconds: only a failure guard


class HookServer(ThreadingHTTPServer):
    """Answers each POST per ``plan`` (``ok``, ``fail`` = HTTP 500, ``hang`` = wait for
    ``release``), then ``ok`` once the plan is used up; keeps every JSON body received."""

    daemon_threads = True

    def __init__(self, plan: list[str] | None = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plan = list(plan or [])
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.requests = 0
        self.release = threading.Event()
        self.cond = threading.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def next_action(self) -> str:
        with self.cond:
            self.requests += 1
            self.cond.notify_all()
            return self.plan.pop(0) if self.plan else "ok"

    def received(self, body: dict[str, Any], path: str) -> None:
        with self.cond:
            self.bodies.append(body)
            self.paths.append(path)
            self.cond.notify_all()

    def wait_for(self, n: int, what: str = "requests", timeout: float = GUARD) -> None:
        with self.cond:
            assert self.cond.wait_for(
                lambda: (self.requests if what == "requests" else len(self.bodies)) >= n, timeout), \
                f"the hook got {self.requests} requests, {len(self.bodies)} delivered; wanted {n} {what}"


class _Handler(BaseHTTPRequestHandler):
    server: HookServer

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        action = self.server.next_action()
        if action == "hang":
            self.server.release.wait(GUARD)
        if action == "fail":
            self.send_response(500)
            self.end_headers()
            return
        self.server.received(json.loads(body), self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet test output


@contextmanager
def hook_server(plan: list[str] | None = None) -> Iterator[HookServer]:
    server = HookServer(plan)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class MailHandler:
    """aiosmtpd handler: refuses the first ``fail`` recipients with 451, keeps the rest."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.messages: list[tuple[list[str], str]] = []
        self.attempts = 0
        self.cond = threading.Condition()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        with self.cond:
            self.attempts += 1
            if self.fail > 0:
                self.fail -= 1
                return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.cond:
            self.messages.append((list(envelope.rcpt_tos), envelope.content.decode()))
            self.cond.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, n: int, timeout: float = GUARD) -> None:
        with self.cond:
            assert self.cond.wait_for(lambda: len(self.messages) >= n, timeout), \
                f"{len(self.messages)} mails arrived, wanted {n}"


@contextmanager
def smtp_server(handler: MailHandler, **options: Any) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1; yields its port."""
    from aiosmtpd.controller import Controller

    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()
