"""The API of agreed deletions: deprecating a data set or pipeline (``POST
/api/v1/deprecations``), where each deprecated object stands (``GET /api/v1/deprecations``),
the sweep's dry run (``GET /api/v1/sweep``) and applying it (``POST /api/v1/sweep/apply``). The
service checks and builds the events; the running scheduler records them; the files are
removed on a worker thread, each after its tombstone is recorded."""

from __future__ import annotations

from collections.abc import Sequence

import anyio.from_thread
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.events import Event
from andon.live.lifecycle import deprecation_json
from andon.model.views import Json
from andon.web.auth import by
from andon.web.context import json_fields, web_of


async def deprecate(request: Request) -> Response:
    """201 with the deprecation (200 when the same object and date were recorded before); 404
    with "did you mean" for an unknown name; 422 naming the field for a date in the past or too
    soon, an empty reason, a bad kind or replacement; 409 for an object deleted already."""
    body = await json_fields(request, {"name": str, "delete_after": str, "reason": str,
                                       "replacement?": str, "kind?": str}, strict=True)
    ctx = web_of(request).ctx
    event = await run_in_threadpool(
        ctx.service.lifecycle.deprecate_event, body["name"], body["delete_after"],
        body["reason"], ctx.now(), body.get("replacement"), body.get("kind"),
        await by(request))
    (new,) = await ctx.submit([event])
    return JSONResponse(deprecation_json(event, new), status_code=201 if new else 200)


async def list_deprecations(request: Request) -> Response:
    """``{"deprecations": [...]}``: every deprecated object and its state now."""
    ctx = web_of(request).ctx

    def read() -> Json:
        return {"deprecations": [s.to_json() for s in ctx.service.lifecycle.standings(ctx.now())]}

    return JSONResponse(await run_in_threadpool(read))


async def sweep_plan(request: Request) -> Response:
    """The dry run: what a sweep now would delete, block and refuse (nothing changes)."""
    ctx = web_of(request).ctx

    def read() -> Json:
        return ctx.service.lifecycle.plan(ctx.now()).to_json()

    return JSONResponse(await run_in_threadpool(read))


async def apply_sweep(request: Request) -> Response:
    """Apply the sweep: every removal recorded (through the scheduler) before its file goes;
    what it did, with what stayed blocked (their owners are told) and refused."""
    ctx = web_of(request).ctx
    who, now = await by(request), ctx.now()

    async def recorded(events: Sequence[Event]) -> list[bool]:
        return await ctx.submit(events)

    def submit(events: Sequence[Event]) -> list[bool]:
        return anyio.from_thread.run(recorded, events)  # recorded before the worker goes on

    def work() -> Json:
        return ctx.service.lifecycle.apply(now, who, submit).to_json()

    return JSONResponse(await run_in_threadpool(work))
