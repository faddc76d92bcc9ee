"""Agreed deletions as the CLI and the API ask for them: a deprecation checked and turned into
its event (for the caller to submit through the engine), the deprecated objects and their
states, the sweep's plan from the store's facts, and applying it.

Applying records first, then deletes: each file's tombstone (``lifecycle.data_deleted``) is
committed through the engine before the file is removed, so a sweep that stops midway leaves
every file either kept (no tombstone) or recorded as deleted; a recorded file still on disk is
removed by the next sweep (the plan's ``finish``). The reverse order would need a journal beside
the log to know which removed files the log does not know of yet; the log already is one."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from andon.events import Event
from andon.events.codec import format_time
from andon.events.lifecycle import (
    DataDeleted,
    DeletionBlocked,
    ObjectDeleted,
    ObjectDeprecated,
    deprecated_event_id,
)
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.model.graph import Graph
from andon.model.lifecycle import OBJECT_KINDS, state_at
from andon.model.limits import name_problem
from andon.model.views import Json, View
from andon.model.words import did_you_mean
from andon.project.retention import SweepPolicy
from andon.registry.declared import CONTROL
from andon.store import access as registered
from andon.store import lifecycle as facts
from andon.store.sql import Store
from andon.sweep import paths
from andon.sweep.plan import Item, SweepPlan, build
from andon.sweep.rules import deprecation_problem, reads_of

log = logging.getLogger(__name__)
MAX_REASON = 2000  # characters of a deprecation's reason
BATCH = 500  # tombstones recorded in one turn before their files are removed
Submit = Callable[[Sequence[Event]], list[bool]]


@dataclass(frozen=True, slots=True, eq=False)
class Standing(View):
    """A deprecated object and where it stands at a moment: ``state`` (deprecated, frozen,
    deleted), its date, reason, replacement, who deprecated it and when the notice went out."""

    kind: str
    object: str
    state: str
    delete_after: str
    reason: str
    replacement: str
    by: str
    owner: str
    noticed_at: str
    assets: tuple[str, ...]
    deleted_at: str | None


@dataclass(frozen=True, slots=True, eq=False)
class Applied(View):
    """What an applied sweep did: files removed (and recorded), bytes freed, objects deleted,
    the blocked ones (told to their owners) and the refused locations."""

    removed: int
    freed_bytes: int
    deleted: tuple[str, ...]
    blocked: tuple[Json, ...]
    refused: tuple[Json, ...]


def deprecation_json(event: ObjectDeprecated, recorded: bool) -> Json:
    """What ``andon deprecate`` and ``POST /api/v1/deprecations`` answer."""
    return {"kind": event.kind, "object": event.object, "delete_after": event.delete_after,
            "reason": event.reason, "replacement": event.replacement, "by": event.by,
            "readers": list(event.readers), "consumers": list(event.consumers),
            "id": event.id, "recorded": recorded}


class Lifecycle:
    """The agreed deletions of one project (``policy``: its ``[sweep]`` and retention)."""

    def __init__(self, graph: Graph, store: Store, project_dir: Path,
                 policy: SweepPolicy | None = None) -> None:
        self.graph, self.store, self.project_dir = graph, store, project_dir
        self.policy = policy or SweepPolicy()

    # -- deprecations ----------------------------------------------------------------------------

    def _kind_of(self, name: str, kind: str | None) -> str:
        is_asset, is_pipe = name in self.graph.assets, name in self.graph.pipelines
        if kind is not None and kind not in OBJECT_KINDS:
            raise BadRequest(f"{kind[:40]!r} is not a kind that can be deprecated", where="kind",
                             hint="dataset or pipeline")
        if kind == "dataset" and is_asset or kind == "pipeline" and is_pipe:
            return kind
        if kind is None and is_asset != is_pipe:
            return "dataset" if is_asset else "pipeline"
        if kind is None and is_asset:
            raise BadRequest(f"{name} is both a data set and a pipeline", where="kind",
                             hint="say which: --kind dataset or --kind pipeline")
        shown = CONTROL.sub("?", name[:128])
        known = list(self.graph.assets) + list(self.graph.pipelines)
        raise NotFound(f"no data set or pipeline {shown!r}",
                       hint=did_you_mean(shown, known, 3, 0.6)
                       + "`andon status` lists the pipelines, `andon search` the data sets")

    def deprecate_event(self, name: str, delete_after: str, reason: str, now: datetime,
                        replacement: str | None = None, kind: str | None = None,
                        by: str = "") -> ObjectDeprecated:
        """The event deprecating ``name`` (a data set or pipeline of the definitions), to be
        deleted after ``delete_after``. NotFound for an unknown name; BadRequest naming the
        field for a date in the past or with less than ``[sweep] notice_days`` of notice, an
        empty or over-long reason, a replacement (None: none) that is no name; Conflict when it is deleted
        already."""
        problem = name_problem("data set", name)
        if problem:
            raise BadRequest(problem, where="name", hint="give the name of a data set or pipeline")
        kind = self._kind_of(name, kind)
        reason = reason.strip()
        if not reason:
            raise BadRequest("a deprecation needs a reason", where="reason",
                             hint='say why, and what to use instead: --reason "..."')
        if len(reason) > MAX_REASON or CONTROL.search(reason.replace("\n", "")):
            raise BadRequest(f"at most {MAX_REASON} characters, no control characters",
                             where="reason", hint="link to the long story")
        if replacement is not None and name_problem("replacement", replacement):
            raise BadRequest(str(name_problem("replacement", replacement)), where="replacement",
                             hint="name the data set or pipeline that replaces it, or leave "
                                  "it out")
        refused = deprecation_problem(delete_after, now, self.policy.notice_days)
        if refused:
            raise BadRequest(refused[0], where="delete_after", hint=refused[1])
        for known in self.standings(now):
            if (known.kind, known.object) == (kind, name) and known.deleted_at is not None:
                raise Conflict(f"{kind} {name} was deleted on {known.deleted_at}",
                               hint="a deleted object cannot be deprecated again")
        if kind == "dataset":
            assets: tuple[str, ...] = (name,)
            owner = self.graph.assets[name].owner
        else:
            assets = tuple(self.graph.pipelines[name].outputs)
            owner = self.graph.pipelines[name].owner
        with self.store.read() as conn:
            seen = {pipe for _, pipe, _ in facts.readers(conn, assets)}
            outside = sorted({row["consumer"] for row in
                              registered.consumer_rows(conn, list(assets))})
        declared = {p for a in assets for p in self.graph.consumers.get(a, ())}
        return ObjectDeprecated(
            id=deprecated_event_id(kind, name, delete_after), at=now, kind=kind, object=name,
            delete_after=delete_after, reason=reason, replacement=replacement or "", by=by,
            owner=owner, assets=assets, readers=tuple(sorted(seen | declared - {name})),
            consumers=tuple(outside))

    def standings(self, now: datetime) -> list[Standing]:
        """Every deprecated object and its state at ``now``."""
        with self.store.read() as conn:
            rows = facts.deprecation_rows(conn)
        return [Standing(d.kind, d.object, state_at(d.delete_after, d.deleted_at is not None, now),
                         d.delete_after, d.reason, d.replacement, d.by, d.owner, d.noticed_at,
                         d.assets, d.deleted_at) for d in rows]

    def standing_of(self, name: str, now: datetime) -> Standing | None:
        """The standing of the object named ``name``, or of the deprecated object whose data
        ``name`` is (a data set's page shows its banner either way)."""
        found = [s for s in self.standings(now) if s.object == name or name in s.assets]
        return found[0] if found else None

    def line_notes(self, now: datetime) -> dict[str, list[str]]:
        """pipeline -> what the board's line says of deprecations: its own (or its outputs'),
        and the deprecated data sets it reads (a consumer's line)."""
        notes: dict[str, list[str]] = {}
        for s in self.standings(now):
            when = (f"deleted {s.deleted_at[:10]}" if s.deleted_at else
                    f"{s.state}, deleted after {s.delete_after}")
            own = {s.object} if s.kind == "pipeline" else {
                self.graph.producer.get(a, "") for a in s.assets} - {""}
            for pipe in sorted(own):
                notes.setdefault(pipe, []).append(f"{s.kind} {s.object} {when}")
            for pipe in sorted({p for a in s.assets for p in self.graph.consumers.get(a, ())}
                               - own):
                notes.setdefault(pipe, []).append(f"reads {', '.join(s.assets)}: {when}")
        return notes

    # -- the sweep -------------------------------------------------------------------------------

    def plan(self, now: datetime) -> SweepPlan:
        """What a sweep at ``now`` would do (nothing is changed)."""
        policy = self.policy
        with self.store.read() as conn:
            deps = facts.deprecation_rows(conn)
            wanted = sorted({a for d in deps if d.deleted_at is None for a in d.assets}
                            | set(policy.retention))
            stored = facts.versions(conn, wanted)
            reads = reads_of(facts.readers(conn, sorted({a for d in deps for a in d.assets})))
            ages = [r.max_age for r in policy.retention.values() if r.max_age is not None]
            last_read = (facts.partitions_read_since(conn, format_time(now - max(ages)))
                         if ages else {})
            stones = facts.tombstone_rows(conn)
        versions: dict[str, list[facts.StoredVersion]] = {}
        for v in stored:
            versions.setdefault(v.asset, []).append(v)
        refused: dict[str, str] = {}
        for v in stored:
            if v.location not in refused:
                try:
                    paths.target(v.location, self.project_dir, self.graph.data_roots)
                except paths.Refused as exc:
                    refused[v.location] = str(exc)
        live_locations = {v.location for v in stored}
        tomb_keys = {(t.asset, t.partition, t.version) for t in stones}
        unfinished = []
        for t in stones:
            # finish a removal the last sweep recorded but did not do; a location a version that
            # is not tombstoned still uses holds new data now, and stays
            kept_elsewhere = t.location in live_locations and any(
                v.location == t.location and (v.asset, v.partition, v.version) not in tomb_keys
                for v in versions.get(t.asset, ()))
            if kept_elsewhere:
                continue
            try:
                if paths.present(paths.target(t.location, self.project_dir,
                                              self.graph.data_roots)):
                    unfinished.append(facts.StoredVersion(t.asset, t.partition, t.version, t.at,
                                                          "", t.location, t.size_bytes))
            except paths.Refused:
                continue
        return build(format_time(now), policy, deps, versions, reads, last_read, tomb_keys,
                     refused, unfinished)

    def blocked_events(self, plan: SweepPlan, now: datetime) -> list[DeletionBlocked]:
        """One ``lifecycle.deletion_blocked`` per read after a notice (its owner is told once)."""
        return [DeletionBlocked(id=f"blocked:{b.kind}:{b.object}:{b.reader}:{b.read_at}", at=now,
                                kind=b.kind, object=b.object, asset=b.asset, reader=b.reader,
                                read_at=b.read_at, noticed_at=b.noticed_at, owner=b.owner)
                for b in plan.blocked if b.reader]

    @staticmethod
    def tombstone(item: Item, now: datetime, by: str) -> DataDeleted:
        return DataDeleted(id=f"deleted:{item.asset}:{item.partition}:{item.version}", at=now,
                           asset=item.asset, partition=item.partition, version=item.version,
                           location=item.location, size_bytes=item.size_bytes, rule=item.rule,
                           reason=item.reason, by=by)

    def remove(self, item: Item) -> bool:
        """Remove one recorded file (checked again: the disk may have changed since the plan);
        whether something was removed. A refused one is left and logged."""
        try:
            return paths.remove(paths.target(item.location, self.project_dir,
                                             self.graph.data_roots))
        except paths.Refused as exc:
            log.warning("sweep: %s left in place: %s", item.location, exc)
            return False

    def finished_events(self, plan: SweepPlan, now: datetime, by: str) -> list[ObjectDeleted]:
        return [ObjectDeleted(id=f"lifecycle-deleted:{f.kind}:{f.object}", at=now, kind=f.kind,
                              object=f.object, files=f.files, size_bytes=f.size_bytes,
                              reason=f.reason, by=by) for f in plan.finished]

    def apply(self, now: datetime, by: str, submit: Submit) -> Applied:
        """Apply the sweep at ``now``: tell the owners of blocked objects, then per batch record
        the tombstones through ``submit`` and remove their files, then finish what an earlier
        sweep left, then record the objects now wholly deleted."""
        plan = self.plan(now)
        blocked = self.blocked_events(plan, now)
        if blocked:
            submit(blocked)
        removed = 0
        items = list(plan.deletions)
        for start in range(0, len(items), BATCH):
            chunk = items[start:start + BATCH]
            submit([self.tombstone(i, now, by) for i in chunk])  # recorded first...
            removed += sum(self.remove(i) for i in chunk)  # ...then removed
        removed += sum(self.remove(i) for i in plan.finish)
        deleted = self.finished_events(plan, now, by)
        if deleted:
            submit(deleted)
        return Applied(removed, plan.freed_bytes, tuple(f"{e.kind} {e.object}" for e in deleted),
                       tuple(b.to_json() for b in plan.blocked),
                       tuple(r.to_json() for r in plan.refused))

