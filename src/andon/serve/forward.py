"""A standby's API writes, forwarded to the leader (docs/decisions.md, "Writes on a standby").

A team's standby (``andon.serve.team``) serves reads from the store, but only the leader
records: a change sent to a standby (``POST``/``PUT``/``DELETE`` under ``/api/v1/``) is sent on
to the API address the leader wrote into the lease (``andon.store.leader``), with the caller's
``Authorization`` header, and the leader's answer is handed back as it is. So a change is
accepted or refused by the one process that owns the engine state, and an acknowledged write is
durable in the log, whichever server took it.

The caller's token leaves this process, so where it may go is narrow: only to the address in
the lease, only if that is ``http://HOST:PORT`` with no user, path or query, only if HOST is a
loopback address or one named in the ``forward_hosts`` setting (a row forged in the database
cannot send tokens elsewhere), only the API path, and never a request that was itself forwarded
(no loops). The body is read within the server's cap first (413). No leader known, or it does
not answer: 503 with the reason and ``Retry-After`` (a standby takes over within seconds).
"""

from __future__ import annotations

import http.client
import ipaddress
from collections.abc import Callable
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from andon.model.errors import AndonError
from andon.store.leader import Lease
from andon.web.context import HTTPError, error_response
from andon.web.limits import Limits, read_body

API = "/api/v1/"
READS = ("GET", "HEAD", "OPTIONS")
FORWARDED = "x-andon-forwarded"
PASSED = ("authorization", "content-type", "accept", "last-event-id")  # what the leader gets
TIMEOUT = 30.0  # seconds the leader may take to answer a forwarded write
RETRY_AFTER = "1"


def leader_address(lease: Lease | None, forward_hosts: set[str]) -> tuple[str, int]:
    """The host and port to forward to, or raise a 503 saying why there are none. Only plain
    ``http://HOST:PORT`` on a loopback address or a host of ``forward_hosts``."""
    if lease is None or not lease.api_url:
        raise _unavailable("no leader is known: none has served yet on this store")
    try:
        parts = urlsplit(lease.api_url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        host, port = "", None
    if parts.scheme != "http" or port is None or parts.username is not None or \
            parts.password is not None or parts.path not in ("", "/") or parts.query or \
            parts.fragment or not host:
        raise _unavailable(f"the leader's address in the lease is not http://HOST:PORT: "
                           f"{lease.api_url[:100]!r}")
    if not (_loopback(host) or host.lower() in forward_hosts):
        raise _unavailable(f"the leader's address {host[:100]!r} is not loopback nor in the "
                           f"forward_hosts setting: the caller's token is not sent there",
                           hint="name the leaders' hosts in forward_hosts (ANDON_FORWARD_HOSTS) "
                                "or send the write to the leader")
    return host, port


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _unavailable(message: str, hint: str = "") -> HTTPError:
    return HTTPError(503, f"this andon is a standby and cannot forward the write: {message}",
                     hint=hint or "try again in a few seconds (a standby takes over within "
                                  "seconds) or send it to the leader",
                     where="leader")


class Forward:
    """ASGI middleware of a standby: API writes go to the leader, everything else to ``app``."""

    def __init__(self, app: ASGIApp, lease: Callable[[], Lease | None], limits: Limits,
                 forward_hosts: set[str]) -> None:
        self.app = app
        self.lease = lease
        self.limits = limits
        self.forward_hosts = {h.lower() for h in forward_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in READS or \
                not str(scope["path"]).startswith(API):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self._forward(request)
        except AndonError as exc:
            response = error_response(exc)
            if exc.http_status == 503:
                response.headers["Retry-After"] = RETRY_AFTER
        await response(scope, receive, send)

    async def _forward(self, request: Request) -> Response:
        if request.headers.get(FORWARDED):
            raise _unavailable("the request was already forwarded once (the lease names a "
                               "standby)")
        body = await read_body(request, self.limits)  # 413 past the cap, before any is sent
        host, port = leader_address(await run_in_threadpool(self.lease), self.forward_hosts)
        headers = {k: v for k, v in request.headers.items() if k.lower() in PASSED}
        headers[FORWARDED] = "1"
        # the path is re-encoded by us: only the API path, with its query, on the leader's base
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            status, kept, content = await run_in_threadpool(
                _send, host, port, request.method, target, body, headers)
        except OSError as exc:  # refused, reset, timed out, no such host
            raise _unavailable(f"the leader at {host}:{port} does not answer "
                               f"({type(exc).__name__})") from None
        return Response(content, status_code=status, headers=kept)


def _send(host: str, port: int, method: str, target: str, body: bytes,
          headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """One request to the leader (the standard library's client, on a worker thread): its
    status, the headers passed back, its body."""
    conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        conn.request(method, target, body=body, headers=headers)
        answer = conn.getresponse()
        content = answer.read()
        kept = {k: v for k, v in answer.getheaders()
                if k.lower() in ("content-type", "retry-after", "location")}
        return answer.status, kept, content
    except http.client.HTTPException as exc:  # a malformed answer: as if it did not answer
        raise OSError(str(exc)) from None
    finally:
        conn.close()
