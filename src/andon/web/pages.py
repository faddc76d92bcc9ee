"""The board's HTML pages, rendered on the server with Jinja2 (autoescaping every value).

Each handler gathers what its page shows from the shared Service (through ``andon.web.board``)
and renders one template. The pages carry no inline script or style (the Content-Security-Policy
forbids them); ``static/board.js`` follows the event stream and swaps the ``data-live`` parts of
the page when something happened.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from andon.events.codec import parse_time
from andon.model.durations import format_duration
from andon.model.errors import BadRequest, NotFound
from andon.model.status import ACTIVE_STATUSES, RunStatus
from andon.model.timefmt import format_minute
from andon.registry.browse import MAX_OFFSET
from andon.registry.entries import KINDS
from andon.web import board, charts, cordpages, deliveries, driftviews, lineage, modelviews
from andon.web.auth import COOKIE, csrf_for, role_of, safe_next, same, same_origin
from andon.web.context import Handler, HTTPError, Web, web_of
from andon.web.limits import read_body
from andon.web.manualviews import KIND_TITLES, LABEL_COLOURS, REVIEW_DAYS
from andon.web.pageviews import Health

HERE = Path(__file__).parent
PAGE_SIZE = 50
SEARCH_PAGE, SUGGESTED = 50, 8  # results on the search page, in the board's box as one types
LOG_TAIL = 65536  # bytes of a run's log on its page; the rest through the API or `andon logs`
RUN_STATUSES = tuple(s.value for s in RunStatus)
CORD_FILTERS = ("all", "open")  # the cord list's ?status=; the first is the default
ATTENTION_SHOWN = 30  # items of the board's attention list (the count says how many more)


def _time(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A moment (datetime or stored text) in UTC; '-' for none."""
    if not value:
        return "-"
    moment = parse_time(value) if isinstance(value, str) else value
    return format_minute(moment, fmt)


def _seconds(value: Any) -> str:
    """A duration in words a person reads at a glance: 850 ms, 12 s, 4m05s, 2h10m."""
    return "-" if value is None else format_duration(float(value), spaced=True)


def _size(value: Any) -> str:
    n = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"),
                      autoescape=select_autoescape(["html", "svg"], default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(t=_time, dur=_seconds, size=_size)
    # the manual's words, for its pages, the board's review panel and the known-fix hints
    env.globals.update(kind_titles=KIND_TITLES, label_colours=LABEL_COLOURS)
    return env


def _in_thread(page: Callable[[Request], Response]) -> Handler:
    async def handler(request: Request) -> Response:
        return await run_in_threadpool(page, request)

    return handler


# -- shared ------------------------------------------------------------------------------------

def _health(web: Web, counts: dict[RunStatus, int] | None = None,
            open_cords: int | None = None) -> Health:
    """The health strip: scheduler, database, queue depth, running runs, executor slots
    busy of total and whether the executor is alive, open cords."""
    svc = web.svc
    counts = svc.store.run_counts() if counts is None else counts
    team = web.ctx.team() if web.ctx.team is not None else {}
    leader = team.get("leader") or {}
    standby_of = (leader.get("holder") or "no leader yet") if team.get("role") == "standby" else ""
    return Health(web.ctx.alive(), svc.store.ping(), counts.get(RunStatus.QUEUED, 0),
                  counts.get(RunStatus.RUNNING, 0), svc.workers(),
                  len(svc.cords()) if open_cords is None else open_cords, web.ctx.now(),
                  standby_of=standby_of)


def render(request: Request, template: str, status_code: int = 200,
           **values: Any) -> HTMLResponse:
    web = web_of(request)
    session = getattr(request.state, "session", None)
    values.setdefault("health", None)
    if values["health"] is None:
        values["health"] = _health(web)
    text = web.templates.get_template(template).render(
        project=web.ctx.project, session=session, path=request.url.path,
        query=request.url.query, **values)
    return HTMLResponse(text, status_code=status_code)


def error(request: Request, status: int, message: str, hint: str = "") -> HTMLResponse:
    return render(request, "error.html", status, title="Error", message=message,
                  hint=hint)


# -- pages -------------------------------------------------------------------------------------

@_in_thread
def board_page(request: Request) -> Response:
    web = web_of(request)
    svc, now = web.svc, web.ctx.now()
    status = svc.status()
    plan = svc.plan(now, detail=False)
    checks = board.check_states(svc)
    by_cord: dict[str, list[dict[str, str]]] = {}
    for h in status.halted:
        for c in h["cords"]:
            by_cord.setdefault(c["cord_id"], []).append(
                {"pipeline": h["pipeline"], "partition": h["partition"]})
    cords = [{**c, "halts": by_cord.get(c["cord_id"], [])} for c in status.cords]
    lines = board.lines(status, plan, now)
    totals = {colour: sum(1 for line in lines if line.colour == colour)
              for colour in ("green", "amber", "red")}
    outputs = {name: list(pipe.outputs) for name, pipe in svc.graph.pipelines.items()}
    attention = board.attention(status, plan, checks, now)
    # one call for every failed run the list shows: what the manual knows of its problem
    hints = svc.manual.hints([a.run_id for a in attention[:ATTENTION_SHOWN] if a.run_id])
    review = svc.manual.review(now, REVIEW_DAYS)
    health = replace(_health(web, status.runs, len(status.cords)), review=review)
    return render(request, "board.html", title="Board", lines=lines, cords=cords,
                  outputs=outputs, facets=svc.catalog.shelf().facets,
                  changes=board.changes(svc), attention=attention, hints=hints,
                  shown=ATTENTION_SHOWN, review=review, sources=status.sources,
                  totals=totals, health=health, models=modelviews.serving_models(svc),
                  retiring=svc.lifecycle.line_notes(now))


@_in_thread
def runs_page(request: Request) -> Response:
    web = web_of(request)
    q = request.query_params
    pipeline, status, partition = q.get("pipeline", ""), q.get("status", ""), q.get("partition", "")
    page = _page(request)
    rows = web.svc.runs(pipeline or None, status or None, partition or None,
                         PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    filters = {k: v for k, v in (("pipeline", pipeline), ("status", status),
                                 ("partition", partition)) if v}
    return render(request, "runs.html", title="Runs", runs=rows[:PAGE_SIZE],
                  page=page, more=len(rows) > PAGE_SIZE, filters=filters,
                  pipelines=list(web.svc.graph.order), statuses=RUN_STATUSES)


@_in_thread
def run_page(request: Request) -> Response:
    web = web_of(request)
    run = web.svc.run(request.path_params["run_id"])
    attempts = web.svc.runs(run.pipeline, None, run.partition, 20, 0)
    history = [{"step": "queued", "at": run.queued_at, "note": run.reason}]
    if run.started_at:
        history.append({"step": "started", "at": run.started_at,
                        "note": f"pool {run.pool}, {run.slots} slot(s)"})
    if run.ended_at:
        note = f"{run.error_type}: {run.error_message}".strip(": ")
        history.append({"step": run.status.value, "at": run.ended_at, "note": note})
    # the page shows the log's tail; a running run's page follows the rest from log_end
    log, log_end, log_cut = web.svc.log_tail(run.run_id, LOG_TAIL)
    return render(request, "run.html", title=f"Run {run.run_id}", run=run,
                  history=history, attempts=attempts, log=log, log_cut=log_cut,
                  log_end=log_end, following=run.status in ACTIVE_STATUSES)


@_in_thread
def asset_page(request: Request) -> Response:
    web = web_of(request)
    name = request.path_params["name"]
    graph = web.svc.graph
    if name not in graph.assets:
        raise NotFound(f"no data set named {name!r}", hint="search for it in the box above")
    now = web.ctx.now()
    view = board.asset_view(web.svc, name, now)
    status = web.svc.status()
    plan = web.svc.plan(now, detail=False)
    colours = {line.name: line.colour for line in board.lines(status, plan, now)}
    states = {"p:" + p: c for p, c in colours.items()}
    layout = lineage.layout(graph, name, states)
    entry = web.svc.catalog.view("dataset", name, now, plan)  # owner, consumers, freshness
    return render(request, "asset.html", title=name, a=view, e=entry, lineage=layout,
                  lifecycle=web.svc.lifecycle.standing_of(name, now),
                  node_w=lineage.NODE_WIDTH, node_h=lineage.NODE_HEIGHT,
                  health=_health(web, status.runs, len(status.cords)),
                  drift_map=driftviews.heat_map(web.svc, name))


@_in_thread
def cords_page(request: Request) -> Response:
    web = web_of(request)
    status = request.query_params.get("status", "")
    if status not in CORD_FILTERS:
        status = CORD_FILTERS[0]
    page = _page(request)
    rows = cordpages.cord_list(web.svc, status == "all", PAGE_SIZE + 1, (page - 1) * PAGE_SIZE)
    filters = {"status": status} if status != CORD_FILTERS[0] else {}
    return render(request, "cords.html", title="Cords", cords=rows[:PAGE_SIZE],
                  page=page, more=len(rows) > PAGE_SIZE, filters=filters,
                  status=status, statuses=CORD_FILTERS)


@_in_thread
def cord_page(request: Request) -> Response:
    web = web_of(request)
    cord_id = request.path_params["cord_id"]
    try:
        view = cordpages.cord_view(web.svc, cord_id)
    except NotFound as exc:  # the Service's hint is for the command line
        raise NotFound(exc.message, hint="every cord is listed at /cords (ids look like "
                       "ASSET:PARTITION:N)") from None
    return render(request, "cord.html", title=f"Cord {cord_id}", c=view.cord, view=view)


@_in_thread
def pools_page(request: Request) -> Response:
    web = web_of(request)
    return render(request, "pools.html", title="Pools",
                  pools=deliveries.pools_view(web.svc, web.ctx.now()))


@_in_thread
def deliveries_page(request: Request) -> Response:
    web = web_of(request)
    now = web.ctx.now()
    plan = web.svc.plan(now)
    view = deliveries.deliveries(web.svc, plan, now)
    chart = charts.gantt(view.items, view.day, view.end, now)
    return render(request, "deliveries.html", title="Today's deliveries", view=view,
                  chart=chart, plan=plan, now=now, yesterday=view.day - timedelta(days=1))


@_in_thread
def search_page(request: Request) -> Response:
    """The catalog's search (``Catalog.search``: ranked, every kind or ``?kind=``, "did you
    mean" when nothing matched); without a query, the empty form. 422 naming the field for an
    over-long query or an unknown kind."""
    web = web_of(request)
    q, kind = request.query_params.get("q", ""), request.query_params.get("kind") or None
    found = web.svc.catalog.search(q, kind, limit=SEARCH_PAGE) if q.strip() else None
    return render(request, "search.html", title="Search", q=q, kind=kind, found=found,
                  kinds=KINDS)


@_in_thread
def search_results(request: Request) -> Response:
    """The results of the board's search box as it is typed into: an HTML fragment (no page
    around it, no health strip: one search, no other query) of the best SUGGESTED entries;
    empty for an empty query, the refusal for a bad one (422)."""
    web = web_of(request)
    q = request.query_params.get("q", "")
    values: dict[str, Any] = {"q": q, "found": None, "problem": None}
    status = 200
    if q.strip():
        try:
            values["found"] = web.svc.catalog.search(q, None, limit=SUGGESTED)
        except BadRequest as exc:
            values["problem"], status = exc, 422
    text = web.templates.get_template("search_results.html").render(**values)
    return HTMLResponse(text, status_code=status)


@_in_thread
def catalog_page(request: Request) -> Response:
    """The catalog by kind, owner and tag (``?kind=&owner=&tag=&page=``), paged, beside its
    facets; 422 naming the field for an unknown kind or an over-long owner or tag."""
    web = web_of(request)
    q = request.query_params
    filters = {f: q[f] for f in ("kind", "owner", "tag") if q.get(f)}
    page = min(_page(request), MAX_OFFSET // PAGE_SIZE)
    shelf = web.svc.catalog.shelf()
    listing = shelf.browse(filters.get("kind"), filters.get("owner"), filters.get("tag"),
                           PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(request, "catalog.html", title="Catalog", listing=listing,
                  facets=shelf.facets, filters=filters, page=page,
                  more=listing.offset + len(listing.entries) < listing.total)


@_in_thread
def login_page(request: Request) -> Response:
    return render(request, "login.html", title="Sign in",
                  next=safe_next(request.query_params.get("next", "/")),
                  failed=request.query_params.get("failed", ""))


# -- signing in, and the board's files ---------------------------------------------------------

async def login(request: Request) -> Response:
    """Sign a browser in with an API token: the token goes into an HttpOnly, SameSite=Strict
    cookie (scripts cannot read it, other sites cannot send it)."""
    if not same_origin(request):  # before the body is read
        raise HTTPError(403, "sign in from the board's own page")
    form = parse_qs((await read_body(request, web_of(request).ctx.limits)).decode(
        "utf-8", "replace"))
    token = (form.get("token") or [""])[0].strip()
    target = safe_next((form.get("next") or ["/"])[0])
    if not token or await role_of(request, token) is None:
        return RedirectResponse(f"/login?failed=1&next={quote(target)}", status_code=303)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
    return response


async def logout(request: Request) -> Response:
    form = parse_qs((await read_body(request, web_of(request).ctx.limits)).decode(
        "utf-8", "replace"))
    token = request.cookies.get(COOKIE, "")
    if token and not same((form.get("csrf") or [""])[0], csrf_for(token)):
        raise HTTPError(403, "the request lacks the page's CSRF token",
                        hint="reload the page and try again")
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response


async def static_file(request: Request) -> Response:
    found = web_of(request).static.get(request.path_params["name"])
    if found is None:
        raise HTTPError(404, "no such file")
    body, media_type, etag = found
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media_type, headers=headers)


def static_files() -> dict[str, tuple[bytes, str, str]]:
    """The board's script and style sheet (read once): name -> (body, media type, ETag)."""
    types = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
             ".svg": "image/svg+xml"}
    out = {}
    for path in sorted((HERE / "static").iterdir()):
        if path.suffix in types:
            body = path.read_bytes()
            out[path.name] = (body, types[path.suffix],
                              '"' + hashlib.sha256(body).hexdigest()[:16] + '"')
    return out


def _page(request: Request) -> int:
    """The page number in ``?page=``: 1 for none or nonsense, and never an offset past a
    database integer."""
    try:
        return min(max(int(request.query_params.get("page", 1)), 1), 10**9)
    except ValueError:
        return 1
