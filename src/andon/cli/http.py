"""The client of a running ``andon up``: its API over HTTP with the project's token (stdlib
HTTP only: no heavy import)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from andon.model.errors import AndonError
from andon.model.views import Json
from andon.web.routes import BY_NAME, path_for  # the routes, declared once (stdlib only)

Query = Mapping[str, str | int]  # a query string's parameters


class HttpClient:
    """Talks to the running ``andon up`` at ``url``; an error answer raises the AndonError it
    describes (exit code 2)."""

    live = True

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token = url.rstrip("/"), token

    # -- the operations (andon.cli.client.Client) ------------------------------------------------

    def notify(self, asset: str, partition: str, event_id: str | None) -> bool:
        body = {"asset": asset, "partition": partition}
        if event_id is not None:
            body["id"] = event_id
        return bool(self._call("notify", body)["recorded"])

    def run(self, pipeline: str, partition: str) -> None:
        self._call("request_run", {"pipeline": pipeline, "partition": partition})

    def backfill(self, pipeline: str, first: str, last: str) -> int:
        return len(self.backfill_keys(pipeline, first, last))

    def backfill_keys(self, pipeline: str, first: str, last: str) -> list[str]:
        """Request the partitions ``first`` to ``last``; their keys."""
        body = {"pipeline": pipeline, "from": first, "to": last}
        return [str(k) for k in self._call("backfill", body)["partitions"]]

    def cancel(self, run_id: str) -> None:
        self._call("cancel_run", {}, run_id=run_id)

    def cord_pull(self, asset: str, partition: str, reason: str) -> str:
        body = {"asset": asset, "partition": partition, "reason": reason}
        return str(self._call("pull_cord", body)["cord_id"])

    def cord_resolve(self, cord_id: str, note: str, manual_fix: bool) -> None:
        self._call("resolve_cord", {"note": note, "manual_fix": manual_fix}, cord_id=cord_id)

    def cord_restore(self, cord_id: str, asset: str, partition: str,
                     version: int | None) -> tuple[int, str]:
        body: Json = {"asset": asset, "partition": partition}
        if version is not None:
            body["version"] = version
        done = self._call("restore_output", body, cord_id=cord_id)
        return done["version"], done["location"]

    def deprecate(self, name: str, delete_after: str, reason: str, replacement: str,
                  kind: str | None) -> Json:
        body: Json = {"name": name, "delete_after": delete_after, "reason": reason}
        if replacement:
            body["replacement"] = replacement
        if kind:
            body["kind"] = kind
        return self._call("deprecate", body)

    def deprecations(self) -> Json:
        return self._call("list_deprecations")

    def sweep(self, apply: bool) -> Json:
        return self._call("apply_sweep", {}) if apply else self._call("sweep_plan")

    def status(self) -> Json:
        return self._call("status")

    def plan(self) -> Json:
        return self._call("plan")

    def runs(self, pipeline: str | None, status: str | None, partition: str | None,
             limit: int) -> list[Json]:
        query = {k: v for k, v in dict(pipeline=pipeline, status=status, partition=partition,
                                       limit=limit).items() if v}
        return self._call("list_runs", query=query)

    def run_of(self, run_id: str) -> Json:
        return self._call("get_run", run_id=run_id)

    def log_page(self, run_id: str, offset: int) -> tuple[str, int]:
        raw, headers = self._request("run_log", query={"offset": offset}, run_id=run_id)
        return raw.decode("utf-8", "replace"), int(headers["X-Andon-Next-Offset"])

    def log_stream(self, run_id: str, last_event_id: str) -> Iterator[dict[str, str]]:
        """The server-sent events of the run's log as dicts of their fields (``event`` defaults
        to ``message``), until the server ends the stream."""
        return self._sse(path_for("run_log_stream", run_id=run_id), last_event_id)

    def events(self, last_event_id: str, timeout: float = 60.0) -> Iterator[dict[str, str]]:
        """Every event committed after seq ``last_event_id`` ("" : from now), as the server-sent
        events of ``/api/v1/events/stream`` (``data``: the event's JSON; ``event``: ``message``,
        or ``heartbeat`` / ``reset`` for the stream's own messages). TimeoutError when nothing
        comes for ``timeout`` seconds."""
        return self._sse(path_for("events_stream"), last_event_id, timeout)

    def _sse(self, path: str, last_event_id: str, timeout: float = 60.0
             ) -> Iterator[dict[str, str]]:
        import urllib.error
        import urllib.request

        req = urllib.request.Request(self.url + path, headers={"Accept": "text/event-stream"})
        if last_event_id:
            req.add_header("Last-Event-ID", last_event_id)
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:  # heartbeats come every 15 s: a minute of silence means the server is gone
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                fields: dict[str, str] = {}
                for raw in resp:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if not line:
                        if "data" in fields:
                            yield {"event": "message", **fields}
                        fields = {}
                    elif not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
        except urllib.error.HTTPError as err:
            raise _api_error(err) from None

    def cords(self, everything: bool) -> list[Json]:
        return self._call("list_cords", query={"all": 1} if everything else None)

    def cord(self, cord_id: str) -> Json:
        return self._call("get_cord", cord_id=cord_id)

    def access_request(self, asset: str, reason: str, until: str | None, answers: Json,
                       contact: str) -> Json:
        body = {"asset": asset, "reason": reason, "until": until, "answers": answers,
                "contact": contact or None}
        return self._call("request_access", {k: v for k, v in body.items() if v is not None})

    def access_decide(self, request_id: str, approve: bool, text: str) -> Json:
        body = {"note": text} if approve else {"reason": text}
        return self._call("approve_access" if approve else "reject_access", body,
                          request_id=request_id)

    def access_requests(self, asset: str | None, status: str | None) -> list[Json]:
        wanted = dict(asset=asset, status=status)
        return self._call("list_access_requests",
                          query={k: v for k, v in wanted.items() if v is not None})

    def access_request_of(self, request_id: str) -> Json:
        return self._call("get_access_request", request_id=request_id)

    def subscribe(self, asset: str, until: str | None, as_name: str | None) -> Json:
        body = {k: v for k, v in dict(until=until, consumer=as_name).items() if v is not None}
        return self._call("subscribe", body, name=asset)

    def unsubscribe(self, asset: str, as_name: str | None) -> Json:
        body = {} if as_name is None else {"consumer": as_name}
        return self._call("unsubscribe", body, name=asset)

    def search(self, query: str, kind: str | None, owner: str | None, limit: int) -> Json:
        wanted = dict(q=query, kind=kind, owner=owner, limit=limit)
        return self._call("search", query={k: v for k, v in wanted.items() if v is not None})

    def catalog_declare(self, table: Json) -> Json:
        return self._call("declare_entry", table)

    def catalog_remove(self, kind: str, name: str) -> Json:
        return self._call("remove_entry", {}, kind=kind, name=name)

    def manual(self, kind: str | None, since: str | None) -> Json:
        wanted = dict(kind=kind, since=since)
        return self._call("list_manual", query={k: v for k, v in wanted.items() if v})

    def manual_entry(self, entry_id: str) -> Json:
        return self._call("get_manual_entry", entry_id=entry_id)

    def manual_resolve(self, entry_id: str, note: str, link: str, commit: str) -> Json:
        body = {"note": note, "link": link, "commit": commit}
        return self._call("resolve_manual_entry", body, entry_id=entry_id)

    def manual_review(self, days: int) -> Json:
        return self._call("manual_review", query={"days": days})

    def audit(self, since: str | None) -> Json:
        return self._call("audit", query={"since": since} if since else {})

    def models(self) -> Json:
        return self._call("list_models")

    def model(self, name: str) -> Json:
        return self._call("get_model", name=name)

    def model_promote(self, name: str, version: int, reason: str) -> Json:
        return self._call("promote_model", {"version": version, "reason": reason}, name=name)

    def model_rollback(self, name: str, reason: str) -> Json:
        return self._call("rollback_model", {"reason": reason}, name=name)

    def drift(self, asset: str, partition: str | None, since: str | None) -> Json:
        query = {k: v for k, v in (("partition", partition), ("since", since)) if v}
        return self._call("get_drift", query=query, asset=asset)

    # -- the transport ---------------------------------------------------------------------------

    def _call(self, op: str, body: Any = None, query: Query | None = None,
              **params: str) -> Any:
        """The answer to route ``op`` (``andon.web.routes``), JSON decoded (or text)."""
        raw, headers = self._request(op, body, query, **params)
        return json.loads(raw) if "json" in headers.get("content-type", "") else raw.decode()

    def _request(self, op: str, body: Any = None, query: Query | None = None,
                 **params: str) -> tuple[bytes, Any]:
        """The raw answer to operation ``op`` and its headers; an error answer raises."""
        import urllib.error
        import urllib.request
        from urllib.parse import urlencode

        method = BY_NAME[op].method
        url = self.url + path_for(op, **params) + ("" if query is None else "?" + urlencode(query))
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.read(), resp.headers
        except urllib.error.HTTPError as err:
            raise _api_error(err) from None


def _api_error(err: Any) -> AndonError:
    """An API error answer as the AndonError it describes (exit code 2)."""
    try:
        info = json.loads(err.read())
    except ValueError:
        info = {"message": f"HTTP {err.code}"}
    exc = AndonError(info.get("message", f"HTTP {err.code}"), where=info.get("where", ""),
                     hint=info.get("hint", ""))
    exc.exit_code = 2
    return exc
