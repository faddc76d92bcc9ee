"""What each route of ``andon.web.routes`` does: its handler and, for the API, its OpenAPI
description (``andon.web.openapi``), by route name. ``andon.web.app`` builds the server from
``ROUTES`` and this table, and refuses to start when a route has no entry here or an entry names
no route."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from andon.events.ids import CLIENT_ID_PATTERN, MAX_CLIENT_ID
from andon.manual.entries import KINDS as MANUAL_KINDS
from andon.registry.entries import KINDS
from andon.web import (
    access_pages,
    api_access,
    api_audit,
    api_catalog,
    api_cords,
    api_drift,
    api_lifecycle,
    api_manual,
    api_models,
    api_runs,
    api_search,
    api_status,
    api_tokens,
    entries,
    manual_pages,
    pages,
)
from andon.web.context import Handler
from andon.web.openapi import (
    CORD_ACK,
    LIST,
    NEW_TOKEN,
    OBJECT,
    PLAN,
    RECORDED,
    RESTORED,
    RUN_FILTERS,
    TOKEN,
    TOKEN_BODY,
    Doc,
    described,
    error_responses,
    json_body,
    path_param,
    query,
    read,
    write,
)


@dataclass(frozen=True)
class Endpoint:
    """A route's handler, and its OpenAPI description (API routes only: the pages, the board's
    files and /metrics are not part of the API)."""

    handler: Handler
    doc: Doc | None = None


ID = {"type": "object", "properties": {"id": {"type": "string"}}}
SEARCH_FILTERS = [
    {**query("q", "what to look for (1 to 1,000 characters)"), "required": True},
    query("kind", "only entries of this kind: dataset, pipeline, model, service or library"),
    query("owner", "only entries of this owner (exact, any case)"),
    query("limit", "at most this many (default 20, at most 1000)", "integer")]
SEARCH_FOUND = {"type": "object", "properties": {
    "results": {"type": "array", "items": {"type": "object", "properties": {
        name: {"type": "string"} for name in ("kind", "name", "owner", "description", "url")} | {
        "score": {"type": "number", "description": "higher is better: 1000 exact name, 500 and "
                                                   "up a prefix, 2 to 500 full text (bm25), "
                                                   "1 and below a typo away; a deprecated "
                                                   "entry's full-text score is halved"}}}},
    "suggestion": {"type": ["string", "null"], "description": "did you mean: the closest name "
                                                              "when nothing matched"}}}
ENTRY = {"type": "object", "properties": {
    **{name: {"type": "string"} for name in ("kind", "name", "owner", "description", "url",
                                               "team", "lifecycle")},
    "tags": {"type": "array", "items": {"type": "string"}}}}
COUNTED = {"type": "array", "items": {"type": "object"}}
MANUAL_ENTRY = {"type": "object", "description": "an entry of the manual "
                "(andon.manual.views.entry_json)", "properties": {
    **{name: {"type": "string"} for name in ("id", "kind", "title", "first_seen", "last_seen")},
    "pipelines": {"type": "array", "items": {"type": "string"}},
    "occurrences": {"type": "array", "items": {"type": "object", "properties": {
        name: {"type": "string"} for name in ("run_id", "partition", "at")}}},
    "resolutions": {"type": "array", "items": {"type": "object", "properties": {
        name: {"type": "string"} for name in ("note", "link", "commit", "by", "at")}}},
    "regression": {"type": "boolean"}, "count": {"type": "integer"}}}
CATALOG_LISTING = {"type": "object", "properties": {
    "entries": {"type": "array", "items": ENTRY},
    **{name: {"type": "integer"} for name in ("total", "limit", "offset")},
    "facets": {"type": "object", "properties": {
        **{name: {"type": "integer"} for name in ("total", "declared", "owner_count",
                                                  "tag_count")},
        "kinds": {"type": "object", "additionalProperties": {"type": "integer"}},
        "owners": COUNTED, "tags": COUNTED}}}}
CATALOG_FILTERS = [
    query("kind", "only entries of this kind: dataset, pipeline, model, service or library"),
    query("owner", "only entries of this owner (exact, any case; at most 1,000 characters)"),
    query("tag", "only entries with this tag (exact, any case; at most 100 characters)"),
    query("limit", "at most this many (default 20, at most 1000)", "integer"),
    query("offset", "skip this many (default 0, at most 10,000,000)", "integer")]

ACCESS_FIELDS: dict[str, Any] = {
    **{name: {"type": "string"} for name in (
        "request_id", "asset", "requester", "reason", "contact", "requested_at", "decided_by")},
    "until": {"type": "string", "format": "date", "description": "the last day of access"},
    "status": {"enum": ["requested", "approved", "rejected", "expired"]},
    "answers": {"type": "object", "description": "the answers to the data set's form"},
    "decided_at": {"type": ["string", "null"]}, "expired_at": {"type": ["string", "null"]},
    "decision_note": {"type": "string", "description": "the approval's note, or why it was "
                                                      "rejected"}}
ACCESS_REQUEST = {"type": "object", "properties": ACCESS_FIELDS}
CONSUMER = {"type": "object", "properties": {
    name: {"type": "string"} for name in ("asset", "consumer", "until", "request_id",
                                          "subscribed_at", "subscribed_by", "ends_at")}}
UNTIL = {"type": "string", "format": "date",
         "description": "the last day (YYYY-MM-DD): after today, at most access_max_days ahead "
                        "(default: that far)"}
REQUEST_ID = [path_param("request_id")]
ACCESS_ERRORS = "; 404 for an unknown id, 409 when it was decided already, 403 for a token " \
                "that is neither an operator's nor named as one of the data set's owners."

ENTRY_BODY = {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["kind", "name", "owner"], "additionalProperties": False,
    "description": "the fields of a catalog.toml entry, checked as one",
    "properties": {
        "kind": {"enum": ["dataset", "model", "service", "library"]},
        "name": {"type": "string", "description": "an identifier (letters, digits, _ . -)"},
        "owner": {"type": "string"}, "description": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
        "team": {"type": "string"},
        "links": {"type": "object", "additionalProperties": {"type": "string"},
                  "description": "label -> URL (code, docs, dashboards), at most 20"},
        "lifecycle": {"description": "active (default), beta, or {state: deprecated, date: "
                                     "YYYY-MM-DD}",
                      "oneOf": [{"enum": ["active", "beta", "deprecated"]},
                                {"type": "object", "properties": {
                                    "state": {"type": "string"},
                                    "date": {"type": "string", "format": "date"}}}]},
        "access": {"type": "string", "description": "how to get access: a link or a note"}}}}}}
ENTRY_ACK = {"type": "object", "properties": {
    name: {"type": "string"} for name in ("kind", "name", "id", "url")}}

ENDPOINTS: dict[str, Endpoint] = {
    "board_page": Endpoint(pages.board_page),
    "runs_page": Endpoint(pages.runs_page),
    "run_page": Endpoint(pages.run_page),
    "asset_page": Endpoint(pages.asset_page),
    "cords_page": Endpoint(pages.cords_page),
    "cord_page": Endpoint(pages.cord_page),
    "pools_page": Endpoint(pages.pools_page),
    "manual_page": Endpoint(manual_pages.manual_page),
    "audit_page": Endpoint(api_audit.audit_page),
    "manual_review_page": Endpoint(manual_pages.manual_review_page),
    "manual_entry_page": Endpoint(manual_pages.manual_entry_page),
    "deliveries_page": Endpoint(pages.deliveries_page),
    "search_page": Endpoint(pages.search_page),
    "access_requests_page": Endpoint(access_pages.access_requests_page),
    "access_request_form": Endpoint(access_pages.access_request_form),
    "entry_page": Endpoint(entries.entry_page),
    "search_results": Endpoint(pages.search_results),
    "catalog_page": Endpoint(pages.catalog_page),
    "login_page": Endpoint(pages.login_page),
    "login": Endpoint(pages.login),
    "logout": Endpoint(pages.logout),
    "static_file": Endpoint(pages.static_file),
    "metrics": Endpoint(api_status.metrics),
    "health": Endpoint(api_status.health, read(
        "Whether the server, its database and the scheduler answer; `workers`: executor slots "
        "`busy` of `total` and the `executor` (`name`, `mode`, `alive`); `problems`: the "
        "`count` of events in the log that did not fit the state before them, and the `first` "
        "ones (`position`, `event_id`, `event`, `run_id`, `message`). 503 with `ok` false, "
        "`database` `missing` or `replaced` and a `message` when the store's file or state "
        "folder was deleted or replaced under the server.", OBJECT, errors=(503,))),
    "status": Endpoint(api_status.status, read(
        "Per pipeline the partitions in each state; sources; open cords and what they halt.",
        OBJECT)),
    "list_runs": Endpoint(api_runs.list_runs, read(
        "Runs, newest first.", LIST, RUN_FILTERS, (422,))),
    "request_run": Endpoint(api_runs.request_run, write(
        "Queue a manual run of one partition.",
        json_body({"pipeline": "pipeline name", "partition": "partition key"}), 202, ID,
        (404, 422))),
    "get_run": Endpoint(api_runs.get_run, read(
        "One run: inputs read, outputs written, timings.", OBJECT, [path_param("run_id")],
        (404,))),
    "run_log": Endpoint(api_runs.run_log, described({
        "summary": "One page of the run's captured output: `limit` bytes (default and cap: the "
                   "log_page_bytes setting, 1 MB) from byte `offset`; the "
                   "`X-Andon-Next-Offset` header is where the next page starts (equal to "
                   "`offset` at the end).", "security": [],
        "parameters": [path_param("run_id"), query("offset", "first byte", "integer"),
                       query("limit", "most bytes to answer (at least 1)", "integer")],
        "responses": {"200": {"description": "OK", "content": {"text/plain": {
            "schema": {"type": "string"}}}, "headers": {"X-Andon-Next-Offset": {
                "description": "the byte offset of the next page",
                "schema": {"type": "integer"}}}}, **error_responses(404, 422)}})),
    "run_log_stream": Endpoint(api_runs.run_log_stream, described({
        "summary": "Server-sent events: the run's log from byte `offset`, then each piece it "
                   "writes while it executes (`data`: `{\"text\"}`, at most 16 KB; `id` = the "
                   "byte offset after it), then an `end` event with the run's status once it "
                   "has ended. Send `Last-Event-ID` to resume after a piece.",
        "security": [],
        "parameters": [path_param("run_id"),
                       {"name": "Last-Event-ID", "in": "header", "required": False,
                        "schema": {"type": "integer"}},
                       query("offset", "first byte (default 0)", "integer")],
        "responses": {"200": {"description": "a stream that ends when the run has ended",
                              "content": {"text/event-stream": {"schema": {"type": "string"}}}},
                      **error_responses(404, 422)}})),
    "cancel_run": Endpoint(api_runs.cancel_run, write(
        "Cancel a queued or running run.", None, 202, ID, (404, 409), [path_param("run_id")])),
    "partitions": Endpoint(api_status.partitions, read(
        "The current version of every partition.", LIST,
        [query("asset", "only this data set")])),
    "plan": Endpoint(api_status.plan, read(
        "Every upcoming deliverable: predicted start and finish, due time, slack, at risk and "
        "why, the plan as first made and the critical path.", PLAN)),
    "notify": Endpoint(api_runs.notify, write(
        "Announce a partition of a source (idempotent: same data, same id).",
        json_body({"asset": "source name", "partition": "partition key"},
                  {"id": {"type": "string", "minLength": 1, "maxLength": MAX_CLIENT_ID,
                          "pattern": CLIENT_ID_PATTERN,
                          "description": "your event id (default: derived from the data); "
                                         "stored as `client:ID`, apart from the ids andon "
                                         "derives"}}),
        201, RECORDED, (404, 409, 422))),
    "backfill": Endpoint(api_runs.backfill, write(
        "Queue runs of a pipeline for a range of partitions.",
        json_body({"pipeline": "pipeline name", "from": "first partition key",
                   "to": "last partition key"}),
        202, {"type": "object", "properties": {"partitions": {"type": "array",
                                                              "items": {"type": "string"}}}},
        (404, 422))),
    "list_cords": Endpoint(api_cords.list_cords, read(
        "Open andon cords (all with `all=1`), newest first, as incidents.", LIST,
        [query("all", "1 to include resolved cords")])),
    "pull_cord": Endpoint(api_cords.pull_cord, write(
        "Pull the andon cord on a partition: everything downstream halts.",
        json_body({"asset": "data set", "partition": "partition key",
                   "reason": "what is wrong"}), 201, CORD_ACK, (404, 409, 422))),
    "get_cord": Endpoint(api_cords.get_cord, read(
        "One cord: its timeline, what it halts, its suspect outputs.", OBJECT,
        [path_param("cord_id")], (404,))),
    "resolve_cord": Endpoint(api_cords.resolve_cord, write(
        "Resolve a cord: andon re-makes the partition (or accepts it with `manual_fix`) and "
        "then everything it affected.",
        json_body({"note": "what was fixed"},
                  {"manual_fix": {"type": "boolean", "description": "accept the data as fixed"}}),
        202, CORD_ACK, (404, 409, 422), [path_param("cord_id")])),
    "restore_output": Endpoint(api_cords.restore_output, write(
        "Move a quarantined output of the cord back to its location (`version`: default the "
        "newest quarantined one). 404: the cord made no such output suspect; 409: it was kept, "
        "deleted or restored already, or its location holds data again (nothing moves).",
        json_body({"asset": "data set of the suspect output", "partition": "its partition key"},
                  {"version": {"type": "integer", "minimum": 1,
                               "description": "which version (default: the newest "
                                              "quarantined)"}}),
        200, RESTORED, (404, 409, 422), [path_param("cord_id")])),
    "list_tokens": Endpoint(api_tokens.list_tokens, write(
        "Every API token, oldest first, valid and revoked.", None, 200,
        {"type": "array", "items": TOKEN}, ())),
    "create_token": Endpoint(api_tokens.create_token, write(
        "Make an API token; the answer shows it once (only its SHA-256 is stored).",
        TOKEN_BODY, 201, NEW_TOKEN, (422,), replay=False)),
    "revoke_token": Endpoint(api_tokens.revoke_token, write(
        "Revoke a token by its id: its very next request fails with 401 (409: already revoked; "
        "422: the path holds a token, not an id).", None, 200, TOKEN, (404, 409, 422),
        [path_param("token_id")])),
    "search": Endpoint(api_search.search, read(
        "Search the catalog (data sets, pipelines, models, services, libraries): an exact name "
        "first, then names that start with `q`, then full text over name, description, tags, "
        "owner and team; when nothing matches, the names a typo away and `suggestion`, the closest. "
        "422 naming the `field`: `q` empty or over 1,000 characters, an unknown `kind`, "
        "`limit` outside 1..1000.", SEARCH_FOUND, SEARCH_FILTERS, (422,))),
    "list_access_requests": Endpoint(api_access.list_access_requests, read(
        "Access requests, newest first (at most 1000); 422 naming `status` when it is not one "
        "of requested, approved, rejected, expired.", {"type": "array", "items": ACCESS_REQUEST},
        [query("asset", "only requests for this data set"),
         query("status", "requested, approved, rejected or expired")], (422,))),
    "request_access": Endpoint(api_access.request_access, write(
        "Ask for access to a data set; the requester is the token's name. The answers are "
        "checked against the data set's form (422 naming `answers.FIELD`); 404 with a "
        "suggestion for an unknown data set, 409 when it declares no access requests; 422 "
        "naming an unknown field.",
        json_body({"asset": "the data set", "reason": "why (1 to 2,000 characters)"},
                  {"until": UNTIL,
                   "answers": {"type": "object", "description": "the form's fields; text is "
                                                                "read as a field's type"},
                   "contact": {"type": "string", "maxLength": 200,
                               "description": "an e-mail address or webhook name to tell of "
                                              "the decision"}}),
        201, ACCESS_REQUEST, (404, 409, 422), replay=False)),
    "get_access_request": Endpoint(api_access.get_access_request, read(
        "One access request, with the data set's registered `consumers`.",
        {"type": "object", "properties": {**ACCESS_FIELDS, "consumers": {
            "type": "array", "items": CONSUMER}}}, REQUEST_ID, (404,))),
    "approve_access": Endpoint(api_access.approve_access, write(
        "Approve an access request: its requester is a registered consumer until its date"
        + ACCESS_ERRORS, json_body({}, {"note": {"type": "string", "maxLength": 2000}}),
        200, ACCESS_REQUEST, (404, 409, 422), REQUEST_ID)),
    "reject_access": Endpoint(api_access.reject_access, write(
        "Reject an access request, saying why" + ACCESS_ERRORS,
        json_body({"reason": "why (1 to 2,000 characters)"}), 200, ACCESS_REQUEST,
        (404, 409, 422), REQUEST_ID)),
    "list_consumers": Endpoint(api_access.list_consumers, read(
        "Registered consumers (of `asset`) and the day their access ends.",
        {"type": "array", "items": CONSUMER}, [query("asset", "only this data set")])),
    "subscribe": Endpoint(api_access.subscribe, write(
        "Register a consumer of the data set (default: the token's name; another `consumer` "
        "needs an operator or an owner's token, else 403) until `until`; it hears what the "
        "data set's owners hear.",
        json_body({}, {"until": UNTIL, "consumer": {"type": "string", "maxLength": 200}}), 201,
        CONSUMER, (404, 422), [path_param("name")], replay=False)),
    "unsubscribe": Endpoint(api_access.unsubscribe, write(
        "Drop a registered consumer of the data set (404: not registered).",
        json_body({}, {"consumer": {"type": "string", "maxLength": 200}}), 200, CONSUMER,
        (404, 422), [path_param("name")])),
    "catalog_entry": Endpoint(entries.catalog_entry, read(
        "One entry of the catalog and what andon knows about it: its fields (owner, team, "
        "tags, links, lifecycle, access), `producer`, `upstream`, `downstream`; a pipeline's "
        "`uses`, `models` and newest `runs`; a service's or library's `used_by`; a model's "
        "`versions` (the successful runs of the pipeline that makes it, newest first); a data "
        "set's `consumers` (`declared`, each `stale` after 30 days without a read; `observed` "
        "from its runs' reads; `external`) and `freshness` (newest partition, next delivery "
        "from the plan). 404 with a suggestion for an unknown name; 422 for an unknown `kind`.",
        OBJECT, [{**path_param("kind"), "schema": {"type": "string", "enum": list(KINDS)}},
                 path_param("name")], (404, 422))),
    "catalog": Endpoint(api_search.catalog, read(
        "Browse the catalog: the entries of a `kind`, an `owner` and a `tag` (each optional), "
        "by kind then name, `limit` from `offset`, with `total` (how many match) and the "
        "catalog's `facets` (entries per kind, the owners and tags with the most entries). "
        "422 naming the `field`: an unknown `kind`, an over-long `owner` or `tag`, `limit` "
        "outside 1..1000, `offset` outside 0..10,000,000.", CATALOG_LISTING, CATALOG_FILTERS,
        (422,))),
    "declare_entry": Endpoint(api_catalog.declare_entry, write(
        "Declare an entry of the catalog (a model, service, library or external data set): "
        "the fields of a catalog.toml entry, checked as one (422 naming the `field`); it is "
        "found by search at once. Declaring the same kind and name again replaces it; 409 for "
        "a name the definitions or catalog.toml hold.", ENTRY_BODY, 201, ENTRY_ACK, (409, 422),
        replay=False)),
    "remove_entry": Endpoint(api_catalog.remove_entry, write(
        "Take an entry declared through the API out of the catalog. 404: none of that kind and "
        "name was; 409: the definitions or catalog.toml declare it (remove it there).", None,
        200, ENTRY_ACK, (404, 409, 422), [path_param("kind"), path_param("name")])),
    "audit": Endpoint(api_audit.get_audit, read(
        "The waste audit: every finding (`kind`, `object`, `evidence`, `owner`, `action`, "
        "`cost` a month in `currency`, `url`, `numbers`), by kind then object, judged by "
        "`[audit]` of andon.toml; `since` judges the log from that date. 422 naming `since` "
        "when it is no date.", OBJECT,
        [query("since", "judge the log from this date (YYYY-MM-DD) or ISO time")], (422,))),
    "list_manual": Endpoint(api_manual.list_manual, read(
        "The operations manual: the problems andon saw, grouped by signature, newest first, "
        "each with its `occurrences` (`run_id`, `partition`, `at`, ...), `resolutions` and "
        "`regression`. 422 naming the `field`: an unknown `kind`, a `since` that is no date.",
        {"type": "object", "properties": {"entries": {"type": "array", "items": MANUAL_ENTRY}}},
        [query("kind", "only problems that showed this way: " + ", ".join(MANUAL_KINDS)),
         query("since", "only problems seen at or after this date (YYYY-MM-DD) or ISO time")],
        (422,))),
    "manual_review": Endpoint(api_manual.manual_review, read(
        "The review of the last `days` days (default 30, 1..366): the entries seen, labelled "
        "`frequent` (3 times or more: candidates for automation), `new` or `rare`; the "
        "`reactive_share` of the time (incidents weighted by the pipelines they halted, and "
        "failed or redone compute), `flagged` above the `threshold` (0.10).", OBJECT,
        [query("days", "the window in days (default 30, 1 to 366)", "integer")], (422,))),
    "get_manual_entry": Endpoint(api_manual.get_manual_entry, read(
        "One entry of the manual (404 with the closest ids for an unknown one).", MANUAL_ENTRY,
        [path_param("entry_id")], (404,))),
    "resolve_manual_entry": Endpoint(api_manual.resolve_manual_entry, write(
        "Write down how the entry's problem was fixed: shown the next time it comes back. 404 "
        "with a suggestion for an unknown entry; 422 naming the `field`: an empty or over-long "
        "`note`, a `link` that is not http(s), a `commit` that is not 4 to 40 hex digits.",
        json_body({"note": "what was wrong and how it was fixed (at most 2,000 characters)"},
                  {"link": {"type": "string", "description": "an http(s) link"},
                   "commit": {"type": "string", "description": "the fix's commit"}}),
        201, {"type": "object", "properties": {"entry": {"type": "string"},
                                               "id": {"type": "string"},
                                               "recorded": {"type": "boolean"}}},
        (404, 409, 422), [path_param("entry_id")], replay=False)),
    "list_deprecations": Endpoint(api_lifecycle.list_deprecations, read(
        "Every deprecated data set and pipeline: `state` (deprecated, frozen, deleted), "
        "`delete_after`, `reason`, `replacement`, `by`, `noticed_at`, `assets`.",
        {"type": "object", "properties": {"deprecations": {"type": "array", "items": OBJECT}}})),
    "deprecate": Endpoint(api_lifecycle.deprecate, write(
        "Deprecate a data set or pipeline: its consumers are told now; after `delete_after` "
        "it is frozen and the sweep deletes its data unless something read it after the "
        "notice. 404 with \"did you mean\" for an unknown name; 422 naming the `field`: a "
        "`delete_after` in the past or less than [sweep] notice_days ahead, an empty `reason`, "
        "a bad `kind` or `replacement`; 409 for an object deleted already.",
        json_body({"name": "the data set or pipeline", "delete_after": "YYYY-MM-DD",
                   "reason": "why it goes (at most 2,000 characters)"},
                  {"replacement": {"type": "string", "description": "what to use instead"},
                   "kind": {"type": "string", "enum": ["dataset", "pipeline"],
                            "description": "when the name is both"}}),
        201, OBJECT, (404, 409, 422))),
    "sweep_plan": Endpoint(api_lifecycle.sweep_plan, read(
        "The sweep's dry run: `deletions` (each file: `asset`, `partition`, `version`, "
        "`location`, `size_bytes`, `rule`), `blocked` (with `reason` and `fix`), `refused` "
        "locations, `finish` (removals an interrupted sweep left), `freed_bytes`.", OBJECT)),
    "apply_sweep": Endpoint(api_lifecycle.apply_sweep, write(
        "Apply the sweep: each file's removal is recorded (`lifecycle.data_deleted`) before "
        "the file goes; answers `removed`, `freed_bytes`, `deleted`, `blocked`, `refused`.",
        None, 200, OBJECT, ())),
    "list_models": Endpoint(api_models.list_models, read(
        "Every model of the catalog, by name: its producer pipeline, `deploy` policy (`manual` "
        "or `auto`), how many `versions`, the `latest` and the one `serving` (0: none).",
        OBJECT)),
    "get_model": Endpoint(api_models.get_model, read(
        "One model: its newest `versions` (each a successful run of its producer, with the "
        "`metrics` and `params` the run logged and its training `inputs`), the version "
        "`serving`, the one a rollback would serve (`rollback_to`) and every promotion. 404 "
        "with the closest name for an unknown model.", OBJECT, [path_param("name")], (404,))),
    "promote_model": Endpoint(api_models.promote_model, write(
        "Put a version of the model into service (`model.promoted`). 404 for an unknown model "
        "or version; 409 for the version serving already; 422 naming the `field`: a `version` "
        "that is no integer, a `reason` over 500 characters or with control characters.",
        {"required": True, "content": {"application/json": {"schema": {
            "type": "object", "required": ["version"], "properties": {
                "version": {"type": "integer", "description": "the version (1 the oldest)"},
                "reason": {"type": "string", "description": "why, in a sentence"}}}}}},
        201, OBJECT, (404, 409, 422), [path_param("name")], replay=False)),
    "rollback_model": Endpoint(api_models.rollback_model, write(
        "Put back the version that served before the current one (`model.promoted` with "
        "`rollback`). 404 for an unknown model; 409 when none served before.",
        json_body({}, {"reason": {"type": "string", "description": "why, in a sentence"}}),
        201, OBJECT, (404, 409, 422), [path_param("name")], replay=False)),
    "get_drift": Endpoint(api_drift.get_drift, read(
        "Drift of a profiled data set per column and partition against its reference (the "
        "training partitions of the model's serving version, or a window), from the profiles "
        "its runs wrote: `partitions`, `columns` and `cells` (`psi`, `js`, `p`, `band`), and "
        "`errors` for partitions that cannot be compared. `?partition=` answers one "
        "partition's report instead. 404 for a data set not profiled or a partition without "
        "a profile; 422 naming a `partition` or `since` that is no key.", OBJECT,
        [path_param("asset"), query("partition", "one partition's report"),
         query("since", "the first partition key of the heat map")], (404, 422))),
    "events_stream": Endpoint(api_status.events_stream, described({
        "summary": "Server-sent events: every event as it is committed (`id` = its position in "
                   "the log); send `Last-Event-ID` (or `last_event_id`) to resume after it.",
        "security": [],
        "parameters": [{"name": "Last-Event-ID", "in": "header", "required": False,
                        "schema": {"type": "integer"}},
                       query("last_event_id", "resume after this event", "integer")],
        "responses": {"200": {"description": "an endless event stream", "content": {
            "text/event-stream": {"schema": {"type": "string"}}}}, **error_responses(422)}})),
    "openapi": Endpoint(api_status.openapi, read("This document.", OBJECT)),
}
