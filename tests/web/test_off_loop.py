"""No route queries the store on the server's event loop: a slow query must never hold up the
live streams, health or any other answer. Every SQL statement is watched (SQLAlchemy's
``before_cursor_execute`` on every engine), and one made on a thread running an event loop is
noted."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from andon.serve.up import Line
from andon.web.auth import COOKIE
from andon.web.routes import ROUTES, path_for
from tests.web.conftest import make_token

Statement = Callable[[str, Any], None]


@pytest.fixture
def statements() -> Iterator[list[Statement]]:
    """Hooks called with every SQL statement (and its parameters) made while the test runs."""
    hooks: list[Statement] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        for hook in hooks:
            hook(statement, parameters)

    event.listen(Engine, "before_cursor_execute", before)
    yield hooks
    event.remove(Engine, "before_cursor_execute", before)


def _on_a_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


# how each route is called: (path parameters, JSON body or form); every route is here
CALLS: dict[str, tuple[dict[str, str], Any]] = {
    "board_page": ({}, None), "runs_page": ({}, None), "run_page": ({"run_id": "r1"}, None),
    "asset_page": ({"name": "raw"}, None), "cords_page": ({}, None),
    "cord_page": ({"cord_id": "raw:2026-01-05:1"}, None), "pools_page": ({}, None),
    "deliveries_page": ({}, None), "search_page": ({}, None), "search_results": ({}, None),
    "manual_page": ({}, None), "manual_review_page": ({}, None),
    "manual_entry_page": ({"entry_id": "0123456789ab"}, None),
    "catalog_page": ({}, None), "login_page": ({}, None),
    "login": ({}, "token"), "logout": ({}, "csrf"), "static_file": ({"name": "board.js"}, None),
    "metrics": ({}, None), "health": ({}, None), "status": ({}, None),
    "list_runs": ({}, None), "get_run": ({"run_id": "r1"}, None),
    "request_run": ({}, {"pipeline": "clean", "partition": "2026-01-06"}),
    "run_log": ({"run_id": "r1"}, None), "run_log_stream": ({"run_id": "r1"}, None),
    "cancel_run": ({"run_id": "r1"}, {}), "partitions": ({}, None), "plan": ({}, None),
    "notify": ({}, {"asset": "raw", "partition": "2026-01-05"}),
    "backfill": ({}, {"pipeline": "clean", "from": "2026-01-01", "to": "2026-01-02"}),
    "list_cords": ({}, None), "get_cord": ({"cord_id": "raw:2026-01-05:1"}, None),
    "pull_cord": ({}, {"asset": "raw", "partition": "2026-01-05", "reason": "bad rows"}),
    "resolve_cord": ({"cord_id": "raw:2026-01-05:1"}, {"note": "fixed"}),
    "restore_output": ({"cord_id": "raw:2026-01-05:1"}, {"asset": "raw",
                                                         "partition": "2026-01-05"}),
    "list_tokens": ({}, None), "create_token": ({}, {"role": "viewer"}),
    "revoke_token": ({"token_id": "0123456789ab"}, {}), "events_stream": ({}, None),
    "openapi": ({}, None), "search": ({}, None), "catalog": ({}, None),
    "access_requests_page": ({}, None), "access_request_form": ({}, None),
    "list_access_requests": ({}, None),
    "request_access": ({}, {"asset": "raw", "reason": "a study"}),
    "get_access_request": ({"request_id": "raw:1"}, None),
    "approve_access": ({"request_id": "raw:1"}, {}),
    "reject_access": ({"request_id": "raw:1"}, {"reason": "no"}),
    "list_consumers": ({}, None), "subscribe": ({"name": "raw"}, {}),
    "unsubscribe": ({"name": "raw"}, {}),
    "catalog_entry": ({"kind": "dataset", "name": "raw"}, None),
    "entry_page": ({"kind": "pipeline", "name": "clean"}, None),
    "declare_entry": ({}, {"kind": "model", "name": "churn", "owner": "ml@example.com"}),
    "remove_entry": ({"kind": "model", "name": "churn"}, {}),
    "list_manual": ({}, None), "manual_review": ({}, None),
    "audit": ({}, None), "audit_page": ({}, None),
    "get_manual_entry": ({"entry_id": "0123456789ab"}, None),
    "resolve_manual_entry": ({"entry_id": "0123456789ab"}, {"note": "fixed"}),
    "list_models": ({}, None), "get_model": ({"name": "churn"}, None),
    "get_drift": ({"asset": "raw"}, None),
    "promote_model": ({"name": "churn"}, {"version": 1}),
    "rollback_model": ({"name": "churn"}, {}),
    "list_deprecations": ({}, None), "sweep_plan": ({}, None), "apply_sweep": ({}, {}),
    "deprecate": ({}, {"name": "raw", "delete_after": "2099-01-01", "reason": "old"}),
}


def test_no_route_queries_the_store_on_the_event_loop(
        line: Line, statements: list[Statement]) -> None:
    assert set(CALLS) == {r.name for r in ROUTES}, "every route is called here"
    on_loop: list[str] = []
    statements.append(lambda sql, _params: on_loop.append(sql) if _on_a_loop() else None)
    token = make_token(line, "admin")
    # a bearer token on the API, the board's session on the pages (both are looked up)
    with httpx.Client(base_url=line.url, timeout=10, cookies={COOKIE: token},
                      headers={"Authorization": f"Bearer {token}"}) as client:
        for route in ROUTES:
            params, body = CALLS[route.name]
            url = path_for(route.name, **params)
            if body in ("token", "csrf"):  # the sign-in forms
                r = client.post(url, data={body: token})
            elif route.method == "POST":
                r = client.post(url, json=body)
            else:
                with client.stream("GET", url) as r:
                    next(r.iter_raw(), None)  # a stream's first message is enough
            assert r.status_code < 500, f"{route.name}: {r.status_code}"
            assert not on_loop, f"{route.name} queried the store on the event loop: {on_loop}"


def test_health_answers_while_a_store_read_is_stuck(
        line: Line, client: httpx.Client, statements: list[Statement]) -> None:
    """A run's read is held inside its query; health answers meanwhile (it could not, were the
    query on the event loop), and the stuck read answers once let go."""
    stuck, release = threading.Event(), threading.Event()

    def hold(_sql: str, params: Any) -> None:
        if "stuck-run" in (params or ()) and not stuck.is_set():
            stuck.set()
            release.wait(30)

    statements.append(hold)
    with ThreadPoolExecutor(1) as pool:
        reading = pool.submit(client.get, path_for("get_run", run_id="stuck-run"))
        try:
            assert stuck.wait(10), "the run's read reached the database"
            r = client.get(path_for("health"))
            assert r.status_code == 200 and r.json()["ok"] is True
            assert not reading.done(), "the read was still held while health answered"
        finally:
            release.set()
        assert reading.result().status_code == 404
