"""The board's access pages: the requests (with Approve / Reject for those allowed to decide,
and the registered consumers) and the form asking for access to one data set, its fields
rendered from the data set's JSON Schema. The forms post to the API through ``board.js``."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from andon.engine.access import STATUSES
from andon.live.access import DECIDERS
from andon.model.tokens import digest
from andon.web.auth import COOKIE
from andon.web.context import web_of
from andon.web.pages import _in_thread, render


def _signed_in_as(request: Request) -> str:
    """The name of the signed-in browser's token ('' when none)."""
    token, name_of = request.cookies.get(COOKIE), web_of(request).ctx.token_name
    return name_of(digest(token)) if token and name_of and request.state.session else ""


@_in_thread
def access_requests_page(request: Request) -> Response:
    desk = web_of(request).svc.access
    status = request.query_params.get("status", "")
    status = status if status in STATUSES else ""
    asset = request.query_params.get("asset", "")[:200] or None
    rows = desk.requests(asset, status or None)
    session, me = request.state.session, _signed_in_as(request)
    datasets = desk.datasets()

    def may_decide(asset: str) -> bool:
        if session is None:
            return False
        owners = {o.strip() for o in datasets[asset].owner.split(",")} if asset in datasets \
            else set()
        return session.role in DECIDERS or (bool(me) and me in owners)

    items = [{**r, "may_decide": r["status"] == "requested" and may_decide(r["asset"])}
             for r in rows]
    return render(request, "access_requests.html", title="Access requests", requests=items,
                  consumers=desk.consumers(asset), status=status, statuses=STATUSES,
                  asset=asset or "")


@_in_thread
def access_request_form(request: Request) -> Response:
    desk = web_of(request).svc.access
    name = request.query_params.get("asset", "")
    how = desk.access(name)  # 404 with a suggestion, 409 when it takes no requests
    entry = desk.dataset(name)
    last = desk.until(None, web_of(request).ctx.now())
    return render(request, "access_request_form.html", title=f"Request access to {name}",
                  entry=entry, how=how, fields=how.fields(), last_day=last)
