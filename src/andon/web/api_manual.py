"""The API's operations manual: its entries (``GET /api/v1/manual?kind=&since=``), one entry, the
review (``GET /api/v1/manual/review?days=``), and writing down a fix (``POST
/api/v1/manual/{entry_id}/resolve``): the service checks and builds the event, the running
scheduler records it. Folding the manual and its JSON run on worker threads."""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.live.manual import REVIEW_MAX_DAYS
from andon.manual.entries import KINDS
from andon.manual.views import entries_json, entry_json, parse_since, review_json
from andon.model.errors import Conflict
from andon.model.views import Json
from andon.web.auth import by
from andon.web.context import HTTPError, json_fields, path_name, web_of

MAX_ENTRY_ID = 200  # an id past this (or with a control character) is no entry: no look-up
_DAYS = re.compile(r"[0-9]{1,6}")


async def list_manual(request: Request) -> Response:
    """``{"entries": [...]}`` of ``kind`` seen at or after ``since``, newest first; 422 naming
    the field for an unknown kind or a ``since`` that is no date."""
    q = request.query_params
    kind = q.get("kind") or None
    if kind is not None and kind not in KINDS:
        raise HTTPError(422, f"{kind[:40]!r} is not a kind of the manual", where="kind",
                        hint="one of " + ", ".join(KINDS))
    since = parse_since(q.get("since"))
    ctx = web_of(request).ctx

    def listing() -> Json:
        return entries_json(ctx.service.manual.entries(ctx.now(), kind, since))

    return JSONResponse(await run_in_threadpool(listing))


def _entry_id(request: Request) -> str:
    """The path's entry id; 404 at once for one no entry can have."""
    return path_name(request, "entry_id", MAX_ENTRY_ID, "no manual entry",
                     "GET /api/v1/manual lists the entries")


async def get_manual_entry(request: Request) -> Response:
    """One entry; 404 with the closest ids for an unknown one."""
    entry_id = _entry_id(request)
    ctx = web_of(request).ctx

    def read() -> Json:
        return entry_json(ctx.service.manual.entry(ctx.now(), entry_id))

    return JSONResponse(await run_in_threadpool(read))


async def resolve_manual_entry(request: Request) -> Response:
    """201 ``{"entry", "id", "recorded"}``; 404 with a suggestion for an unknown entry; 422
    naming the field for an empty or over-long note, a link that is not http(s), a commit that
    is not hex; 409 when another resolution took its id at the same moment."""
    entry_id = _entry_id(request)
    body = await json_fields(request, {"note": str, "link?": str, "commit?": str}, strict=True)
    ctx = web_of(request).ctx
    event = await run_in_threadpool(ctx.service.manual.resolve_event, entry_id, body["note"],
                                    ctx.now(), body.get("link", ""), body.get("commit", ""),
                                    await by(request))
    (new,) = await ctx.submit([event])
    if not new:
        raise Conflict(f"another resolution of {entry_id} was recorded at the same moment",
                       hint="send it again")
    return JSONResponse({"entry": event.entry, "id": event.id, "recorded": new},
                        status_code=201)


async def manual_review(request: Request) -> Response:
    """The review of the last ``days`` days (default 30); 422 naming ``days`` outside
    1..REVIEW_MAX_DAYS."""
    raw = request.query_params.get("days", "") or "30"
    if not _DAYS.fullmatch(raw) or not 1 <= int(raw) <= REVIEW_MAX_DAYS:
        raise HTTPError(422, f"days must be a whole number from 1 to {REVIEW_MAX_DAYS}",
                        where="days", hint="leave it out for 30")
    ctx = web_of(request).ctx

    def read() -> Json:
        return review_json(ctx.service.manual.review(ctx.now(), int(raw)))

    return JSONResponse(await run_in_threadpool(read))
