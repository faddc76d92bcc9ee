"""The board's operations manual: ``/manual`` (the entries by kind, newest first, ``?kind=&since=``),
``/manual/ID`` (one entry) and ``/manual/review`` (what came back time and again, and the
reactive share), from the live Manual (``svc.manual``, ``andon.live.manual``) through
``andon.web.manualviews``. The templates (``manual*.html``, ``_manual.html``) escape every value,
and only http(s) links become links.

Resolving an entry from the board posts to ``POST /api/v1/manual/{id}/resolve`` through
``board.js`` with the page's CSRF token, as resolving a cord does.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from andon.manual.entries import KINDS
from andon.manual.views import parse_since
from andon.model.errors import NotFound
from andon.web.context import web_of
from andon.web.manualviews import (
    REVIEW_DAYS,
    entry_page_view,
    row,
)
from andon.web.pages import _in_thread, render


@_in_thread
def manual_page(request: Request) -> Response:
    """The manual's entries by kind (``?kind=&since=``), each kind's newest first; 422 naming
    the field for an unknown kind (the Manual's refusal) or a since that is not a date."""
    web = web_of(request)
    q = request.query_params
    kind, since = q.get("kind") or None, parse_since(q.get("since"))
    rows = [row(e) for e in web.svc.manual.entries(web.ctx.now(), kind, since)]
    groups = [(k, [r for r in rows if r.entry.kind == k]) for k in KINDS]
    return render(request, "manual.html", title="Manual",
                  groups=[(k, rs) for k, rs in groups if rs], total=len(rows), kinds=KINDS,
                  kind=kind or "", since=q.get("since", ""))


@_in_thread
def manual_entry_page(request: Request) -> Response:
    """One entry: its signature, occurrences, partitions and consumers, resolutions, and the
    form (operators) or the command that resolves it; 404 with a suggestion for an unknown id."""
    web = web_of(request)
    entry_id = request.path_params["entry_id"]
    try:
        entry = web.svc.manual.entry(web.ctx.now(), entry_id)
    except NotFound as exc:  # the Manual's hint names the closest ids; the board adds its list
        raise NotFound(exc.message, hint=" ".join(
            filter(None, (exc.hint, "Every entry is listed at /manual.")))) from None
    return render(request, "manual_entry.html", title=entry.title, view=entry_page_view(entry))


@_in_thread
def manual_review_page(request: Request) -> Response:
    """The review of the last REVIEW_DAYS days: entries seen, most frequent first, labelled
    (frequent: a candidate for automation, rare, new), and the reactive share with its two
    parts."""
    web = web_of(request)
    review = web.svc.manual.review(web.ctx.now(), REVIEW_DAYS)
    return render(request, "manual_review.html", title="Manual review", review=review)

