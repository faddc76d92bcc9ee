"""Every route of the server, declared once: its name, method, path and the role it needs.

The server's router, its permission table (``PERMISSIONS``) and the OpenAPI document are all
made from ``ROUTES`` (``andon.web.app`` pairs each name with its handler and description in
``andon.web.endpoints``); clients spell a route's URL with ``path_for``. Only the standard library
is imported here, so the command line can use it without loading the server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

SESSION = "session"  # signs a browser in or out: checks the token it is given, changes no state


@dataclass(frozen=True)
class Route:
    """One route: ``name`` (a stable snake_case operation name, unique), ``method``, ``path``
    (a Starlette template, ``{param}`` for a path segment) and ``role``: the least role a
    request needs (a bearer token, or the board's session plus its CSRF token); None: open for
    reading; SESSION: see above."""

    name: str
    method: str
    path: str
    role: str | None = None

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def is_page(self) -> bool:
        """A page of the board (errors answer as HTML; the browser's session is looked up)."""
        return not self.is_api and self.path != "/metrics"


# in the order the router tries them and the OpenAPI document lists the API routes
ROUTES: tuple[Route, ...] = (
    Route("board_page", "GET", "/"),
    Route("runs_page", "GET", "/runs"),
    Route("run_page", "GET", "/runs/{run_id}"),
    Route("asset_page", "GET", "/assets/{name}"),
    Route("cords_page", "GET", "/cords"),
    Route("cord_page", "GET", "/cords/{cord_id}"),
    Route("pools_page", "GET", "/pools"),
    Route("manual_page", "GET", "/manual"),
    Route("audit_page", "GET", "/audit"),
    Route("manual_review_page", "GET", "/manual/review"),  # before /manual/{entry_id}
    Route("manual_entry_page", "GET", "/manual/{entry_id}"),
    Route("deliveries_page", "GET", "/deliveries"),
    Route("search_page", "GET", "/search"),
    Route("access_requests_page", "GET", "/access-requests"),
    Route("access_request_form", "GET", "/access-requests/new"),
    Route("entry_page", "GET", "/catalog/{kind}/{name}"),
    Route("search_results", "GET", "/search/results"),
    Route("catalog_page", "GET", "/catalog"),
    Route("login_page", "GET", "/login"),
    Route("login", "POST", "/login", SESSION),
    Route("logout", "POST", "/logout", SESSION),
    Route("static_file", "GET", "/static/{name}"),
    Route("metrics", "GET", "/metrics"),
    Route("health", "GET", "/api/v1/health"),
    Route("status", "GET", "/api/v1/status"),
    Route("list_runs", "GET", "/api/v1/runs"),
    Route("request_run", "POST", "/api/v1/runs", "operator"),
    Route("get_run", "GET", "/api/v1/runs/{run_id}"),
    Route("run_log", "GET", "/api/v1/runs/{run_id}/log"),
    Route("run_log_stream", "GET", "/api/v1/runs/{run_id}/log/stream"),
    Route("cancel_run", "POST", "/api/v1/runs/{run_id}/cancel", "operator"),
    Route("partitions", "GET", "/api/v1/partitions"),
    Route("plan", "GET", "/api/v1/plan"),
    Route("notify", "POST", "/api/v1/notify", "operator"),
    Route("backfill", "POST", "/api/v1/backfills", "operator"),
    Route("list_cords", "GET", "/api/v1/cords"),
    Route("pull_cord", "POST", "/api/v1/cords", "operator"),
    Route("get_cord", "GET", "/api/v1/cords/{cord_id}"),
    Route("resolve_cord", "POST", "/api/v1/cords/{cord_id}/resolve", "operator"),
    Route("restore_output", "POST", "/api/v1/cords/{cord_id}/restore", "operator"),
    Route("list_tokens", "GET", "/api/v1/tokens", "admin"),
    Route("create_token", "POST", "/api/v1/tokens", "admin"),
    Route("revoke_token", "POST", "/api/v1/tokens/{token_id}/revoke", "admin"),
    Route("search", "GET", "/api/v1/search"),
    Route("list_access_requests", "GET", "/api/v1/access-requests"),
    Route("request_access", "POST", "/api/v1/access-requests", "viewer"),
    Route("get_access_request", "GET", "/api/v1/access-requests/{request_id}"),
    Route("approve_access", "POST", "/api/v1/access-requests/{request_id}/approve", "viewer"),
    Route("reject_access", "POST", "/api/v1/access-requests/{request_id}/reject", "viewer"),
    Route("list_consumers", "GET", "/api/v1/consumers"),
    Route("subscribe", "POST", "/api/v1/consumers/{name}/subscribe", "viewer"),
    Route("unsubscribe", "POST", "/api/v1/consumers/{name}/unsubscribe", "viewer"),
    Route("catalog_entry", "GET", "/api/v1/catalog/{kind}/{name}"),
    Route("catalog", "GET", "/api/v1/catalog"),
    Route("declare_entry", "POST", "/api/v1/catalog/entries", "operator"),
    Route("remove_entry", "POST", "/api/v1/catalog/entries/{kind}/{name}/remove", "operator"),
    Route("list_manual", "GET", "/api/v1/manual"),
    Route("audit", "GET", "/api/v1/audit"),
    Route("manual_review", "GET", "/api/v1/manual/review"),  # before {entry_id}: tried first
    Route("get_manual_entry", "GET", "/api/v1/manual/{entry_id}"),
    Route("resolve_manual_entry", "POST", "/api/v1/manual/{entry_id}/resolve", "operator"),
    Route("list_deprecations", "GET", "/api/v1/deprecations"),
    Route("deprecate", "POST", "/api/v1/deprecations", "operator"),
    Route("sweep_plan", "GET", "/api/v1/sweep"),
    Route("apply_sweep", "POST", "/api/v1/sweep/apply", "operator"),
    Route("list_models", "GET", "/api/v1/models"),
    Route("get_model", "GET", "/api/v1/models/{name}"),
    Route("promote_model", "POST", "/api/v1/models/{name}/promote", "operator"),
    Route("rollback_model", "POST", "/api/v1/models/{name}/rollback", "operator"),
    Route("get_drift", "GET", "/api/v1/drift/{asset}"),
    Route("events_stream", "GET", "/api/v1/events/stream"),
    Route("openapi", "GET", "/api/v1/openapi.json"),
)

BY_NAME: dict[str, Route] = {r.name: r for r in ROUTES}
# (method, path) -> the least role needed (see Route.role)
PERMISSIONS: dict[tuple[str, str], str | None] = {(r.method, r.path): r.role for r in ROUTES}

_PARAM = re.compile(r"{(\w+)}")


def path_for(name: str, /, **params: str) -> str:
    """The path of route ``name`` with its ``{param}`` segments filled in from ``params`` (each
    URL-quoted whole, ``/`` too); KeyError for an unknown route, a missing or an unused
    parameter."""
    template = BY_NAME[name].path
    wanted = _PARAM.findall(template)
    if set(wanted) != set(params):
        raise KeyError(f"route {name!r} takes {wanted}, not {sorted(params)}")
    return _PARAM.sub(lambda m: quote(params[m.group(1)], safe=""), template)
