"""The OpenAPI 3.1 document of ``/api/v1``, made from the routes (``andon.web.routes``) and the
description each one carries (``andon.web.endpoints``), so no route can go undocumented or be
documented with another role. Served at ``/api/v1/openapi.json``; no interactive page (it would
need vendored assets for little gain).

The builders here (``read``, ``write``, ``described``) make a route's ``Doc``: its operation
object, given the role its route needs, which says who may call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from andon import __version__
from andon.live.service import MAX_TOKEN_NAME
from andon.model.tokens import ROLES
from andon.web.routes import Route

Doc = Callable[[str | None], dict[str, Any]]  # the role a route needs -> its operation object

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object", "additionalProperties": True}
LIST = {"type": "array", "items": OBJECT}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def error_responses(*codes: int) -> dict[str, Any]:
    """The error answers ``codes`` as responses."""
    text = {401: "no API token, or an unknown or revoked one",
            403: "the token's role is too weak (or the session's CSRF token is wrong)",
            404: "no such object", 409: "not possible in the current state",
            422: "malformed request: `where` names the field, `message` the reason",
            503: "the store's database was deleted or replaced under the server: nothing is "
                 "recorded until it is back"}
    return {str(c): _json(ERROR, text[c]) for c in codes}


def query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": kind}}


def path_param(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def json_body(required: dict[str, str], optional: dict[str, dict[str, Any]] | None = None
         ) -> dict[str, Any]:
    """A JSON object request body: ``required`` string fields (name -> description), then the
    ``optional`` ones (name -> schema)."""
    props: dict[str, Any] = {k: {"type": "string", "description": v} for k, v in required.items()}
    props.update(optional or {})
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": list(required), "properties": props}}}}


def _open(op: dict[str, Any]) -> Doc:
    def doc(role: str | None) -> dict[str, Any]:
        if role is not None:
            raise ValueError(f"{op['summary']!r} describes an open route, not one for {role}")
        return op

    return doc


def described(op: dict[str, Any]) -> Doc:
    """An open route's operation object, written out whole (streams, plain text)."""
    return _open(op)


def read(summary: str, response: dict[str, Any], params: list[dict[str, Any]] | None = None,
         errors: tuple[int, ...] = ()) -> Doc:
    """An open route that answers ``response`` as JSON."""
    return _open({"summary": summary, "security": [], "parameters": params or [],
                  "responses": {"200": _json(response, "OK"), **error_responses(*errors)}})


def write(summary: str, body: dict[str, Any] | None, status: int, response: dict[str, Any],
          errors: tuple[int, ...], params: list[dict[str, Any]] | None = None,
          replay: bool = True) -> Doc:
    """A route that needs a token of its route's role (every change, and the token list);
    ``replay``: a 201 that answers 200 when the same id comes again."""
    def doc(role: str | None) -> dict[str, Any]:
        if role is None:
            raise ValueError(f"{summary!r} describes a route that needs a role")
        op: dict[str, Any] = {
            "summary": f"{summary} Needs the {role} role.",
            "security": [{"bearer": []}, {"session": [], "csrf": []}],
            "parameters": params or [],
            "responses": {str(status): _json(response, "OK" if status == 200 else "accepted"),
                          **error_responses(401, 403, *errors, 503)}}
        if status == 201 and replay:
            op["responses"]["200"] = _json(response, "already recorded (same id)")
        if body is not None:
            op["requestBody"] = body
        return op

    return doc


RECORDED = {"type": "object", "properties": {"id": {"type": "string"},
                                             "recorded": {"type": "boolean"}}}
CORD_ACK = {"type": "object", "properties": {"cord_id": {"type": "string"},
                                             "id": {"type": "string"},
                                             "recorded": {"type": "boolean"}}}
RESTORED = {"type": "object", "properties": {
    "cord_id": {"type": "string"}, "id": {"type": "string"}, "recorded": {"type": "boolean"},
    "asset": {"type": "string"}, "partition": {"type": "string"}, "version": {"type": "integer"},
    "location": {"type": "string", "description": "where it is back, relative to the project"}}}
RUN_FILTERS = [query("pipeline", "only runs of this pipeline"),
               query("status", "queued, running, succeeded, failed or cancelled"),
               query("partition", "only runs of this partition key"),
               query("limit", "at most this many (default 50, at most 1000)", "integer"),
               query("offset", "skip this many (paging)", "integer")]

TIME = {"type": ["string", "null"], "format": "date-time"}
STEP = {"type": "object", "description": "one partition on the critical path, first to last",
        "properties": {
            "kind": {"enum": ["arrival", "run"],
                     "description": "a source partition arriving, or a pipeline's run"},
            "name": {"type": "string", "description": "the source or the pipeline"},
            "partition": {"type": "string"},
            "state": {"enum": ["done", "running", "queued", "waiting", "blocked", "expected",
                               "overdue"]},
            "start": TIME, "finish": TIME,
            "latest_finish": {**TIME, "description": "when it must be there for every "
                                                     "deadline downstream"}}}
PLAN = {"type": "object", "properties": {
    "as_of": {"type": "string", "format": "date-time"}, "policy": {"type": "string"},
    "at_risk": {"type": "integer"},
    "deliverables": {"type": "array", "items": {"type": "object", "properties": {
        "pipeline": {"type": "string"}, "partition": {"type": "string"},
        "owner": {"type": "string"},
        "state": {"enum": ["waiting", "queued", "running", "blocked", "delivered"]},
        "predicted_start": TIME, "predicted_finish": TIME,
        "due": {"type": "string", "format": "date-time"}, "delivered_at": TIME,
        "slack_seconds": {"type": ["number", "null"]}, "at_risk": {"type": "boolean"},
        "reason": {"type": "string"},
        "first_plan": {"type": ["object", "null"],
                       "description": "the plan as first made (null: none recorded)",
                       "properties": {"predicted_start": TIME, "predicted_finish": TIME,
                                      "planned_at": {"type": "string", "format": "date-time"}}},
        "critical_path": {"type": "array", "items": STEP}}}},
    "problems": {"type": "array", "items": OBJECT,
                 "description": "the first events of the log that did not fit the state before "
                                "them (`position`, `event_id`, `event`, `run_id`, `message`)"}}}

TOKEN_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "description": "the first 12 hex digits of the token's SHA-256: "
                                            "names it in the API and the CLI"},
    "name": {"type": "string", "description": "its label: who the events say acted"},
    "role": {"enum": list(ROLES)},
    "created_at": {"type": "string", "format": "date-time"},
    "revoked_at": {**TIME, "description": "null while the token is valid"}}
TOKEN = {"type": "object", "description": "an API token (never the token itself or its hash)",
         "properties": TOKEN_FIELDS}
NEW_TOKEN = {"type": "object", "description": "the new token: the only answer that holds it",
             "properties": {**TOKEN_FIELDS, "token": {
                 "type": "string", "description": "the token (`andon_` and 256 random bits); "
                                                  "only its SHA-256 is stored"}}}
TOKEN_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["role"], "properties": {
        "role": {"enum": list(ROLES), "description": "viewer reads, operator changes state, "
                                                     "admin also manages tokens"},
        "name": {"type": "string", "maxLength": MAX_TOKEN_NAME,
                 "description": "a one-line label (default empty)"}}}}}}

def document(routes: Iterable[tuple[Route, Doc]]) -> dict[str, Any]:
    """The OpenAPI document of ``routes`` (each with its description), in their order."""
    paths: dict[str, dict[str, Any]] = {}
    for route, doc in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = doc(route.role)
    return {
        "openapi": "3.1.0",
        "info": {"title": "andon", "version": __version__,
                 "description": "The HTTP API of a running `andon up`. Reading is open (the "
                                "server binds to 127.0.0.1 by default); every change needs a "
                                "token of at least the operator role (`andon token create`), "
                                "and managing tokens the admin role. On every route: a "
                                "body past max_body_bytes gets 413, JSON nested past "
                                "max_json_depth or a string past max_string_bytes 422, a Host "
                                "header the server does not answer to 421."},
        "paths": paths,
        "components": {
            "schemas": {"Error": {"type": "object", "required": ["error", "message"],
                                  "properties": {"error": {"type": "string"},
                                                 "message": {"type": "string"},
                                                 "where": {"type": "string"},
                                                 "hint": {"type": "string"}}}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer",
                           "description": "an API token from `andon token create`"},
                "session": {"type": "apiKey", "in": "cookie", "name": "andon_session",
                            "description": "the board's login session"},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
                         "description": "with a session: the CSRF token of the page"},
            },
        },
    }
