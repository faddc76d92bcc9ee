"""The HTTP API (``/api/v1``), the board's pages, live updates and ``/metrics``, over the
shared Service: one Starlette application made from the route table (``andon.web.routes``, each
route's handler and description in ``andon.web.endpoints``).

State-changing routes need a token of at least the route's role: a bearer token, or the board's
session cookie together with the page's CSRF token. Read-only routes are open (the server binds
to 127.0.0.1 by default), except the token list: managing tokens needs the admin role. API errors
come back as JSON: 401 without a token, 403 for a weaker role, 404 for unknown objects, 422 for a
malformed request (``where``/``field`` name the field), 413 for a body past the cap and 421 for a
Host the server does not answer to (``andon.web.limits``). Every query, and the work that can take
long (hashing a source, planning, building a backfill, cord changes), runs on worker threads, so
the event loop, the live streams and ``/api/v1/health`` always answer.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as StarletteRoute

from andon.model.errors import AndonError
from andon.web import openapi, pages
from andon.web.auth import authorize, session_of
from andon.web.context import Handler, HTTPError, Web, WebContext, error_response, web_of
from andon.web.endpoints import ENDPOINTS
from andon.web.limits import guard
from andon.web.live import EventHub
from andon.web.logstream import FileWatch
from andon.web.routes import ROUTES, SESSION, Route

# no inline script or style anywhere: the board's script and style sheet are files of the package
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
       "form-action 'self'")


def create_app(ctx: WebContext) -> Starlette:
    """Build the Starlette application: every route of ROUTES with its handler, behind its
    role; ``app.state.web`` holds what the handlers share (``andon.web.context.Web``)."""
    named = {r.name for r in ROUTES}
    if named != set(ENDPOINTS):
        raise RuntimeError(f"routes without an endpoint: {sorted(named - set(ENDPOINTS))}; "
                           f"endpoints without a route: {sorted(set(ENDPOINTS) - named)}")
    hub = EventHub(ctx.service.store, ctx.now)
    if ctx.subscribe is not None:
        ctx.subscribe(hub.on_events)
    document = openapi.document((r, doc) for r in ROUTES
                                if (doc := ENDPOINTS[r.name].doc) is not None)
    web = Web(ctx, hub, FileWatch(), pages.environment(), pages.static_files(), document)

    async def unrouted(request: Request, exc: Exception) -> Response:
        code = getattr(exc, "status_code", 404)
        message = "no such page or route" if code == 404 else \
            f"{request.method} is not allowed on {request.url.path[:200]}"
        return error_response(HTTPError(code, message, hint="the API is described at "
                                                            "/api/v1/openapi.json"))

    # pages and lists shrink ~10x; small answers and the event stream are sent as they are
    app = Starlette(routes=[_guarded(r, ENDPOINTS[r.name].handler) for r in ROUTES],
                    exception_handlers={404: unrouted, 405: unrouted},
                    middleware=[Middleware(guard, limits=ctx.limits),
                                Middleware(GZipMiddleware, minimum_size=2048)])
    app.state.web = web
    app.state.hub = hub  # the server ends the streams on its way out (hub.close)
    return app


def _guarded(route: Route, handler: Handler) -> StarletteRoute:
    """The route behind its role: authorized (a change also needs a store that can record it:
    503), the browser's session looked up for a page, errors answered as JSON (or as an HTML
    page for a page), and the security headers set."""
    needed = route.role

    async def endpoint(request: Request) -> Response:
        try:
            if needed is not None and needed != SESSION:
                request.state.token = await authorize(request, needed)
                if request.method != "GET":  # a change the store could not record: 503
                    unavailable = web_of(request).svc.store.unavailable()
                    if unavailable is not None:
                        raise unavailable
            if route.is_page:
                request.state.session = await session_of(request)
            response = await handler(request)
        except AndonError as exc:
            if route.is_page and request.method == "GET":
                # the error page shows the health strip: queries, so off the loop
                said = f"{exc.where}: {exc.message}" if exc.where else exc.message
                response = await run_in_threadpool(pages.error, request, exc.http_status, said,
                                                   exc.hint)
            else:
                response = error_response(exc)
        if isinstance(response, HTMLResponse):
            response.headers["Content-Security-Policy"] = CSP
            response.headers["Referrer-Policy"] = "same-origin"
            response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    return StarletteRoute(route.path, endpoint, methods=[route.method])
