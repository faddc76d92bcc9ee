"""The HTTP API (``/api/v1``), the board's pages, live updates and ``/metrics``, over the
shared Service.

State-changing routes need a token of at least the role in PERMISSIONS: a bearer token, or the
board's session cookie together with the page's CSRF token. Read-only routes are open (the server
binds to 127.0.0.1 by default), except the token list: managing tokens needs the admin role. API
errors come back as JSON: 401 without a token, 403 for a weaker role, 404 for unknown objects, 422
for a malformed request (``where``/``field`` name the field), 413 for a body past the cap and
421 for a Host the server does not answer to (``andon.web.limits``). Work that can take long
(hashing a source, planning, building a backfill, cord changes) runs on worker threads, so the
event loop, and ``/api/v1/health``, always answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from andon.events import Event
from andon.model.errors import AndonError
from andon.service import Service
from andon.tokens import PREFIX, digest
from andon.web.auth import csrf_for, role_at_least, safe_next, same
from andon.web.limits import Limits, guard, parse_json, read_body

SESSION = "session"  # signs a browser in or out: checks the token it is given, changes no state
# (method, path) -> the least role needed; None = open for reading; SESSION = see above
PERMISSIONS: dict[tuple[str, str], str | None] = {
    ("GET", "/"): None,
    ("GET", "/runs"): None,
    ("GET", "/runs/{run_id}"): None,
    ("GET", "/assets/{name}"): None,
    ("GET", "/cords"): None,
    ("GET", "/cords/{cord_id}"): None,
    ("GET", "/pools"): None,
    ("GET", "/deliveries"): None,
    ("GET", "/search"): None,
    ("GET", "/login"): None,
    ("POST", "/login"): SESSION,
    ("POST", "/logout"): SESSION,
    ("GET", "/static/{name}"): None,
    ("GET", "/metrics"): None,
    ("GET", "/api/v1/health"): None,
    ("GET", "/api/v1/status"): None,
    ("GET", "/api/v1/runs"): None,
    ("GET", "/api/v1/runs/{run_id}"): None,
    ("GET", "/api/v1/runs/{run_id}/log"): None,
    ("GET", "/api/v1/runs/{run_id}/log/stream"): None,
    ("GET", "/api/v1/partitions"): None,
    ("GET", "/api/v1/plan"): None,
    ("GET", "/api/v1/events/stream"): None,
    ("GET", "/api/v1/openapi.json"): None,
    ("POST", "/api/v1/notify"): "operator",
    ("POST", "/api/v1/runs"): "operator",
    ("POST", "/api/v1/backfills"): "operator",
    ("POST", "/api/v1/runs/{run_id}/cancel"): "operator",
    ("GET", "/api/v1/cords"): None,
    ("GET", "/api/v1/cords/{cord_id}"): None,
    ("POST", "/api/v1/cords"): "operator",
    ("POST", "/api/v1/cords/{cord_id}/resolve"): "operator",
    ("POST", "/api/v1/cords/{cord_id}/restore"): "operator",
    ("GET", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens"): "admin",
    ("POST", "/api/v1/tokens/{token_id}/revoke"): "admin",
}

# no inline script or style anywhere: the board's script and style sheet are files of the package
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")
COOKIE = "andon_session"
MAX_OFFSET = 2**53  # larger offsets (paging, log bytes) are refused: they fit no database integer
CSRF_HEADER = "x-csrf-token"


def _always() -> bool:
    return True


@dataclass
class WebContext:
    """What the web layer needs: the service, a way to submit events (to the running scheduler)
    and answer whether they were new, a clock, a token lookup, whether the scheduler loop is
    alive, and a way to hear of committed events (``Runner.subscribe``) for live updates."""

    service: Service
    submit: Callable[[Sequence[Event]], Awaitable[list[bool]]]
    now: Callable[[], datetime]
    token_role: Callable[[str], str | None]
    project: str = ""
    alive: Callable[[], bool] = _always
    subscribe: Callable[[Callable[[Sequence[Event]], None]], None] | None = None
    token_name: Callable[[str], str] | None = None  # who did it, in events ("api" without)
    limits: Limits = Limits()  # what one request may be (the server's settings)


@dataclass(frozen=True)
class Session:
    """A signed-in browser: its role and the CSRF token its forms and scripts send back."""

    role: str
    csrf: str

    @property
    def operator(self) -> bool:
        return role_at_least(self.role, "operator")


class HTTPError(AndonError):
    def __init__(self, status: int, message: str, hint: str = "", where: str = "") -> None:
        super().__init__(message, hint=hint, where=where)
        self.http_status = status


def _error(exc: AndonError) -> JSONResponse:
    body = exc.to_dict()
    if exc.http_status == 422 and exc.where:
        body["field"] = exc.where
    return JSONResponse(body, status_code=exc.http_status)


async def _body(request: Request, fields: dict[str, type], limits: Limits) -> dict[str, Any]:
    """Parse a JSON object body within ``limits`` (413 past the size cap, 422 past the depth or
    a string's length); 422 naming the field for anything missing or mistyped. ``name?``: an
    optional field."""
    data = parse_json(await read_body(request, limits), limits)
    if not isinstance(data, dict):
        raise HTTPError(422, "the body must be a JSON object", hint="send a JSON object")
    out = {}
    for name, typ in fields.items():
        optional = name.endswith("?")
        key = name.rstrip("?")
        if key not in data or data[key] is None:
            if optional:
                continue
            raise HTTPError(422, f"field {key!r} is required", where=key,
                            hint=f"send {key!r} as a {typ.__name__}")
        if not isinstance(data[key], typ) or (typ is not bool and isinstance(data[key], bool)):
            raise HTTPError(422, f"field {key!r} must be a {typ.__name__}", where=key,
                            hint=f"send {key!r} as a {typ.__name__}")
        out[key] = data[key]
    return out


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    if not header.lower().startswith("bearer ") or not header[7:].strip():
        raise HTTPError(401, "the Authorization header is not 'Bearer <token>'",
                        hint="send 'Authorization: Bearer <token>'")
    return header[7:].strip()


def _same_origin(request: Request) -> bool:
    """False only for a browser request that says it comes from another site."""
    origin = request.headers.get("origin")
    return origin is None or origin == f"{request.url.scheme}://{request.url.netloc}"


def create_app(ctx: WebContext) -> Starlette:
    """Build the Starlette application."""
    from andon.web import metrics, openapi
    from andon.web.live import EventHub
    from andon.web.logstream import FileWatch, follow
    from andon.web.pages import Pages, environment

    svc = ctx.service
    limits = ctx.limits
    hub = EventHub(svc.store, ctx.now)
    if ctx.subscribe is not None:
        ctx.subscribe(hub.on_events)
    pages = Pages(ctx, environment())
    log_files = FileWatch()  # wakes the log streams when their files are written

    def session_of(request: Request) -> Session | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        role = ctx.token_role(digest(token))
        return Session(role, csrf_for(token)) if role else None

    def authorize(request: Request, needed: str) -> str:
        """Let the request through with a bearer token, or a session cookie plus the page's CSRF
        token, of at least the ``needed`` role, and return the token's digest (``by`` names
        who it is); else 401 or 403 (as JSON)."""
        token = _bearer(request)
        from_cookie = token is None
        if token is None:
            token = request.cookies.get(COOKIE)
        if not token:
            raise HTTPError(401, "this action needs an API token",
                            hint="send 'Authorization: Bearer <token>', or sign in on the board")
        role = ctx.token_role(digest(token))
        if role is None:
            raise HTTPError(401, "the API token is unknown or revoked",
                            hint="create one with `andon token create`")
        if from_cookie and not (_same_origin(request) and same(
                request.headers.get(CSRF_HEADER, ""), csrf_for(token))):
            raise HTTPError(403, "the request lacks the page's CSRF token",
                            hint="reload the page and try again")
        if not role_at_least(role, needed):
            raise HTTPError(403, f"this action needs the {needed} role; the token has {role}",
                            hint="use a token with a stronger role")
        return digest(token)

    def by(request: Request) -> str:
        """Who made an authorized request: its token's label ("api" without one), looked up only
        by the routes that record it (notify, the busiest route, does not)."""
        name = ctx.token_name(request.state.token) if ctx.token_name else ""
        return name or "api"

    def guarded(method: str, path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
        needed = PERMISSIONS[(method, path)]
        is_page = not path.startswith("/api/") and path != "/metrics"

        async def endpoint(request: Request) -> Response:
            try:
                if needed is not None and needed != SESSION:
                    request.state.token = authorize(request, needed)
                    if request.method != "GET":  # a change the store could not record: 503
                        unavailable = svc.store.unavailable()
                        if unavailable is not None:
                            raise unavailable
                if is_page:
                    request.state.session = session_of(request)
                response = await handler(request)
            except AndonError as exc:
                if is_page and request.method == "GET":
                    response = pages.error(request, exc.http_status, exc.message, exc.hint)
                else:
                    response = _error(exc)
            if isinstance(response, HTMLResponse):
                response.headers["Content-Security-Policy"] = CSP
                response.headers["Referrer-Policy"] = "same-origin"
                response.headers["X-Frame-Options"] = "DENY"
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return Route(path, endpoint, methods=[method])

    async def health(request: Request) -> Response:
        body: dict[str, Any] = {"ok": True, "database": True, "project": ctx.project,
                                "scheduler": ctx.alive(), "workers": svc.workers(),
                                "problems": svc.problems()}
        unavailable = svc.store.unavailable()
        if unavailable is not None:  # deleted or replaced under the server: say so, with 503
            body.update(ok=False, database=unavailable.state, message=unavailable.message,
                        where=unavailable.where, hint=unavailable.hint)
            return JSONResponse(body, status_code=503)
        body["database"] = await run_in_threadpool(svc.store.ping)  # a query: off the loop
        return JSONResponse(body)

    async def status(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(svc.status))

    async def runs(request: Request) -> Response:
        q = request.query_params
        try:
            limit = min(int(q.get("limit", 50)), 1000)
            offset = int(q.get("offset", 0))
        except ValueError:
            raise HTTPError(422, "limit and offset must be whole numbers", where="limit") from None
        if limit < 0 or offset < 0:
            raise HTTPError(422, "limit and offset must not be negative", where="limit")
        if offset > MAX_OFFSET:
            raise HTTPError(422, f"offset must be at most {MAX_OFFSET}", where="offset")
        return JSONResponse(await run_in_threadpool(
            svc.runs, q.get("pipeline"), q.get("status"), q.get("partition"), limit, offset))

    async def run(request: Request) -> Response:
        return JSONResponse(svc.run(request.path_params["run_id"]))

    async def run_log(request: Request) -> Response:
        """One page of the run's log: ``limit`` bytes (at most, and by default, the
        log_page_bytes setting) from byte ``offset``; ``X-Andon-Next-Offset`` is where the next
        page starts (the log's end when this one reached it)."""
        q = request.query_params
        try:
            offset = int(q.get("offset", 0))
            limit = int(q.get("limit", limits.log_page_bytes))
        except ValueError:
            raise HTTPError(422, "offset and limit must be whole numbers of bytes",
                            where="offset" if "limit" not in q else "limit") from None
        if not 0 <= offset <= MAX_OFFSET:
            raise HTTPError(422, f"offset must be between 0 and {MAX_OFFSET}", where="offset")
        if limit < 1:
            raise HTTPError(422, "limit must be at least 1 byte", where="limit")
        text, after = await run_in_threadpool(svc.log_page, request.path_params["run_id"],
                                              offset, min(limit, limits.log_page_bytes))
        return PlainTextResponse(text, headers={"X-Andon-Next-Offset": str(after)})

    async def run_log_stream(request: Request) -> Response:
        """The log as server-sent events while the run executes (``andon.web.logstream``), from
        ``Last-Event-ID`` (a byte offset, sent by a reconnecting browser) or ``offset``."""
        raw = request.headers.get("last-event-id") or request.query_params.get("offset") or "0"
        try:
            offset = int(raw)
        except ValueError:
            raise HTTPError(422, "Last-Event-ID and offset must be a whole number of bytes",
                            where="offset") from None
        if not 0 <= offset <= MAX_OFFSET:
            raise HTTPError(422, f"offset must be between 0 and {MAX_OFFSET}", where="offset")
        run_id = request.path_params["run_id"]
        await run_in_threadpool(svc.run, run_id)  # 404 before the stream starts
        return StreamingResponse(follow(svc, hub, log_files, run_id, offset),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def partitions(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(svc.store.partitions,
                                                    request.query_params.get("asset")))

    async def plan(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(svc.plan, ctx.now()))

    async def notify(request: Request) -> Response:
        body = await _body(request, {"asset": str, "partition": str, "id?": str}, limits)
        # hashes the source file (it may be gigabytes): off the event loop
        event = await run_in_threadpool(svc.notify, body["asset"], body["partition"], ctx.now(),
                                        "api", body.get("id"))
        (new,) = await ctx.submit([event])
        return JSONResponse({"id": event.id, "recorded": new}, status_code=201 if new else 200)

    async def request_run(request: Request) -> Response:
        body = await _body(request, {"pipeline": str, "partition": str}, limits)
        event = svc.run_request(body["pipeline"], body["partition"], ctx.now(), "manual",
                                by(request))
        await ctx.submit([event])
        return JSONResponse({"id": event.id}, status_code=202)

    async def backfill(request: Request) -> Response:
        body = await _body(request, {"pipeline": str, "from": str, "to": str}, limits)
        events = await run_in_threadpool(svc.backfill, body["pipeline"], body["from"],
                                         body["to"], ctx.now(), by(request))
        await ctx.submit(events)
        return JSONResponse({"partitions": [e.partition for e in events]}, status_code=202)

    async def cancel(request: Request) -> Response:
        event = await run_in_threadpool(svc.cancel, request.path_params["run_id"], ctx.now(),
                                        by(request))
        await ctx.submit([event])
        return JSONResponse({"id": event.id}, status_code=202)

    async def cords(request: Request) -> Response:
        everything = request.query_params.get("all", "") in ("1", "true", "yes")
        return JSONResponse(await run_in_threadpool(svc.cords, everything))

    async def cord(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(svc.cord, request.path_params["cord_id"]))

    async def pull_cord(request: Request) -> Response:
        body = await _body(request, {"asset": str, "partition": str, "reason": str}, limits)
        event = await run_in_threadpool(svc.cord_pull, body["asset"], body["partition"],
                                        body["reason"], ctx.now(), by(request))
        (new,) = await ctx.submit([event])
        return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                            status_code=201 if new else 200)

    async def resolve_cord(request: Request) -> Response:
        body = await _body(request, {"note": str, "manual_fix?": bool}, limits)
        event = await run_in_threadpool(svc.cord_resolve, request.path_params["cord_id"],
                                        body["note"], ctx.now(), by(request),
                                        body.get("manual_fix", False))
        (new,) = await ctx.submit([event])
        return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                            status_code=202)

    async def restore_output(request: Request) -> Response:
        body = await _body(request, {"asset": str, "partition": str, "version?": int}, limits)
        # moves files (a folder across file systems is a copy): off the event loop
        event = await run_in_threadpool(
            svc.output_restore, request.path_params["cord_id"], body["asset"],
            body["partition"], body.get("version"), ctx.now(), by(request))
        (new,) = await ctx.submit([event])
        return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new,
                             "asset": event.asset, "partition": event.partition,
                             "version": event.version, "location": event.location})

    async def tokens(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(svc.tokens))

    async def create_token(request: Request) -> Response:
        body = await _body(request, {"role": str, "name?": str}, limits)
        made = svc.token_create(body["role"], body.get("name", ""), ctx.now())
        # the only answer that holds a token: shown once, kept by no cache
        return JSONResponse(made, status_code=201, headers={"Cache-Control": "no-store"})

    async def revoke_token(request: Request) -> Response:
        ident = request.path_params["token_id"]
        if ident.startswith(PREFIX):
            raise HTTPError(422, "the path names a token by its id, not by the token itself",
                            where="token_id", hint="find its id with GET /api/v1/tokens; a "
                            "token sent in a URL may be in logs now: revoke it by its id")
        return JSONResponse(svc.token_revoke(ident, ctx.now()))

    async def events_stream(request: Request) -> Response:
        raw = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        try:
            last = int(raw) if raw not in (None, "") else None
        except ValueError:
            raise HTTPError(422, "Last-Event-ID must be the whole number of an event",
                            where="Last-Event-ID") from None
        if last is not None and not 0 <= last <= MAX_OFFSET:
            raise HTTPError(422, f"Last-Event-ID must be between 0 and {MAX_OFFSET}",
                            where="Last-Event-ID", hint="reconnect without it to start afresh")
        return StreamingResponse(hub.stream(last), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi.document())

    async def metrics_text(request: Request) -> Response:
        text = await run_in_threadpool(
            lambda: metrics.render(svc, svc.plan(ctx.now(), detail=False), ctx.alive()))
        return Response(text, media_type=metrics.CONTENT_TYPE)

    static = _static_files()

    async def static_file(request: Request) -> Response:
        found = static.get(request.path_params["name"])
        if found is None:
            raise HTTPError(404, "no such file")
        body, media_type, etag = found
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(body, media_type=media_type, headers=headers)

    async def login(request: Request) -> Response:
        """Sign a browser in with an API token: the token goes into an HttpOnly, SameSite=Strict
        cookie (scripts cannot read it, other sites cannot send it)."""
        if not _same_origin(request):  # before the body is read
            raise HTTPError(403, "sign in from the board's own page")
        form = parse_qs((await read_body(request, limits)).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0].strip()
        target = safe_next((form.get("next") or ["/"])[0])
        if not token or ctx.token_role(digest(token)) is None:
            return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https", path="/")
        return response

    async def logout(request: Request) -> Response:
        form = parse_qs((await read_body(request, limits)).decode("utf-8", "replace"))
        token = request.cookies.get(COOKIE, "")
        if token and not same((form.get("csrf") or [""])[0], csrf_for(token)):
            raise HTTPError(403, "the request lacks the page's CSRF token",
                            hint="reload the page and try again")
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    handlers: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
        **pages.routes(),
        ("POST", "/login"): login, ("POST", "/logout"): logout,
        ("GET", "/static/{name}"): static_file, ("GET", "/metrics"): metrics_text,
        ("GET", "/api/v1/health"): health,
        ("GET", "/api/v1/status"): status, ("GET", "/api/v1/runs"): runs,
        ("GET", "/api/v1/runs/{run_id}"): run, ("GET", "/api/v1/runs/{run_id}/log"): run_log,
        ("GET", "/api/v1/runs/{run_id}/log/stream"): run_log_stream,
        ("GET", "/api/v1/partitions"): partitions, ("POST", "/api/v1/notify"): notify,
        ("GET", "/api/v1/plan"): plan,
        ("POST", "/api/v1/runs"): request_run, ("POST", "/api/v1/backfills"): backfill,
        ("POST", "/api/v1/runs/{run_id}/cancel"): cancel,
        ("GET", "/api/v1/cords"): cords, ("GET", "/api/v1/cords/{cord_id}"): cord,
        ("POST", "/api/v1/cords"): pull_cord,
        ("POST", "/api/v1/cords/{cord_id}/resolve"): resolve_cord,
        ("POST", "/api/v1/cords/{cord_id}/restore"): restore_output,
        ("GET", "/api/v1/tokens"): tokens, ("POST", "/api/v1/tokens"): create_token,
        ("POST", "/api/v1/tokens/{token_id}/revoke"): revoke_token,
        ("GET", "/api/v1/events/stream"): events_stream,
        ("GET", "/api/v1/openapi.json"): openapi_json,
    }
    routes = [guarded(m, p, h) for (m, p), h in handlers.items()]
    # pages and lists shrink ~10x; small answers and the event stream are sent as they are
    async def unrouted(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 404)
        message = "no such page or route" if code == 404 else \
            f"{request.method} is not allowed on {request.url.path[:200]}"
        return _error(HTTPError(code, message, hint="the API is described at "
                                                    "/api/v1/openapi.json"))

    app = Starlette(routes=routes, exception_handlers={404: unrouted, 405: unrouted},
                    middleware=[Middleware(guard, limits=limits),
                                Middleware(GZipMiddleware, minimum_size=2048)])
    app.state.hub = hub  # the server ends the streams on its way out (hub.close)
    return app


def _static_files() -> dict[str, tuple[bytes, str, str]]:
    """The board's script and style sheet (read once): name -> (body, media type, ETag)."""
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
             ".svg": "image/svg+xml"}
    out = {}
    for path in sorted((Path(__file__).parent / "static").iterdir()):
        if path.suffix in types:
            body = path.read_bytes()
            out[path.name] = (body, types[path.suffix],
                              '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return out
