"""The catalog over HTTP: its search, ``GET /api/v1/search?q=&kind=&owner=&limit=``, and its
listings, ``GET /api/v1/catalog?kind=&owner=&tag=&limit=&offset=``. Read-only; both run on a
worker thread (the first one builds the index)."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.registry.search import DEFAULT_LIMIT
from andon.web.context import HTTPError, web_of

_WHOLE = re.compile(r"-?[0-9]{1,11}")  # past 11 digits it is refused as huge by the range check


def _whole(q: QueryParams, field: str, default: int) -> int:
    """The whole number in ``?field=`` (``default`` without one); 422 naming the field for
    anything else (its range is the catalog's to check)."""
    raw = q.get(field, "")
    if not raw:
        return default
    if not _WHOLE.fullmatch(raw):
        raise HTTPError(422, f"field {field!r} must be a whole number", where=field,
                        hint=f"leave it out for {default}")
    return int(raw)


async def search(request: Request) -> Response:
    """``{"results": [{kind, name, owner, description, score, url, ...}], "suggestion"}``; 422
    naming the field for a bad ``q``, ``kind``, ``owner`` or ``limit`` (the service checks)."""
    q = request.query_params
    found = await run_in_threadpool(web_of(request).svc.catalog.search, q.get("q", ""),
                                    q.get("kind") or None, q.get("owner"),
                                    _whole(q, "limit", DEFAULT_LIMIT))
    return JSONResponse(found.to_json())


async def catalog(request: Request) -> Response:
    """``{"entries": [{kind, name, owner, description, url, tags, team, lifecycle}], "total",
    "limit", "offset", "facets"}``: the entries of ``kind``, ``owner`` and ``tag`` (each
    optional), by kind then name; 422 naming the field for an unknown kind, an over-long owner
    or tag, a limit outside 1..1000, a negative or huge offset."""
    q = request.query_params
    limit, offset = _whole(q, "limit", DEFAULT_LIMIT), _whole(q, "offset", 0)

    def listing() -> dict[str, object]:
        shelf = web_of(request).svc.catalog.shelf()
        found = shelf.browse(q.get("kind") or None, q.get("owner") or None,
                             q.get("tag") or None, limit, offset)
        return {**found.to_json(), "facets": shelf.facets.to_json()}

    return JSONResponse(await run_in_threadpool(listing))
