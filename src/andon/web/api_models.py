"""The API's models: the listing (``GET /api/v1/models``), one model with its versions, their
metrics and parameters, and its promotions (``GET /api/v1/models/{name}``), and putting a version
into service (``POST /api/v1/models/{name}/promote`` ``{"version", "reason"}``, ``POST
/api/v1/models/{name}/rollback`` ``{"reason"}``): the service checks and builds the event
(``andon.live.models``), the running scheduler records it."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.live.models import answer
from andon.model.limits import MAX_NAME
from andon.model.views import Json
from andon.web.auth import by
from andon.web.context import json_fields, path_name, web_of


def _name(request: Request) -> str:
    """The path's model name; 404 at once for one no model can have."""
    return path_name(request, "name", MAX_NAME, "no model named",
                     "GET /api/v1/models lists the models")


async def list_models(request: Request) -> Response:
    """``{"models": [...]}``: every model of the catalog, by name."""
    ctx = web_of(request).ctx

    def read() -> Json:
        return {"models": [m.to_json() for m in ctx.service.models.listing()]}

    return JSONResponse(await run_in_threadpool(read))


async def get_model(request: Request) -> Response:
    """One model; 404 with the closest name for an unknown one."""
    name = _name(request)
    ctx = web_of(request).ctx
    return JSONResponse((await run_in_threadpool(ctx.service.models.show, name)).to_json())


async def promote_model(request: Request) -> Response:
    """201 ``{"model", "version", "previous", "run_id", "rollback", "id", "recorded"}``; 404
    for an unknown model or version; 409 for the version serving already; 422 naming the field
    for a reason too long or with control characters."""
    name = _name(request)
    body = await json_fields(request, {"version": int, "reason?": str}, strict=True)
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.models.promote_event, name, body["version"],
                                    ctx.now(), body.get("reason", ""), await by(request))
    (new,) = await ctx.submit([event])
    return JSONResponse(answer(event, new), status_code=201)


async def rollback_model(request: Request) -> Response:
    """201 as ``promote_model``; 404 for an unknown model; 409 when no version served before
    the current one."""
    name = _name(request)
    body = await json_fields(request, {"reason?": str}, strict=True)
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.models.rollback_event, name, ctx.now(),
                                    body.get("reason", ""), await by(request))
    (new,) = await ctx.submit([event])
    return JSONResponse(answer(event, new), status_code=201)
