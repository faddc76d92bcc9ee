"""How things stand: the server's health, the status, the partitions, the plan, the live event
stream, the metrics and the API's own description. Every query runs on a worker thread, so
``/api/v1/health`` and the streams answer while a slow one runs."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from andon.model.views import to_json
from andon.web import metrics as prometheus
from andon.web.api_runs import SSE_HEADERS
from andon.web.context import MAX_OFFSET, HTTPError, web_of


async def health(request: Request) -> Response:
    ctx = web_of(request).ctx
    svc = ctx.service
    # the workers come from the scheduler's memory, or else from a query
    body: dict[str, Any] = {"ok": True, "database": True, "project": ctx.project,
                            "scheduler": ctx.alive(),
                            "workers": to_json(await run_in_threadpool(svc.workers)),
                            "problems": to_json(svc.problems())}
    unavailable = svc.store.unavailable()  # a stat per watched path, no query
    if unavailable is not None:  # deleted or replaced under the server: say so, with 503
        body.update(ok=False, database=unavailable.state, message=unavailable.message,
                    where=unavailable.where, hint=unavailable.hint)
        return JSONResponse(body, status_code=503)
    body["database"] = await run_in_threadpool(svc.store.ping)
    return JSONResponse(body)


async def status(request: Request) -> Response:
    ctx = web_of(request).ctx
    body = to_json(await run_in_threadpool(ctx.service.status))
    if ctx.team is not None:  # a team on PostgreSQL: role, leader and fencing token
        body.update(await run_in_threadpool(ctx.team))
    return JSONResponse(body)


async def partitions(request: Request) -> Response:
    return JSONResponse(to_json(await run_in_threadpool(web_of(request).svc.store.partitions,
                                                        request.query_params.get("asset"))))


async def plan(request: Request) -> Response:
    ctx = web_of(request).ctx
    return JSONResponse((await run_in_threadpool(ctx.service.plan, ctx.now())).to_json())


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
    return StreamingResponse(web_of(request).hub.stream(last), media_type="text/event-stream",
                             headers=SSE_HEADERS)


async def openapi(request: Request) -> Response:
    return JSONResponse(web_of(request).openapi)


async def metrics(request: Request) -> Response:
    ctx = web_of(request).ctx
    svc = ctx.service
    text = await run_in_threadpool(
        lambda: prometheus.render(svc, svc.plan(ctx.now(), detail=False), ctx.alive()))
    return Response(text, media_type=prometheus.CONTENT_TYPE)
