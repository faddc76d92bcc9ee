"""The API's runs: listing and reading them and their logs, and the requests that make them
(a source's notify, a manual run, a backfill, a cancel). Every store read and every hash of a
source runs on a worker thread: the event loop keeps answering (and pushing the live streams)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from andon.model.views import to_json
from andon.web.auth import by
from andon.web.context import MAX_OFFSET, HTTPError, json_fields, web_of
from andon.web.logstream import follow

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


async def list_runs(request: Request) -> Response:
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
    return JSONResponse(to_json(await run_in_threadpool(
        web_of(request).svc.runs, q.get("pipeline"), q.get("status"), q.get("partition"),
        limit, offset)))


async def get_run(request: Request) -> Response:
    return JSONResponse(to_json(await run_in_threadpool(web_of(request).svc.run,
                                                        request.path_params["run_id"])))


async def run_log(request: Request) -> Response:
    """One page of the run's log: ``limit`` bytes (at most, and by default, the log_page_bytes
    setting) from byte ``offset``; ``X-Andon-Next-Offset`` is where the next page starts (the
    log's end when this one reached it)."""
    web, q = web_of(request), request.query_params
    page_bytes = web.ctx.limits.log_page_bytes
    try:
        offset = int(q.get("offset", 0))
        limit = int(q.get("limit", page_bytes))
    except ValueError:
        raise HTTPError(422, "offset and limit must be whole numbers of bytes",
                        where="offset" if "limit" not in q else "limit") from None
    if not 0 <= offset <= MAX_OFFSET:
        raise HTTPError(422, f"offset must be between 0 and {MAX_OFFSET}", where="offset")
    if limit < 1:
        raise HTTPError(422, "limit must be at least 1 byte", where="limit")
    text, after = await run_in_threadpool(web.svc.log_page, request.path_params["run_id"],
                                          offset, min(limit, page_bytes))
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
    web, run_id = web_of(request), request.path_params["run_id"]
    await run_in_threadpool(web.svc.run, run_id)  # 404 before the stream starts
    return StreamingResponse(follow(web.svc, web.hub, web.log_files, run_id, offset),
                             media_type="text/event-stream", headers=SSE_HEADERS)


async def notify(request: Request) -> Response:
    body = await json_fields(request, {"asset": str, "partition": str, "id?": str})
    ctx = web_of(request).ctx
    # hashes the source file (it may be gigabytes): off the event loop
    event = await run_in_threadpool(ctx.service.notify, body["asset"], body["partition"],
                                    ctx.now(), "api", body.get("id"))
    (new,) = await ctx.submit([event])
    return JSONResponse({"id": event.id, "recorded": new}, status_code=201 if new else 200)


async def request_run(request: Request) -> Response:
    body = await json_fields(request, {"pipeline": str, "partition": str})
    ctx = web_of(request).ctx
    event = ctx.service.run_request(body["pipeline"], body["partition"], ctx.now(), "manual",
                                    await by(request))  # the project's graph: no query
    await ctx.submit([event])
    return JSONResponse({"id": event.id}, status_code=202)


async def backfill(request: Request) -> Response:
    body = await json_fields(request, {"pipeline": str, "from": str, "to": str})
    ctx = web_of(request).ctx
    events = await run_in_threadpool(ctx.service.backfill, body["pipeline"], body["from"],
                                     body["to"], ctx.now(), await by(request))
    await ctx.submit(events)
    return JSONResponse({"partitions": [e.partition for e in events]}, status_code=202)


async def cancel_run(request: Request) -> Response:
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.cancel, request.path_params["run_id"],
                                    ctx.now(), await by(request))
    await ctx.submit([event])
    return JSONResponse({"id": event.id}, status_code=202)
