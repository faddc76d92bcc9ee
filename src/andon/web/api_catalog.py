"""The API's catalog entries: declaring one (``POST /api/v1/catalog/entries``, the fields of a
``catalog.toml`` table) and removing one declared so. The service checks and builds the event
(on a worker thread: the first one may wait for the catalog's build), the running scheduler
records it, and the search is kept in step before the answer."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.live.catalog import answer
from andon.web.auth import by
from andon.web.context import HTTPError, web_of
from andon.web.limits import parse_json, read_body


async def declare_entry(request: Request) -> Response:
    """201 with the entry's ``kind``, ``name``, ``url`` and the event's ``id``; 422 naming the
    field the entry's check refused; 409 for a name the project's files hold."""
    ctx = web_of(request).ctx
    table = parse_json(await read_body(request, ctx.limits), ctx.limits)
    if not isinstance(table, dict):
        raise HTTPError(422, "the body must be a JSON object: the fields of a catalog.toml "
                        "entry", hint='send {"kind": "model", "name": "churn", "owner": "..."}')
    event = await run_in_threadpool(ctx.service.catalog.declare, table, ctx.now(),
                                    await by(request))
    await ctx.submit([event])
    key = (event.kind, event.entry)
    await run_in_threadpool(ctx.service.catalog.refresh, key)
    # a deprecated entry is recorded as such, once: its consumers are told
    deprecated = await run_in_threadpool(ctx.service.catalog.deprecations, ctx.now(), key)
    if deprecated:
        await ctx.submit(deprecated)
    return JSONResponse(answer(event), status_code=201)


async def remove_entry(request: Request) -> Response:
    """200 with the event's ``id``; 404 for no entry declared through the API of that kind and
    name; 409 for an entry of the project's files."""
    ctx = web_of(request).ctx
    kind, name = request.path_params["kind"], request.path_params["name"]
    event = await run_in_threadpool(ctx.service.catalog.remove, kind, name, ctx.now(),
                                    await by(request))
    await ctx.submit([event])
    await run_in_threadpool(ctx.service.catalog.refresh, (kind, name))
    return JSONResponse(answer(event))
