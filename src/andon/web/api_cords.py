"""The API's andon cords: listing and reading them, pulling, resolving, and restoring a
quarantined output. Store reads and file moves run on worker threads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.web.auth import by
from andon.web.context import json_fields, web_of


async def list_cords(request: Request) -> Response:
    everything = request.query_params.get("all", "") in ("1", "true", "yes")
    return JSONResponse(await run_in_threadpool(web_of(request).svc.cords, everything))


async def get_cord(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(web_of(request).svc.cord,
                                                request.path_params["cord_id"]))


async def pull_cord(request: Request) -> Response:
    body = await json_fields(request, {"asset": str, "partition": str, "reason": str})
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.cord_pull, body["asset"], body["partition"],
                                    body["reason"], ctx.now(), await by(request))
    (new,) = await ctx.submit([event])
    return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                        status_code=201 if new else 200)


async def resolve_cord(request: Request) -> Response:
    body = await json_fields(request, {"note": str, "manual_fix?": bool})
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.cord_resolve, request.path_params["cord_id"],
                                    body["note"], ctx.now(), await by(request),
                                    body.get("manual_fix", False))
    (new,) = await ctx.submit([event])
    return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new},
                        status_code=202)


async def restore_output(request: Request) -> Response:
    body = await json_fields(request, {"asset": str, "partition": str, "version?": int})
    ctx = web_of(request).ctx
    # moves files (a folder across file systems is a copy): off the event loop
    event = await run_in_threadpool(
        ctx.service.output_restore, request.path_params["cord_id"], body["asset"],
        body["partition"], body.get("version"), ctx.now(), await by(request))
    (new,) = await ctx.submit([event])
    return JSONResponse({"cord_id": event.cord_id, "id": event.id, "recorded": new,
                         "asset": event.asset, "partition": event.partition,
                         "version": event.version, "location": event.location})
