"""What one HTTP request may be: the size of its body, the shape of its JSON, the Host it names.

Each limit is a setting (``andon.project.settings``); the server passes them in as one ``Limits``. A request
past a limit gets the usual error JSON (413 for too large, 422 for the rest, 421 for a Host the
server does not answer to) and nothing is recorded: the checks run before any handler acts.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from andon.model.errors import AndonError
from andon.project.settings import default

MAX_INT = 2**53  # integers past it fit no JSON reader's number, nor every database column


class TooLarge(AndonError):
    http_status = 413


class BadBody(AndonError):
    http_status = 422


class WrongHost(AndonError):
    http_status = 421


class BadLength(AndonError):
    http_status = 400


@dataclass(frozen=True)
class Limits:
    """The request limits of one server (defaults: the settings' defaults)."""

    max_body_bytes: int = default("max_body_bytes")
    max_json_depth: int = default("max_json_depth")
    max_string_bytes: int = default("max_string_bytes")
    log_page_bytes: int = default("log_page_bytes")
    allowed_hosts: tuple[str, ...] = ()  # names beyond localhost and IP addresses; "*": any


def allowed_hosts(bound: str, extra: str | Iterable[str]) -> tuple[str, ...]:
    """The Host names a server bound to ``bound`` answers to, besides localhost and any IP
    address: the bound host and the configured ``extra`` ones (a comma-separated string or a
    list, as andon.toml may give it)."""
    names = extra.split(",") if isinstance(extra, str) else list(extra)
    return tuple(sorted({n.strip().lower() for n in [*names, bound] if n.strip()}))


def host_ok(host: str, allowed: tuple[str, ...]) -> bool:
    """Whether a ``Host`` header (with or without its port) names this server. IP literals are
    always fine: DNS rebinding needs a name the attacker controls."""
    name = host.strip().lower()
    if name.startswith("["):
        name = name[1:].partition("]")[0]
    elif name.count(":") == 1:
        name = name.partition(":")[0]
    if not name:
        return False
    if "*" in allowed or name == "localhost" or name.endswith(".localhost") or name in allowed:
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _refuse(exc: AndonError) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse(exc.to_dict(), status_code=exc.http_status,
                        headers={"Connection": "close", "X-Content-Type-Options": "nosniff"})


def guard(app: ASGIApp, limits: Limits) -> ASGIApp:
    """The checks every request passes before routing, pages and API alike: its Host is one the
    server answers to (421), and a declared body is within the cap (413, before it is read)."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        host = headers.get(b"host", b"").decode("latin-1")
        if not host_ok(host, limits.allowed_hosts):
            response = _refuse(WrongHost(
                f"this server does not answer to the host {host[:100]!r}", where="Host",
                hint="use http://127.0.0.1 or http://localhost, or add the name to the "
                     "allowed_hosts setting"))
            await response(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None:
            declared = int(length) if length.isdigit() else -1
            if declared < 0:
                response = _refuse(BadLength("the Content-Length header is not a number of "
                                             "bytes", where="Content-Length",
                                             hint="send the body's length in bytes"))
                await response(scope, receive, send)
                return
            if declared > limits.max_body_bytes:
                await _refuse(_too_large(limits))(scope, receive, send)
                return
        await app(scope, receive, send)

    return guarded


def _too_large(limits: Limits) -> TooLarge:
    return TooLarge(f"the request body is larger than {limits.max_body_bytes} bytes",
                    where="body", hint="send less; the limit is the max_body_bytes setting")


async def read_body(request: Request, limits: Limits) -> bytes:
    """The request's body, counted as it streams: 413 as soon as it passes the cap (a chunked
    body declares no length), so a huge body is never held in memory."""
    cached = getattr(request, "_body", None)
    if cached is not None:
        return bytes(cached)
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limits.max_body_bytes:
                raise _too_large(limits)
            chunks.append(chunk)
    except ClientDisconnect:  # gone, or cut off by the request timeout (andon.web.conn)
        raise BadLength("the client went away before its body was complete", where="body",
                        hint="send the whole body within the header_timeout setting") from None
    body = b"".join(chunks)
    request._body = body  # what Request.body() answers from now on
    return body


def parse_json(body: bytes, limits: Limits) -> Any:
    """The JSON value of ``body`` checked against the limits: nesting depth, string length (keys
    too), no NUL character, integers within ±2^53; 422 naming the field otherwise."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, RecursionError) as exc:
        reason = "it is nested too deeply" if isinstance(exc, RecursionError) else str(exc)[:200]
        raise BadBody(f"the body is not valid JSON: {reason}", hint="send a JSON object") from None
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, (dict, list)):
            if depth >= limits.max_json_depth:
                raise BadBody(f"the body nests deeper than {limits.max_json_depth} levels",
                              where=where, hint="send a flatter JSON object")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str):
                    _check_string(key, where or "body", limits)
                stack.append((item, where or str(key), depth + 1))
        elif isinstance(value, str):
            _check_string(value, where, limits)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
            raise BadBody(f"field {where!r} is a number beyond ±2^53", where=where,
                          hint="send a smaller number")
    return data


def _check_string(text: str, where: str, limits: Limits) -> None:
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate (\ud800): no database can store it
        raise BadBody(f"field {where!r} is not valid Unicode (a lone surrogate)", where=where,
                      hint="send text as UTF-8") from None
    if size > limits.max_string_bytes:
        raise BadBody(f"field {where!r} is longer than {limits.max_string_bytes} bytes",
                      where=where, hint="send a shorter text; the limit is the "
                                        "max_string_bytes setting")
    if "\0" in text:
        raise BadBody(f"field {where!r} holds a NUL character", where=where,
                      hint="send text without NUL (\\u0000) characters")
