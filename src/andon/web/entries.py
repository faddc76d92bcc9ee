"""Every entry of the catalog has its page: ``GET /api/v1/catalog/{kind}/{name}`` (its
``andon.registry.views.EntryView`` as JSON) and the board's ``/catalog/{kind}/{name}`` (the same
view rendered; a data set of the definitions has its richer page at ``/assets/{name}``, where
this one sends it). The view is computed on a worker thread."""

from __future__ import annotations

from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from andon.live.service import Service
from andon.registry.entries import USED
from andon.registry.views import EntryView
from andon.web.context import web_of
from andon.web.driftviews import model_heat_maps
from andon.web.modelviews import metric_charts, performance_charts
from andon.web.pages import render


def entry_view(svc: Service, kind: str, name: str, now: datetime) -> EntryView:
    """The view of one entry (the catalog's errors: 422 for an unknown kind, 404 with a "did
    you mean" for an unknown name); a data set of the definitions with its next delivery from
    the plan."""
    svc.catalog.entry(kind, name)  # refused before the plan is made
    planned = kind == "dataset" and name in svc.graph.assets
    return svc.catalog.view(kind, name, now, svc.plan(now, detail=False) if planned else None)


def href(svc: Service, name: str, *kinds: str) -> str:
    """The page of the entry ``name`` of the first of ``kinds`` the catalog holds ("" for
    none)."""
    entries = svc.catalog.entries()
    for kind in kinds:
        found = entries.get((kind, name))
        if found is not None:
            return found.url()
    return ""


async def catalog_entry(request: Request) -> Response:
    web = web_of(request)
    p = request.path_params
    view = await run_in_threadpool(entry_view, web.svc, p["kind"], p["name"], web.ctx.now())
    return JSONResponse(view.to_json())


def _page(request: Request) -> Response:
    web = web_of(request)
    kind, name = request.path_params["kind"], request.path_params["name"]
    entry = web.svc.catalog.entry(kind, name)
    if entry.url() != request.url.path:  # a data set of the definitions: its own page
        return RedirectResponse(entry.url(), status_code=302)
    view = entry_view(web.svc, kind, name, web.ctx.now())
    charts = (metric_charts(view.versions or [], view.promotions or [], view.serving or 0)
              if kind == "model" else None)
    realised = performance_charts(web.svc, name) if kind == "model" else []
    drift_maps = model_heat_maps(web.svc, view.producer) if kind == "model" else []
    standing = (web.svc.lifecycle.standing_of(name, web.ctx.now())
                if kind in ("dataset", "pipeline") else None)
    return render(request, "entry.html", title=f"{name} ({kind})", e=view, charts=charts,
                  realised=realised, drift_maps=drift_maps, lifecycle=standing,
                  href=lambda n, *kinds: href(web.svc, n, *kinds), used=USED)


async def entry_page(request: Request) -> Response:
    return await run_in_threadpool(_page, request)
