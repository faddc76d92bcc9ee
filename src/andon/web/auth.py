"""Signing in with API tokens (made in ``andon.model.tokens``): roles, sessions, CSRF, and who a
request is. Every token lookup is a query, so it runs on a worker thread, never on the event loop
(which must keep pushing the live streams)."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from andon.model.tokens import ROLES, digest
from andon.web.context import HTTPError, web_of

COOKIE = "andon_session"
CSRF_HEADER = "x-csrf-token"


def role_at_least(role: str | None, needed: str) -> bool:
    return role in ROLES and ROLES.index(role) >= ROLES.index(needed)


def same(a: str, b: str) -> bool:
    """Constant-time comparison."""
    return hmac.compare_digest(a.encode(), b.encode())


def csrf_for(token: str) -> str:
    """The CSRF token of a browser session: derived from the session's API token, so it needs
    no server-side state, survives a restart and dies with the token; a cross-site page cannot
    compute it (the session cookie is HttpOnly)."""
    return hmac.new(token.encode(), b"andon-csrf", hashlib.sha256).hexdigest()[:40]


def safe_next(target: str) -> str:
    """Where to go after signing in: only a path on this server (no scheme, host or ``//``), so
    a link cannot send a fresh session to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its role and the CSRF token its forms and scripts send back."""

    role: str
    csrf: str

    @property
    def operator(self) -> bool:
        return role_at_least(self.role, "operator")


async def role_of(request: Request, token: str) -> str | None:
    """The role of ``token`` (None: unknown or revoked)."""
    return await run_in_threadpool(web_of(request).ctx.token_role, digest(token))


async def session_of(request: Request) -> Session | None:
    """The signed-in browser that sent ``request`` (None: none, or its token is revoked)."""
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    role = await role_of(request, token)
    return Session(role, csrf_for(token)) if role else None


def same_origin(request: Request) -> bool:
    """False only for a browser request that says it comes from another site."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise HTTPError(401, "the Authorization header is not 'Bearer <token>'",
                        hint="send 'Authorization: Bearer <token>'")
    return header[7:].strip()


async def authorize(request: Request, needed: str) -> str:
    """Let the request through with a bearer token, or a session cookie plus the page's CSRF
    token, of at least the ``needed`` role, and return the token's digest (``by`` names who it
    is); else 401 or 403 (as JSON)."""
    token = _bearer(request)
    from_cookie = token is None
    if token is None:
        token = request.cookies.get(COOKIE)
    if not token:
        raise HTTPError(401, "this action needs an API token",
                        hint="send 'Authorization: Bearer <token>', or sign in on the board")
    role = await role_of(request, token)
    if role is None:
        raise HTTPError(401, "the API token is unknown or revoked",
                        hint="create one with `andon token create`")
    if from_cookie and not (same_origin(request) and same(
            request.headers.get(CSRF_HEADER, ""), csrf_for(token))):
        raise HTTPError(403, "the request lacks the page's CSRF token",
                        hint="reload the page and try again")
    if not role_at_least(role, needed):
        raise HTTPError(403, f"this action needs the {needed} role; the token has {role}",
                        hint="use a token with a stronger role")
    return digest(token)


async def by(request: Request) -> str:
    """Who made an authorized request: its token's label ("api" without one), looked up only by
    the routes that record it (notify, the busiest route, does not)."""
    token_name = web_of(request).ctx.token_name
    name = await run_in_threadpool(token_name, request.state.token) if token_name else ""
    return name or "api"
