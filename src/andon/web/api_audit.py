"""The waste audit over HTTP: ``GET /api/v1/audit?since=`` (the JSON of ``andon audit
--json``) and the board's ``/audit`` page. Reads only; the audit runs on a worker thread."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from andon.audit.findings import audit
from andon.audit.kinds import KINDS, TITLES
from andon.audit.views import audit_json
from andon.manual.views import parse_since
from andon.model.views import Json
from andon.web.context import web_of
from andon.web.pages import _in_thread, render


def _audit(request: Request) -> Json:
    """The audit's JSON; BadRequest (422) naming ``since`` when it is no date."""
    since = parse_since(request.query_params.get("since"))
    ctx = web_of(request).ctx
    return audit_json(audit(ctx.service.store, ctx.service.graph, ctx.audit, ctx.now(), since),
                      ctx.audit)


async def get_audit(request: Request) -> Response:
    """``{"findings": [...], "currency", "total_cost", "kinds", "undeclared"}``; 422 naming
    ``since`` for one that is no date."""
    return JSONResponse(await run_in_threadpool(_audit, request))


@_in_thread
def audit_page(request: Request) -> Response:
    """Every finding, by kind, with its evidence, owner, action and cost; ``?since=``."""
    data = _audit(request)
    groups = [(k, TITLES[k], [f for f in data["findings"] if f["kind"] == k]) for k in KINDS]
    return render(request, "audit.html", title="Waste audit", data=data,
                  groups=[g for g in groups if g[2]], since=request.query_params.get("since", ""))
