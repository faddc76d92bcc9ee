"""What the store knows of agreed deletions: the latest notice of each deprecated object
(``deprecations``) and the tombstone of each file a sweep removed (``tombstones``), kept in step
with the lifecycle events inside the append transaction; and the facts a sweep plans from (the
versions of data sets with their locations, the reads of them). Functions over a connection;
the Store's reader is their door (``Store.read()``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from andon.events import Event
from andon.events.codec import format_time, from_dict
from andon.events.lifecycle import DataDeleted, ObjectDeleted, ObjectDeprecated
from andon.store.schema import (
    deprecations,
    events,
    partition_versions,
    partitions,
    reads,
    runs,
    tombstones,
)

PROJECTED = (ObjectDeprecated, DataDeleted, ObjectDeleted)


@dataclass(frozen=True, slots=True)
class Deprecation:
    """The latest notice of one deprecated object, as stored."""

    kind: str
    object: str
    delete_after: str
    reason: str
    replacement: str
    by: str
    owner: str
    assets: tuple[str, ...]
    noticed_at: str
    deleted_at: str | None
    deleted_by: str


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """One version of a partition with where andon recorded its data."""

    asset: str
    partition: str
    version: int
    at: str
    run_id: str
    location: str
    size_bytes: int


@dataclass(frozen=True, slots=True)
class Tombstone:
    asset: str
    partition: str
    version: int
    location: str
    size_bytes: int
    rule: str
    reason: str
    by: str
    at: str


def project_lifecycle(conn: Connection, event: Event, seq: int) -> None:
    """Keep the lifecycle tables in step with one new event."""
    if isinstance(event, ObjectDeprecated):
        key = (deprecations.c.kind == event.kind) & (deprecations.c.object == event.object)
        conn.execute(delete(deprecations).where(key))  # a new notice replaces the old
        conn.execute(insert(deprecations).values(
            kind=event.kind, object=event.object, delete_after=event.delete_after,
            reason=event.reason, replacement=event.replacement, by=event.by, owner=event.owner,
            assets=json.dumps(list(event.assets)), noticed_at=format_time(event.at), seq=seq))
    elif isinstance(event, DataDeleted):
        key = ((tombstones.c.asset == event.asset) & (tombstones.c.partition == event.partition)
               & (tombstones.c.version == event.version))
        if conn.execute(select(tombstones.c.seq).where(key)).first() is None:
            conn.execute(insert(tombstones).values(
                asset=event.asset, partition=event.partition, version=event.version,
                location=event.location, size_bytes=event.size_bytes, rule=event.rule,
                reason=event.reason, by=event.by, at=format_time(event.at), seq=seq))
    elif isinstance(event, ObjectDeleted):
        conn.execute(update(deprecations).where(
            (deprecations.c.kind == event.kind) & (deprecations.c.object == event.object)
        ).values(deleted_at=format_time(event.at), deleted_by=event.by, seq=seq))


def replay_lifecycle(conn: Connection) -> None:
    """Fill the lifecycle tables from the log, in order (migration 9)."""
    names = [cls.name for cls in PROJECTED]
    for row in conn.execute(select(events.c.seq, events.c.payload).where(
            events.c.type.in_(names)).order_by(events.c.seq)).all():
        project_lifecycle(conn, from_dict(json.loads(row.payload)), row.seq)


def deprecation_rows(conn: Connection) -> list[Deprecation]:
    """Every deprecated object, by kind and name."""
    t = deprecations
    return [Deprecation(r.kind, r.object, r.delete_after, r.reason, r.replacement, r.by,
                        r.owner, tuple(json.loads(r.assets)), r.noticed_at, r.deleted_at,
                        r.deleted_by)
            for r in conn.execute(select(t).order_by(t.c.kind, t.c.object))]


def tombstone_rows(conn: Connection, assets: Iterable[str] | None = None) -> list[Tombstone]:
    """The tombstones (of ``assets``), oldest first."""
    t = tombstones
    q = select(t).order_by(t.c.seq)
    if assets is not None:
        q = q.where(t.c.asset.in_(list(assets)))
    return [Tombstone(r.asset, r.partition, r.version, r.location, r.size_bytes, r.rule,
                      r.reason, r.by, r.at) for r in conn.execute(q)]


def readers(conn: Connection, assets: Iterable[str]) -> list[tuple[str, str, str]]:
    """(asset, pipeline, last read) of every pipeline whose runs read one of ``assets``."""
    q = select(reads.c.asset, reads.c.pipeline, reads.c.last_at).where(
        reads.c.asset.in_(list(assets))).order_by(reads.c.asset, reads.c.pipeline)
    return [(r.asset, r.pipeline, r.last_at) for r in conn.execute(q)]


def versions(conn: Connection, assets: Iterable[str]) -> list[StoredVersion]:
    """Every recorded version of the partitions of ``assets`` that has a location."""
    t = partition_versions
    q = select(t.c.asset, t.c.partition, t.c.version, t.c.at, t.c.run_id, t.c.location,
               t.c.size_bytes).where(t.c.asset.in_(list(assets)), t.c.location != "").order_by(
        t.c.asset, t.c.partition, t.c.version)
    return [StoredVersion(r.asset, r.partition, r.version, r.at, r.run_id, r.location,
                          r.size_bytes) for r in conn.execute(q)]


def current_versions(conn: Connection, assets: Iterable[str]) -> dict[tuple[str, str], int]:
    """(asset, partition) -> its current version."""
    q = select(partitions.c.asset, partitions.c.partition, partitions.c.version).where(
        partitions.c.asset.in_(list(assets)))
    return {(r.asset, r.partition): r.version for r in conn.execute(q)}


def partitions_read_since(conn: Connection, since: str) -> dict[tuple[str, str, int], str]:
    """(asset, partition, version) -> the last start of a run since ``since`` that read it."""
    out: dict[tuple[str, str, int], str] = {}
    q = select(runs.c.started_at, runs.c.inputs).where(runs.c.started_at >= since)
    for row in conn.execute(q):
        for ref in json.loads(row.inputs or "[]"):
            key = (ref["asset"], ref["partition"], int(ref["version"]))
            out[key] = max(out.get(key, ""), row.started_at)
    return out
