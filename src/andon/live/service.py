"""The operations the CLI and the HTTP API share: validate a request and turn it into events,
and answer queries from the read models. No SQL here and no transport: callers submit the events
(to a running scheduler, or straight to the store) and render the answers."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from andon.cord import incidents, suspects
from andon.cord.files import FileStep
from andon.cord.views import JsonObject
from andon.events import (
    CordPulled,
    CordResolved,
    OutputRestored,
    OutputRestoreRequested,
    PartitionAvailable,
    RunCancelRequested,
    RunRequested,
)
from andon.events.codec import format_time, parse_time
from andon.events.ids import CLIENT_ID_CHARS, MAX_CLIENT_ID, client_event_id
from andon.executors.outputs import fingerprint, real_roots
from andon.live import offline
from andon.live.access import AccessDesk
from andon.live.catalog import Catalog
from andon.live.drift import Drift
from andon.live.lifecycle import Lifecycle
from andon.live.manual import Manual
from andon.live.models import Models
from andon.manual.rules import Rule
from andon.model.dispatch import DEFAULT_POLICY
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.model.graph import Graph
from andon.model.partitions import AfterLastPartition, PartitionKeyError, Partitions
from andon.model.status import ACTIVE_STATUSES, RunStatus
from andon.model.tokens import ROLES, digest, is_token_id, new_token, token_id
from andon.model.views import Json
from andon.model.words import did_you_mean
from andon.planner.views import FirstPlan, PlanView
from andon.project.settings import default
from andon.store.sql import Store
from andon.store.views import (
    NewToken,
    PipelineStatus,
    Problems,
    RunFailure,
    RunView,
    SourceStatus,
    StatusView,
    TokenView,
    Workers,
)

MAX_TOKEN_NAME = 100
MAX_PROBLEMS_LISTED = 20  # inconsistencies of the log shown by health and plan (all are counted)
LOG_PAGE: int = default("log_page_bytes")  # the most bytes of a log one read answers


class Service:
    """Validation and queries over one project's graph and store."""

    def __init__(self, graph: Graph, store: Store, project_dir: Path,
                 max_backfill: int = default("max_backfill"),
                 access_max_days: int = default("access_max_days"),
                 rules: tuple[Rule, ...] = ()) -> None:
        self.graph = graph
        self.max_backfill = max_backfill
        self.store = store
        self.project_dir = project_dir
        # set by a running scheduler: its latest forecast, as JSON, seen at a given time
        self.live_plan: Callable[[datetime, bool], PlanView] | None = None
        # set by a running scheduler: slots its runs hold now, and its executor's health
        self.live_workers: Callable[[], tuple[int, Json]] | None = None
        # set by a running scheduler: what its replay of the log found inconsistent (as JSON)
        self.live_problems: Callable[[], list[Json]] | None = None
        # set by a running scheduler: record a restore request, move the output on its thread
        # and answer the OutputRestored (or raise why not)
        self.live_restore: Callable[[OutputRestoreRequested], OutputRestored] | None = None
        # one restore at a time: two requests for the same output must not both start moving it
        self._moving = threading.Lock()
        self.catalog = Catalog(graph, project_dir, store)  # the registry, its search and pages
        # access requests and registered consumers, of the catalog's data sets
        self.access = AccessDesk(graph, store, self.catalog.datasets, access_max_days)
        self.manual = Manual(graph, store, rules)  # the operations manual (``[manual] rules``)
        self.models = Models(self.catalog, store)  # models' versions, serving, promotions
        self.drift = Drift(graph, store, project_dir)  # drift of profiled data sets
        # agreed deletions and the sweep (its policy is the project's: set by who loaded it)
        self.lifecycle = Lifecycle(graph, store, project_dir)

    # -- requests that become events -----------------------------------------------------------

    def _key(self, scheme_owner: str, key: str, kind: str) -> str:
        scheme = (self.graph.assets[scheme_owner].partitions if kind == "asset"
                  else self.graph.pipelines[scheme_owner].partitions)
        try:
            return scheme.validate(key)
        except AfterLastPartition as exc:
            raise BadRequest(f"{kind} {scheme_owner!r}: {exc} (the project ends on "
                             f"{str(scheme.last_key)[:10]})",
                             hint=f"raise [project] end in andon.toml to {key[:10]} or later to "
                                  "take partitions after it") from None
        except PartitionKeyError as exc:
            raise BadRequest(f"{kind} {scheme_owner!r}: {exc}",
                             hint=f"partition keys of {scheme_owner!r} look like "
                                  f"{scheme.example!r}") from None

    def _pipeline(self, name: str) -> None:
        if name not in self.graph.pipelines:
            raise NotFound(f"no pipeline named {name!r}",
                           hint="known pipelines: " + ", ".join(sorted(self.graph.pipelines)))

    def notify(self, asset: str, partition: str, now: datetime, origin: str = "notify",
               event_id: str | None = None) -> PartitionAvailable:
        """The event announcing a source partition. Its id is derived from the asset, the key and
        the content fingerprint (when the file is there), so announcing the same data twice is
        recorded once; pass ``event_id`` to choose the id yourself: it is checked (BadRequest
        naming field ``id``) and stored as ``client:EVENT_ID``, apart from every id andon derives."""
        chosen = None if event_id is None else _client_id(event_id)
        found = self.graph.assets.get(asset)
        if found is None:
            raise NotFound(f"no data set named {asset!r}",
                           hint="sources: " + ", ".join(sorted(
                               a.name for a in self.graph.assets.values() if a.source)))
        if not found.source:
            raise Conflict(f"{asset!r} is produced by pipeline {self.graph.producer[asset]!r}, "
                           "not announced from outside",
                           hint=f"re-make it with `andon run {self.graph.producer[asset]} "
                                f"--partition {partition}`")
        key = self._key(asset, partition, "asset")
        location = found.location_of(key)
        # a symlink out of the project's roots, a FIFO, a device or a socket: refused (422 /
        # exit 2) with the reason, and never opened
        size, digest = fingerprint(self.project_dir / location,
                                   real_roots(self.project_dir, self.graph.data_roots))
        if chosen is None:
            basis = f"{asset}\0{key}\0{digest or 'no-file'}"
            chosen = "notify:" + hashlib.sha256(basis.encode()).hexdigest()[:32]
        return PartitionAvailable(id=chosen, at=now, asset=asset, partition=key, origin=origin,
                                  location=location, size_bytes=size, fingerprint=digest)

    def run_request(self, pipeline: str, partition: str, now: datetime, reason: str = "manual",
                    by: str = "") -> RunRequested:
        self._pipeline(pipeline)
        key = self._key(pipeline, partition, "pipeline")
        return RunRequested(at=now, pipeline=pipeline, partition=key, reason=reason,
                            requested_by=by)

    def backfill(self, pipeline: str, first: str, last: str, now: datetime,
                 by: str = "") -> list[RunRequested]:
        self._pipeline(pipeline)
        scheme = self.graph.pipelines[pipeline].partitions
        if scheme.last_key is not None and _past_end(scheme, last):
            # refused, not clipped: a range that silently shrinks hides a wrong end or a typo
            raise BadRequest(f"backfill range {first}..{last} goes past the last partition "
                             f"{scheme.last_key} of pipeline {pipeline!r} (the project ends on "
                             f"{scheme.last_key[:10]})",
                             hint=f"end the range at {scheme.last_key} (--to {scheme.last_key}), "
                                  "or raise [project] end in andon.toml")
        a, b = self._key(pipeline, first, "pipeline"), self._key(pipeline, last, "pipeline")
        if scheme.begin(a) > scheme.begin(b):
            raise BadRequest(f"backfill range {first}..{last} is empty",
                             hint="give --from before --to")
        # counted from the scheme before any key is made: 0001-01-01..9999-12-31 costs nothing
        count = (scheme.begin(b) - scheme.begin(a)) // scheme.step + 1 if scheme.is_time else 1
        if count > self.max_backfill:
            raise BadRequest(f"backfill of {count} partitions is larger than "
                             f"{self.max_backfill}", hint="split it into smaller ranges, or "
                                                          "raise the max_backfill setting")
        # shifted from the first key, never past the last: no date beyond it is computed
        keys = [scheme.shift(a, n) for n in range(count)] if scheme.is_time else [a]
        return [RunRequested(at=now, pipeline=pipeline, partition=k, reason="backfill",
                             requested_by=by) for k in keys]

    def cancel(self, run_id: str, now: datetime, by: str = "", reason: str = "") -> RunCancelRequested:
        run = self.run(run_id)
        if run.status not in ACTIVE_STATUSES:
            raise Conflict(f"run {run_id} has already ended ({run.status.value})",
                           hint="only queued or running runs can be cancelled")
        return RunCancelRequested(at=now, run_id=run_id, requested_by=by, reason=reason)

    # -- the andon cord --------------------------------------------------------------------------

    def cord_pull(self, asset: str, partition: str, reason: str, now: datetime,
                  by: str = "") -> CordPulled:
        """The event pulling the andon cord on an existing partition: refused for an unknown asset
        or partition, or one already under an open cord."""
        if asset not in self.graph.assets:
            raise NotFound(f"no data set named {asset!r}",
                           hint=did_you_mean(asset, self.graph.assets) + "data sets: "
                           + ", ".join(sorted(self.graph.assets)))
        key = self._key(asset, partition, "asset")
        return incidents.pull_event(self.store, asset, key, reason, now, by)

    def cord_resolve(self, cord_id: str, note: str, now: datetime, by: str = "",
                     manual_fix: bool = False) -> CordResolved:
        """The event resolving a pulled cord: andon re-makes the partition (or, with
        ``manual_fix``, accepts it as fixed) and then everything the cord affected."""
        return incidents.resolve_event(self.store, cord_id, note, now, by, manual_fix)

    def output_restore(self, cord_id: str, asset: str, partition: str, version: int | None,
                       now: datetime, by: str = "") -> OutputRestored:
        """Move a quarantined output of cord ``cord_id`` back to its location and return the
        event recording it, for the caller to submit. ``version`` None: the newest quarantined
        version of ``asset`` ``partition``. NotFound for an unknown cord or an output it did not
        make suspect; Conflict (with a hint) when the output was kept, deleted or restored
        already, or its location holds data again (then nothing moves).

        The request (``output.restore_requested``) is recorded and decided by the engine, and
        the cord's file step moves the output: the running scheduler's (``live_restore``, on
        its thread), else an offline turn's (``andon.live.offline.restore``)."""
        if version is not None and version < 1:
            raise BadRequest("field 'version' must be a version number (1 or more)",
                             where="version", hint="`andon cord show CORD_ID` lists the "
                                                   "versions of its suspect outputs")
        with self._moving:
            request = suspects.restore_request(self.store, cord_id, asset, partition, version,
                                               now, by)
            if self.live_restore is not None:
                return self.live_restore(request)
            return offline.restore(self.graph, self.store, request, now,
                                   FileStep(self.project_dir))

    def cords(self, everything: bool = False, *, open_first: bool = False,
              limit: int | None = None, offset: int = 0) -> list[JsonObject]:
        """Open cords (all with ``everything``), newest first, each with its incident timeline
        (``andon.cord.views.Incident``, as JSON); with ``open_first`` the open ones before the
        resolved; ``limit`` of them from ``offset``."""
        return [c.to_json() for c in incidents.cords(self.store, everything,
                                                     open_first=open_first, limit=limit,
                                                     offset=offset)]

    def cord(self, cord_id: str) -> JsonObject:
        """One cord: its incident timeline, what it halts and its suspect outputs
        (``andon.cord.views.CordDetail``, as JSON)."""
        return incidents.cord(self.store, cord_id).to_json()

    # -- API tokens (kept in the store's token table, not in the event log) ----------------------

    def tokens(self) -> list[TokenView]:
        """Every API token, oldest first. Never a token or its SHA-256."""
        return self.store.tokens()

    def token_create(self, role: str, name: str, now: datetime) -> NewToken:
        """Make an API token of ``role`` labelled ``name`` (who the events say acted). Only its
        SHA-256 is stored; the answer is the token's listing and the token itself, for the
        caller to show once and never log."""
        if role not in ROLES:
            raise BadRequest(f"field 'role' must be one of {', '.join(ROLES)}", where="role",
                             hint="viewer reads, operator changes state, admin manages tokens")
        if len(name) > MAX_TOKEN_NAME:
            raise BadRequest(f"field 'name' must be at most {MAX_TOKEN_NAME} characters",
                             where="name", hint="give a short label, e.g. the client's name")
        if not name.isprintable():
            raise BadRequest("field 'name' must not hold control characters (line breaks, tabs)",
                             where="name", hint="give a one-line label")
        value = new_token()
        sha256 = digest(value)
        self.store.add_token(sha256, role, name, now)
        return NewToken(value, TokenView(token_id(sha256), name, role, format_time(now), None))

    def token_revoke(self, ident: str, now: datetime) -> TokenView:
        """Revoke the token with id ``ident`` (``andon.model.tokens.token_id``): it fails on its very
        next request (every request looks its token up). Answers the token's listing."""
        found = [t for t in self.store.tokens() if t.id == ident] if is_token_id(ident) else []
        if not found:
            raise NotFound(f"no token with id {ident!r}",
                           hint="a token's id is the 12 hex digits `andon token list` shows")
        if not self.store.revoke_token_id(ident, now):
            raise Conflict(f"token {ident} is already revoked",
                           hint="nothing to do; `andon token list` shows every token")
        return replace(found[0], revoked_at=format_time(now))

    # -- queries --------------------------------------------------------------------------------

    def run(self, run_id: str) -> RunView:
        row = self.store.run(run_id)
        if row is None:
            raise NotFound(f"no run with id {run_id!r}", hint="list runs with `andon runs`")
        return self._hinted([row])[0]

    def runs(self, pipeline: str | None = None, status: str | None = None,
             partition: str | None = None, limit: int = 50, offset: int = 0) -> list[RunView]:
        return self._hinted(self.store.runs(pipeline, status, partition, limit, offset))

    def _hinted(self, rows: list[RunView]) -> list[RunView]:
        """``rows`` with the manual's hint on each failed run it knows a hint for."""
        hints = self.manual.hints(r.run_id for r in rows if r.status is RunStatus.FAILED)
        return [replace(r, hint=hints[r.run_id].to_json()) if r.run_id in hints else r
                for r in rows]

    def log_text(self, run_id: str, offset: int = 0, limit: int = LOG_PAGE) -> str:
        """At most ``limit`` bytes of the run's captured output from byte ``offset`` (one page:
        never the whole file); empty before the run starts. ``log_page`` also says where the
        next page starts."""
        return self.log_page(run_id, offset, limit)[0]

    def log_page(self, run_id: str, offset: int, limit: int = LOG_PAGE) -> tuple[str, int]:
        """One page of the run's output: up to ``limit`` bytes from byte ``offset`` (past the
        end: empty), and the offset of the next page. A page that stops short of the end stops
        before a character it would cut, so pages join into the log exactly."""
        _run, path = self.log_file(run_id)
        data = self.log_chunk(path, offset, limit, whole=False)
        if len(data) == limit:  # the log may go on: leave a cut character for the next page
            data = data[:_whole_utf8(data)] or data
        return data.decode("utf-8", "replace"), offset + len(data)

    def log_file(self, run_id: str) -> tuple[RunView, Path | None]:
        """The run and the file its output is captured in (None until it was launched)."""
        run = self.run(run_id)
        return run, Path(run.log_path) if run.log_path else None

    @staticmethod
    def log_chunk(path: Path | None, offset: int, limit: int, whole: bool = True) -> bytes:
        """Up to ``limit`` bytes of a log from byte ``offset`` (-1: all the rest; nothing while
        the file does not exist); with ``whole``, a character cut off at the end is left for
        the next chunk."""
        if path is None:
            return b""
        try:
            with path.open("rb") as fh:
                fh.seek(offset)
                data = fh.read(limit)
        except FileNotFoundError:
            return b""
        return data[:_whole_utf8(data)] if whole else data

    def log_tail(self, run_id: str, limit: int) -> tuple[str, int, bool]:
        """The last ``limit`` bytes of the run's output (the run page), the byte offset it ends
        at (where following the log goes on) and whether earlier output was left out."""
        run, path = self.log_file(run_id)
        try:
            size = path.stat().st_size if path is not None else 0
        except FileNotFoundError:
            size = 0
        start = max(size - limit, 0)
        data = self.log_chunk(path, start, size - start, run.status in ACTIVE_STATUSES)
        skip = 0
        while start and skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:
            skip += 1  # the tail began inside a character
        return data[skip:].decode("utf-8", "replace"), start + len(data), start > 0

    def workers(self) -> Workers:
        """The executor's capacity for the health strip: slots busy (held by running runs) out
        of the pools' capacities, and the executor's health. From the running scheduler's
        memory when there is one (no query); else from the runs table, with no executor."""
        total = sum(pool.capacity for pool in self.graph.pools.values())
        if self.live_workers is not None:
            busy, executor = self.live_workers()
            return Workers(busy, total, executor)
        running = self.store.runs(status=RunStatus.RUNNING.value, limit=10 * total + 100)
        return Workers(sum(r.slots for r in running), total, None)

    def problems(self, limit: int = MAX_PROBLEMS_LISTED) -> Problems:
        """What the running scheduler found inconsistent in the log (events that did not fit
        the state before them; ``andon.engine.state.Problem``): how many, and the first
        ``limit`` of them. None found, or no scheduler running: a count of 0."""
        found = self.live_problems() if self.live_problems is not None else []
        return Problems(len(found), found[:limit])

    def status(self) -> StatusView:
        """Per pipeline, how many partitions are in each state; per source, what arrived; the
        open andon cords and, for each halted partition, which cord halts it and why."""
        halted = incidents.halted(self.store)
        halted_per = Counter(h.pipeline for h in halted)
        latest: dict[str, Counter[RunStatus]] = {p: Counter() for p in self.graph.pipelines}
        counts, failures = self.store.latest_run_summary()
        for pipeline, run_status, n in counts:
            if pipeline in latest:
                latest[pipeline][run_status] += n
        parts = self.store.partition_summary()
        pipelines = []
        for name in self.graph.order:
            pipe = self.graph.pipelines[name]
            counts_ = latest[name]
            state = "halted" if halted_per[name] else "failed" if counts_[RunStatus.FAILED] else \
                "running" if counts_[RunStatus.RUNNING] else \
                "queued" if counts_[RunStatus.QUEUED] else \
                "ok" if counts_[RunStatus.SUCCEEDED] else "waiting"
            no_failures: list[RunFailure] = []
            pipelines.append(PipelineStatus(
                name, state, pipe.pool, {s: counts_[s] for s in _STATUS_COLUMNS},
                # one run writes all of a pipeline's outputs, so they have the same partitions
                max((parts.get(o, (0, ""))[0] for o in pipe.outputs), default=0),
                failures.get(name, no_failures)[:5], pipe.owner, halted_per[name]))
        sources = [SourceStatus(a.name, parts.get(a.name, (0, ""))[0],
                                parts[a.name][1] if a.name in parts else None, a.owner)
                   for a in sorted(self.graph.assets.values(), key=lambda a: a.name) if a.source]
        return StatusView(pipelines, sources, self.store.run_counts(), self.store.count_events(),
                          [c.to_json() for c in incidents.cords(self.store)],
                          [h.to_json() for h in halted])

    def plan(self, now: datetime, policy: str = DEFAULT_POLICY, detail: bool = True) -> PlanView:
        """Every upcoming deliverable: predicted start and finish, due time, slack, at risk and
        why, and ``problems``: the first inconsistencies the replay of the log found; with
        ``detail`` also its ``critical_path`` and its ``first_plan`` (the plan as
        first made: predicted start and finish then, and when; None when none was recorded).
        From the running scheduler when there is one; else the log is replayed (and ``policy``
        ranks the work)."""
        if self.live_plan is not None:
            plan = replace(self.live_plan(now, detail), problems=tuple(self.problems().first))
        else:
            from andon.engine.core import replay
            from andon.planner.live import plan_from_log

            plan = plan_from_log(self.graph, self.store.iter_events(), policy, now, replay,
                                 detail)
            plan = replace(plan, problems=plan.problems[:MAX_PROBLEMS_LISTED])
        if not detail or not plan.deliverables:
            return plan
        first = {(r.pipeline, r.partition): FirstPlan(r.predicted_start, r.predicted_finish,
                                                      r.planned_at)
                 for r in self.store.first_plans(min(parse_time(d.due)
                                                     for d in plan.deliverables))}
        return replace(plan, deliverables=tuple(
            replace(d, first_plan=first.get((d.pipeline, d.partition)))
            for d in plan.deliverables))


# a pipeline's partitions in the status, by the status of their newest run
_STATUS_COLUMNS = (RunStatus.SUCCEEDED, RunStatus.RUNNING, RunStatus.QUEUED, RunStatus.FAILED,
                   RunStatus.CANCELLED)


def _client_id(chosen: str) -> str:
    try:
        return client_event_id(chosen)
    except ValueError as exc:
        raise BadRequest(f"field 'id' {exc}", where="id",
                         hint=f"an id is 1 to {MAX_CLIENT_ID} characters of {CLIENT_ID_CHARS} "
                              "(leave it out to derive one from the data)") from None


def _past_end(scheme: Partitions, key: str) -> bool:
    """Whether ``key`` is after the scheme's last partition (False for a malformed key, which
    ``Service._key`` reports)."""
    try:
        return scheme.after_end(key)
    except PartitionKeyError:
        return False


def _whole_utf8(data: bytes) -> int:
    """The length of ``data`` without a UTF-8 character cut off at its end."""
    for back in range(1, min(4, len(data)) + 1):
        byte = data[-back]
        if byte & 0xC0 != 0x80:  # the first byte of the last character
            need = 2 if byte >= 0xC0 else 1
            need = 3 if byte >= 0xE0 else need
            need = 4 if byte >= 0xF0 else need
            return len(data) - back if need > back else len(data)
    return len(data)
