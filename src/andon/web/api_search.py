"""The catalog's search over HTTP: ``GET /api/v1/search?q=&kind=&owner=&limit=``. Read-only; the
search runs on a worker thread (the first one builds the index)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.registry.search import DEFAULT_LIMIT
from andon.web.context import HTTPError, web_of


async def search(request: Request) -> Response:
    """``{"results": [{kind, name, owner, description, score, url, ...}], "suggestion"}``; 422
    naming the field for a bad ``q``, ``kind``, ``owner`` or ``limit`` (the service checks)."""
    q = request.query_params
    raw = q.get("limit", "")
    if raw and not (raw.isascii() and raw.lstrip("-").isdigit() and len(raw) < 12):
        raise HTTPError(422, "field 'limit' must be a whole number", where="limit",
                        hint=f"leave it out for {DEFAULT_LIMIT} results")
    found = await run_in_threadpool(web_of(request).svc.catalog.search, q.get("q", ""),
                                    q.get("kind") or None, q.get("owner"),
                                    int(raw) if raw else DEFAULT_LIMIT)
    return JSONResponse(found.to_json())
