"""The route table (``andon.web.routes``): one declaration per route, from which the router, the
permissions and the OpenAPI document are made, and ``path_for``, which spells a route's URL."""

from __future__ import annotations

import subprocess
import sys

import pytest
from starlette.applications import Starlette
from starlette.routing import Route as StarletteRoute

from andon.serve.up import Line, _submitter
from andon.web import endpoints, openapi
from andon.web.app import create_app
from andon.web.context import WebContext
from andon.web.routes import BY_NAME, ROUTES, Route, path_for


def _app(line: Line) -> Starlette:
    return create_app(WebContext(line.service, _submitter(line.runner), line.clock.now,
                                 line.store.token_role, "test"))


def test_each_route_is_declared_once() -> None:
    assert len(BY_NAME) == len(ROUTES), "route names are unique"
    assert len({(r.method, r.path) for r in ROUTES}) == len(ROUTES)
    assert set(endpoints.ENDPOINTS) == set(BY_NAME), "each route has one endpoint"
    for route in ROUTES:
        documented = endpoints.ENDPOINTS[route.name].doc is not None
        assert documented == route.is_api, f"{route.name}: the API routes, and only they"


def test_the_router_is_made_from_the_routes_in_their_order(line: Line) -> None:
    served = [(m, r.path) for r in _app(line).routes if isinstance(r, StarletteRoute)
              for m in (r.methods or ()) if m != "HEAD"]
    assert served == [(r.method, r.path) for r in ROUTES]


def test_a_route_without_its_endpoint_stops_the_app(line: Line,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(endpoints.ENDPOINTS, "plan")
    with pytest.raises(RuntimeError, match="routes without an endpoint: \\['plan'\\]"):
        _app(line)


def test_the_document_says_the_role_of_the_route() -> None:
    doc = openapi.document((r, d) for r in ROUTES if (d := endpoints.ENDPOINTS[r.name].doc))
    for route in ROUTES:
        if not route.is_api:
            continue
        op = doc["paths"][route.path][route.method.lower()]
        assert bool(op["security"]) == (route.role is not None), route.name
        if route.role is not None:
            assert op["summary"].endswith(f"Needs the {route.role} role."), route.name
    write = endpoints.ENDPOINTS["notify"].doc
    read = endpoints.ENDPOINTS["plan"].doc
    assert write is not None and read is not None
    with pytest.raises(ValueError, match="needs a role"):
        openapi.document([(Route("x", "POST", "/api/v1/x"), write)])
    with pytest.raises(ValueError, match="open route"):
        openapi.document([(Route("x", "GET", "/api/v1/x", "admin"), read)])


def test_path_for_fills_in_and_quotes_the_parameters() -> None:
    assert path_for("health") == "/api/v1/health"
    assert path_for("get_run", run_id="r1") == "/api/v1/runs/r1"
    assert path_for("resolve_cord", cord_id="raw:2026-01-05:1") == \
        "/api/v1/cords/raw%3A2026-01-05%3A1/resolve"
    assert path_for("asset_page", name="a/b c?") == "/assets/a%2Fb%20c%3F"
    with pytest.raises(KeyError, match="nope"):
        path_for("nope")
    with pytest.raises(KeyError, match="run_id"):
        path_for("get_run")
    with pytest.raises(KeyError, match="extra"):
        path_for("health", extra="1")


def test_the_route_table_imports_nothing_heavy() -> None:
    """The command line spells the API's paths with it, and its --help must stay fast."""
    code = ("import sys, andon.web.routes; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('andon', 'starlette', 'sqlalchemy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "['andon', 'andon.web', 'andon.web.routes']"
