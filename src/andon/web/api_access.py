"""The API's access requests and registered consumers: any valid token may ask (the requester is
the token's name) and register itself; deciding needs an operator or admin token, or a token
named as one of the data set's owners (``andon.live.access``). Every write is an event the
running scheduler records; store reads run on worker threads."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.model.errors import Conflict
from andon.web.auth import by
from andon.web.context import json_fields, web_of


async def _who(request: Request) -> tuple[str, str | None]:
    """The caller's name (as events record it) and its token's role."""
    ctx = web_of(request).ctx
    role = await run_in_threadpool(ctx.token_role, request.state.token)
    return await by(request), role


async def list_access_requests(request: Request) -> Response:
    params = request.query_params
    return JSONResponse(await run_in_threadpool(web_of(request).svc.access.requests,
                                                params.get("asset"), params.get("status")))


async def get_access_request(request: Request) -> Response:
    desk = web_of(request).svc.access

    def read() -> dict[str, object]:
        found = desk.get(request.path_params["request_id"])
        return {**found, "consumers": desk.consumers(found["asset"])}

    return JSONResponse(await run_in_threadpool(read))


async def request_access(request: Request) -> Response:
    body = await json_fields(request, {"asset": str, "reason": str, "until?": str,
                                       "answers?": dict, "contact?": str}, strict=True)
    ctx = web_of(request).ctx
    desk = ctx.service.access
    requester, _role = await _who(request)
    for skip in range(3):  # a request recorded meanwhile took the id: count on
        event = await run_in_threadpool(desk.request, body["asset"], requester, body["reason"],
                                        body.get("until"), body.get("answers"),
                                        body.get("contact", ""), ctx.now(), skip)
        (new,) = await ctx.submit([event])
        if new:
            break
    found = await run_in_threadpool(desk.get, event.request_id)
    return JSONResponse(found, status_code=201)


async def _decide(request: Request, approve: bool) -> Response:
    field = "note" if approve else "reason"
    body = await json_fields(request, {"note?": str} if approve else {"reason": str},
                             strict=True)
    ctx = web_of(request).ctx
    desk = ctx.service.access
    request_id = request.path_params["request_id"]
    who, role = await _who(request)
    event = await run_in_threadpool(desk.decide, request_id, approve, body.get(field, ""),
                                    ctx.now(), who, role)
    (new,) = await ctx.submit([event])
    if not new:  # decided by someone else between the check and the log
        raise Conflict(f"access request {request_id} was decided already",
                       hint=f"GET /api/v1/access-requests/{request_id} shows how")
    return JSONResponse(await run_in_threadpool(desk.get, request_id))


async def approve_access(request: Request) -> Response:
    return await _decide(request, True)


async def reject_access(request: Request) -> Response:
    return await _decide(request, False)


async def list_consumers(request: Request) -> Response:
    return JSONResponse(await run_in_threadpool(web_of(request).svc.access.consumers,
                                                request.query_params.get("asset")))


async def subscribe(request: Request) -> Response:
    body = await json_fields(request, {"until?": str, "consumer?": str}, strict=True)
    ctx = web_of(request).ctx
    who, role = await _who(request)
    event = await run_in_threadpool(ctx.service.access.subscribe, request.path_params["name"],
                                    body.get("consumer", who), body.get("until"), ctx.now(),
                                    who, role)
    await ctx.submit([event])
    return JSONResponse({"asset": event.asset, "consumer": event.consumer,
                         "until": event.until}, status_code=201)


async def unsubscribe(request: Request) -> Response:
    body = await json_fields(request, {"consumer?": str}, strict=True)
    ctx = web_of(request).ctx
    who, role = await _who(request)
    event = await run_in_threadpool(ctx.service.access.unsubscribe, request.path_params["name"],
                                    body.get("consumer", who), ctx.now(), who, role)
    await ctx.submit([event])
    return JSONResponse({"asset": event.asset, "consumer": event.consumer})
