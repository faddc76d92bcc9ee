"""The OpenAPI 3.1 document of ``/api/v1``, written by hand next to the routes it describes (a
test fails when a route is missing here). Served at ``/api/v1/openapi.json``; no interactive page
(it would need vendored assets for little gain)."""

from __future__ import annotations

from typing import Any

from andon import __version__
from andon.events import CLIENT_ID_PATTERN, MAX_CLIENT_ID
from andon.service import MAX_TOKEN_NAME
from andon.tokens import ROLES

ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object", "additionalProperties": True}
LIST = {"type": "array", "items": OBJECT}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {401: "no API token, or an unknown or revoked one",
            403: "the token's role is too weak (or the session's CSRF token is wrong)",
            404: "no such object", 409: "not possible in the current state",
            422: "malformed request: `where` names the field, `message` the reason",
            503: "the store's database was deleted or replaced under the server: nothing is "
                 "recorded until it is back"}
    return {str(c): _json(ERROR, text[c]) for c in codes}


def _query(name: str, description: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": kind}}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(required: dict[str, str], optional: dict[str, dict[str, Any]] | None = None
          ) -> dict[str, Any]:
    props: dict[str, Any] = {k: {"type": "string", "description": v} for k, v in required.items()}
    props.update(optional or {})
    return {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": list(required), "properties": props}}}}


def _read(summary: str, response: dict[str, Any], params: list[dict[str, Any]] | None = None,
          errors: tuple[int, ...] = ()) -> dict[str, Any]:
    return {"summary": summary, "security": [], "parameters": params or [],
            "responses": {"200": _json(response, "OK"), **_errors(*errors)}}


def _write(summary: str, body: dict[str, Any] | None, status: int, response: dict[str, Any],
           errors: tuple[int, ...], params: list[dict[str, Any]] | None = None,
           role: str = "operator", replay: bool = True) -> dict[str, Any]:
    """An operation that needs a token of ``role`` (every change, and the token list); ``replay``:
    a 201 that answers 200 when the same id comes again."""
    op: dict[str, Any] = {
        "summary": f"{summary} Needs the {role} role.",
        "security": [{"bearer": []}, {"session": [], "csrf": []}],
        "parameters": params or [],
        "responses": {str(status): _json(response, "OK" if status == 200 else "accepted"),
                      **_errors(401, 403, *errors, 503)}}
    if status == 201 and replay:
        op["responses"]["200"] = _json(response, "already recorded (same id)")
    if body is not None:
        op["requestBody"] = body
    return op


RECORDED = {"type": "object", "properties": {"id": {"type": "string"},
                                             "recorded": {"type": "boolean"}}}
CORD_ACK = {"type": "object", "properties": {"cord_id": {"type": "string"},
                                             "id": {"type": "string"},
                                             "recorded": {"type": "boolean"}}}
RESTORED = {"type": "object", "properties": {
    "cord_id": {"type": "string"}, "id": {"type": "string"}, "recorded": {"type": "boolean"},
    "asset": {"type": "string"}, "partition": {"type": "string"}, "version": {"type": "integer"},
    "location": {"type": "string", "description": "where it is back, relative to the project"}}}
RUN_FILTERS = [_query("pipeline", "only runs of this pipeline"),
               _query("status", "queued, running, succeeded, failed or cancelled"),
               _query("partition", "only runs of this partition key"),
               _query("limit", "at most this many (default 50, at most 1000)", "integer"),
               _query("offset", "skip this many (paging)", "integer")]

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

PATHS: dict[str, dict[str, Any]] = {
    "/api/v1/health": {"get": _read(
        "Whether the server, its database and the scheduler answer; `workers`: executor slots "
        "`busy` of `total` and the `executor` (`name`, `mode`, `alive`); `problems`: the "
        "`count` of events in the log that did not fit the state before them, and the `first` "
        "ones (`position`, `event_id`, `event`, `run_id`, `message`). 503 with `ok` false, "
        "`database` `missing` or `replaced` and a `message` when the store's file or state "
        "folder was deleted or replaced under the server.", OBJECT, errors=(503,))},
    "/api/v1/status": {"get": _read("Per pipeline the partitions in each state; sources; open "
                                    "cords and what they halt.", OBJECT)},
    "/api/v1/runs": {
        "get": _read("Runs, newest first.", LIST, RUN_FILTERS, (422,)),
        "post": _write("Queue a manual run of one partition.",
                       _body({"pipeline": "pipeline name", "partition": "partition key"}),
                       202, {"type": "object", "properties": {"id": {"type": "string"}}},
                       (404, 422)),
    },
    "/api/v1/runs/{run_id}": {"get": _read("One run: inputs read, outputs written, timings.",
                                           OBJECT, [_path("run_id")], (404,))},
    "/api/v1/runs/{run_id}/log": {"get": {
        "summary": "One page of the run's captured output: `limit` bytes (default and cap: the "
                   "log_page_bytes setting, 1 MB) from byte `offset`; the "
                   "`X-Andon-Next-Offset` header is where the next page starts (equal to "
                   "`offset` at the end).", "security": [],
        "parameters": [_path("run_id"), _query("offset", "first byte", "integer"),
                       _query("limit", "most bytes to answer (at least 1)", "integer")],
        "responses": {"200": {"description": "OK", "content": {"text/plain": {
            "schema": {"type": "string"}}}, "headers": {"X-Andon-Next-Offset": {
                "description": "the byte offset of the next page",
                "schema": {"type": "integer"}}}}, **_errors(404, 422)}}},
    "/api/v1/runs/{run_id}/log/stream": {"get": {
        "summary": "Server-sent events: the run's log from byte `offset`, then each piece it "
                   "writes while it executes (`data`: `{\"text\"}`, at most 16 KB; `id` = the "
                   "byte offset after it), then an `end` event with the run's status once it "
                   "has ended. Send `Last-Event-ID` to resume after a piece.",
        "security": [],
        "parameters": [_path("run_id"),
                       {"name": "Last-Event-ID", "in": "header", "required": False,
                        "schema": {"type": "integer"}},
                       _query("offset", "first byte (default 0)", "integer")],
        "responses": {"200": {"description": "a stream that ends when the run has ended",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      **_errors(404, 422)}}},
    "/api/v1/runs/{run_id}/cancel": {"post": _write(
        "Cancel a queued or running run.", None, 202,
        {"type": "object", "properties": {"id": {"type": "string"}}}, (404, 409),
        [_path("run_id")])},
    "/api/v1/partitions": {"get": _read("The current version of every partition.", LIST,
                                        [_query("asset", "only this data set")])},
    "/api/v1/plan": {"get": _read("Every upcoming deliverable: predicted start and finish, due "
                                  "time, slack, at risk and why, the plan as first made and the "
                                  "critical path.", PLAN)},
    "/api/v1/notify": {"post": _write(
        "Announce a partition of a source (idempotent: same data, same id).",
        _body({"asset": "source name", "partition": "partition key"},
              {"id": {"type": "string", "minLength": 1, "maxLength": MAX_CLIENT_ID,
                      "pattern": CLIENT_ID_PATTERN,
                      "description": "your event id (default: derived from the data); stored "
                                     "as `client:ID`, apart from the ids andon derives"}}),
        201, RECORDED, (404, 409, 422))},
    "/api/v1/backfills": {"post": _write(
        "Queue runs of a pipeline for a range of partitions.",
        _body({"pipeline": "pipeline name", "from": "first partition key",
               "to": "last partition key"}),
        202, {"type": "object", "properties": {"partitions": {"type": "array",
                                                              "items": {"type": "string"}}}},
        (404, 422))},
    "/api/v1/cords": {
        "get": _read("Open andon cords (all with `all=1`), newest first, as incidents.", LIST,
                     [_query("all", "1 to include resolved cords")]),
        "post": _write("Pull the andon cord on a partition: everything downstream halts.",
                       _body({"asset": "data set", "partition": "partition key",
                              "reason": "what is wrong"}), 201, CORD_ACK, (404, 409, 422)),
    },
    "/api/v1/cords/{cord_id}": {"get": _read("One cord: its timeline, what it halts, its "
                                             "suspect outputs.", OBJECT, [_path("cord_id")],
                                             (404,))},
    "/api/v1/cords/{cord_id}/resolve": {"post": _write(
        "Resolve a cord: andon re-makes the partition (or accepts it with `manual_fix`) and "
        "then everything it affected.",
        _body({"note": "what was fixed"},
              {"manual_fix": {"type": "boolean", "description": "accept the data as fixed"}}),
        202, CORD_ACK, (404, 409, 422), [_path("cord_id")])},
    "/api/v1/cords/{cord_id}/restore": {"post": _write(
        "Move a quarantined output of the cord back to its location (`version`: default the "
        "newest quarantined one). 404: the cord made no such output suspect; 409: it was kept, "
        "deleted or restored already, or its location holds data again (nothing moves).",
        _body({"asset": "data set of the suspect output", "partition": "its partition key"},
              {"version": {"type": "integer", "minimum": 1,
                           "description": "which version (default: the newest quarantined)"}}),
        200, RESTORED, (404, 409, 422), [_path("cord_id")])},
    "/api/v1/tokens": {
        "get": _write("Every API token, oldest first, valid and revoked.", None, 200,
                      {"type": "array", "items": TOKEN}, (), role="admin"),
        "post": _write("Make an API token; the answer shows it once (only its SHA-256 is "
                       "stored).", TOKEN_BODY, 201, NEW_TOKEN, (422,), role="admin",
                       replay=False),
    },
    "/api/v1/tokens/{token_id}/revoke": {"post": _write(
        "Revoke a token by its id: its very next request fails with 401 (409: already revoked; "
        "422: the path holds a token, not an id).", None, 200, TOKEN, (404, 409, 422),
        [_path("token_id")], role="admin")},
    "/api/v1/events/stream": {"get": {
        "summary": "Server-sent events: every event as it is committed (`id` = its position in "
                   "the log); send `Last-Event-ID` (or `last_event_id`) to resume after it.",
        "security": [],
        "parameters": [{"name": "Last-Event-ID", "in": "header", "required": False,
                        "schema": {"type": "integer"}},
                       _query("last_event_id", "resume after this event", "integer")],
        "responses": {"200": {"description": "an endless event stream", "content": {
            "text/event-stream": {"schema": {"type": "string"}}}}, **_errors(422)}}},
    "/api/v1/openapi.json": {"get": _read("This document.", OBJECT)},
}


def document() -> dict[str, Any]:
    """The OpenAPI document."""
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
        "paths": PATHS,
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
