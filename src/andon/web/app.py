"""The HTTP API (``/api/v1``) and a minimal status page, over the shared Service.

State-changing routes need a token of at least the role in PERMISSIONS; read-only routes are open
(the server binds to 127.0.0.1 by default). Errors come back as JSON: 401 without a token, 403 for
a weaker role, 404 for unknown objects, 422 for a malformed body (naming the field).
"""

from __future__ import annotations

import html
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from andon.events import Event
from andon.model.errors import AndonError
from andon.service import Service
from andon.web.auth import digest, role_at_least

# (method, path) -> the least role needed; None = open for reading
PERMISSIONS: dict[tuple[str, str], str | None] = {
    ("GET", "/"): None,
    ("GET", "/api/v1/health"): None,
    ("GET", "/api/v1/status"): None,
    ("GET", "/api/v1/runs"): None,
    ("GET", "/api/v1/runs/{run_id}"): None,
    ("GET", "/api/v1/runs/{run_id}/log"): None,
    ("GET", "/api/v1/partitions"): None,
    ("GET", "/api/v1/plan"): None,
    ("POST", "/api/v1/notify"): "operator",
    ("POST", "/api/v1/runs"): "operator",
    ("POST", "/api/v1/backfills"): "operator",
    ("POST", "/api/v1/runs/{run_id}/cancel"): "operator",
    ("GET", "/api/v1/cords"): None,
    ("GET", "/api/v1/cords/{cord_id}"): None,
    ("POST", "/api/v1/cords"): "operator",
    ("POST", "/api/v1/cords/{cord_id}/resolve"): "operator",
}

CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; " \
      "img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


@dataclass
class WebContext:
    """What the web layer needs: the service, a way to submit events (to the running scheduler)
    and answer whether they were new, a clock, and a token lookup."""

    service: Service
    submit: Callable[[Sequence[Event]], Awaitable[list[bool]]]
    now: Callable[[], datetime]
    token_role: Callable[[str], str | None]
    project: str = ""


class HTTPError(AndonError):
    def __init__(self, status: int, message: str, hint: str = "", where: str = "") -> None:
        super().__init__(message, hint=hint, where=where)
        self.http_status = status


def _error(exc: AndonError) -> JSONResponse:
    return JSONResponse(exc.to_dict(), status_code=exc.http_status)


async def _body(request: Request, fields: dict[str, type]) -> dict[str, Any]:
    """Parse a JSON object body; 422 naming the field for anything missing or mistyped."""
    try:
        data = json.loads(await request.body() or b"null")
    except ValueError as exc:
        raise HTTPError(422, f"the body is not valid JSON: {exc}", hint="send a JSON object") from None
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
        if not isinstance(data[key], typ) or isinstance(data[key], bool):
            raise HTTPError(422, f"field {key!r} must be a {typ.__name__}", where=key,
                            hint=f"send {key!r} as a {typ.__name__}")
        out[key] = data[key]
    return out


def create_app(ctx: WebContext) -> Starlette:
    """Build the Starlette application."""

    def guarded(method: str, path: str, handler: Callable[[Request], Awaitable[Response]]) -> Route:
        needed = PERMISSIONS[(method, path)]

        async def endpoint(request: Request) -> Response:
            try:
                if needed is not None:
                    header = request.headers.get("authorization", "")
                    if not header.lower().startswith("bearer ") or not header[7:].strip():
                        raise HTTPError(401, "this action needs an API token",
                                        hint="send 'Authorization: Bearer <token>'")
                    role = ctx.token_role(digest(header[7:].strip()))
                    if role is None:
                        raise HTTPError(401, "the API token is unknown or revoked",
                                        hint="create one with `andon token create`")
                    if not role_at_least(role, needed):
                        raise HTTPError(403, f"this action needs the {needed} role; the token "
                                        f"has {role}", hint="use a token with a stronger role")
                response = await handler(request)
            except AndonError as exc:
                return _error(exc)
            if isinstance(response, HTMLResponse):
                response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            return response

        return Route(path, endpoint, methods=[method])

    svc = ctx.service

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "database": svc.store.ping(), "project": ctx.project})

    async def status(request: Request) -> Response:
        return JSONResponse(svc.status())

    async def runs(request: Request) -> Response:
        q = request.query_params
        try:
            limit = min(int(q.get("limit", 50)), 1000)
            offset = int(q.get("offset", 0))
        except ValueError:
            raise HTTPError(422, "limit and offset must be whole numbers", where="limit") from None
        return JSONResponse(svc.runs(q.get("pipeline"), q.get("status"), q.get("partition"),
                                     limit, offset))

    async def run(request: Request) -> Response:
        return JSONResponse(svc.run(request.path_params["run_id"]))

    async def run_log(request: Request) -> Response:
        try:
            offset = int(request.query_params.get("offset", 0))
        except ValueError:
            raise HTTPError(422, "offset must be a whole number", where="offset") from None
        return PlainTextResponse(svc.log_text(request.path_params["run_id"], offset))

    async def partitions(request: Request) -> Response:
        return JSONResponse(svc.store.partitions(request.query_params.get("asset")))

    async def plan(request: Request) -> Response:
        return JSONResponse(svc.plan(ctx.now()))

    async def notify(request: Request) -> Response:
        body = await _body(request, {"asset": str, "partition": str, "id?": str})
        event = svc.notify(body["asset"], body["partition"], ctx.now(), "api", body.get("id"))
        (new,) = await ctx.submit([event])
        return JSONResponse({"id": event.id, "recorded": new}, status_code=201 if new else 200)

    async def request_run(request: Request) -> Response:
        body = await _body(request, {"pipeline": str, "partition": str})
        event = svc.run_request(body["pipeline"], body["partition"], ctx.now(), "manual", "api")
        await ctx.submit([event])
        return JSONResponse({"id": event.id}, status_code=202)

    async def backfill(request: Request) -> Response:
        body = await _body(request, {"pipeline": str, "from": str, "to": str})
        events = svc.backfill(body["pipeline"], body["from"], body["to"], ctx.now(), "api")
        await ctx.submit(events)
        return JSONResponse({"partitions": [e.partition for e in events]}, status_code=202)

    async def cancel(request: Request) -> Response:
        event = svc.cancel(request.path_params["run_id"], ctx.now(), "api")
        await ctx.submit([event])
        return JSONResponse({"id": event.id}, status_code=202)

    async def cords(request: Request) -> Response:
        everything = request.query_params.get("all", "") in ("1", "true", "yes")
        return JSONResponse(svc.cords(everything))

    async def cord(request: Request) -> Response:
        return JSONResponse(svc.cord(request.path_params["cord_id"]))

    async def pull_cord(request: Request) -> Response:
        body = await _body(request, {"asset": str, "partition": str, "reason": str})
        event = svc.cord_pull(body["asset"], body["partition"], body["reason"], ctx.now(), "api")
        (new,) = await ctx.submit([event])
        return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                            status_code=201 if new else 200)

    async def resolve_cord(request: Request) -> Response:
        body = await _body(request, {"note": str})
        manual_fix = json.loads(await request.body()).get("manual_fix", False)
        if not isinstance(manual_fix, bool):
            raise HTTPError(422, "field 'manual_fix' must be true or false", where="manual_fix",
                            hint="send 'manual_fix' as a boolean")
        event = svc.cord_resolve(request.path_params["cord_id"], body["note"], ctx.now(), "api",
                                 manual_fix)
        (new,) = await ctx.submit([event])
        return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                            status_code=202)

    async def home(request: Request) -> Response:
        return HTMLResponse(render_status(svc.status(), ctx.project))

    handlers: dict[tuple[str, str], Callable[[Request], Awaitable[Response]]] = {
        ("GET", "/"): home, ("GET", "/api/v1/health"): health,
        ("GET", "/api/v1/status"): status, ("GET", "/api/v1/runs"): runs,
        ("GET", "/api/v1/runs/{run_id}"): run, ("GET", "/api/v1/runs/{run_id}/log"): run_log,
        ("GET", "/api/v1/partitions"): partitions, ("POST", "/api/v1/notify"): notify,
        ("GET", "/api/v1/plan"): plan,
        ("POST", "/api/v1/runs"): request_run, ("POST", "/api/v1/backfills"): backfill,
        ("POST", "/api/v1/runs/{run_id}/cancel"): cancel,
        ("GET", "/api/v1/cords"): cords, ("GET", "/api/v1/cords/{cord_id}"): cord,
        ("POST", "/api/v1/cords"): pull_cord,
        ("POST", "/api/v1/cords/{cord_id}/resolve"): resolve_cord,
    }
    routes = [guarded(m, p, h) for (m, p), h in handlers.items()]
    return Starlette(routes=routes)


def render_status(status: dict[str, Any], project: str) -> str:
    """The minimal status page: one row per pipeline, one per source (every string escaped)."""
    e = html.escape
    rows = "".join(
        f"<tr class='{e(p['state'])}'><td>{e(p['name'])}</td><td>{e(p['state'])}</td>"
        f"<td>{p['partitions']['succeeded']}</td><td>{p['partitions']['running']}</td>"
        f"<td>{p['partitions']['queued']}</td><td>{p['partitions']['failed']}</td></tr>"
        for p in status["pipelines"])
    sources = "".join(
        f"<tr><td>{e(s['name'])}</td><td>{s['partitions']}</td><td>{e(s['latest'] or '-')}</td></tr>"
        for s in status["sources"])
    cords = "".join(
        f"<tr class='halted'><td>{e(c['cord_id'])}</td><td>{e(c['status'])}</td>"
        f"<td>{e(c['asset'])} {e(c['partition'])}</td><td>{e(c['reason'])}</td>"
        f"<td>{e(c['pulled_by'])}</td><td>{c['halted']}</td></tr>"
        for c in status.get("cords", []))
    if cords:
        cords = ("<h2>Andon cords</h2><table><tr><th>cord</th><th>status</th><th>bad partition"
                 "</th><th>reason</th><th>by</th><th>halted</th></tr>" + cords + "</table>")
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>andon - {e(project)}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 10px}}.ok td:nth-child(2){{color:#080}}
.failed td:nth-child(2),.halted td:nth-child(2){{color:#c00}}
.running td:nth-child(2){{color:#b70}}</style></head>
<body><h1>andon &middot; {e(project)}</h1>{cords}
<h2>Pipelines</h2><table><tr><th>pipeline</th><th>state</th><th>succeeded</th><th>running</th>
<th>queued</th><th>failed</th></tr>{rows}</table>
<h2>Sources</h2><table><tr><th>source</th><th>partitions</th><th>latest</th></tr>{sources}</table>
<p>{status['events']} events recorded. API: <a href="/api/v1/status">/api/v1/status</a></p>
</body></html>"""
