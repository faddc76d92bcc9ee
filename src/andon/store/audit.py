"""What the waste audit (``andon.audit``) reads of the store: a handful of grouped queries over
the read models (partitions, runs, reads, registered consumers, cords, promotions), each one
pass, so that the audit of a 1,000-pipeline, 90-day log stays within seconds on SQLite. Times
are the store's ISO text (``andon.events.codec.format_time``), compared as text."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from andon.model.status import RunStatus
from andon.store.schema import (
    catalog,
    consumers,
    cords,
    events,
    partition_versions,
    partitions,
    promotions,
    reads,
    runs,
)


@dataclass(frozen=True)
class AssetFacts:
    """One data set: its current partitions' count and bytes, when its newest partition was
    made (``made``) and its first (``first``), the last time a run read it (``read``, "" never)
    and by how many pipelines, and whether an external consumer is registered until ``today``
    or later."""

    asset: str
    partitions: int
    size_bytes: int
    first: str
    made: str
    read: str
    readers: int
    consumer: bool


@dataclass(frozen=True)
class RunFacts:
    """One run started in the window: its pipeline, pool, slots, start and end, start-up and
    work seconds, and status."""

    pipeline: str
    pool: str
    slots: int
    started_at: str
    ended_at: str
    startup_seconds: float | None
    work_seconds: float | None
    status: str
    reason: str  # why it was queued: new_data, backfill, manual, retry ...


def asset_facts(conn: Connection, today: str) -> list[AssetFacts]:
    """Every data set that has data, by name."""
    p = partitions
    made = {r.asset: r for r in conn.execute(
        select(p.c.asset, func.count().label("n"), func.sum(p.c.size_bytes).label("size"),
               func.min(p.c.at).label("first"), func.max(p.c.at).label("made"))
        .group_by(p.c.asset))}
    read = {r.asset: (r.last, r.n) for r in conn.execute(
        select(reads.c.asset, func.max(reads.c.last_at).label("last"),
               func.count().label("n")).group_by(reads.c.asset))}
    registered = set(conn.execute(select(consumers.c.asset).where(consumers.c.until >= today)
                                  .distinct()).scalars())
    return [AssetFacts(a, int(r.n), int(r.size or 0), r.first, r.made, read.get(a, ("", 0))[0],
                       read.get(a, ("", 0))[1], a in registered) for a, r in sorted(made.items())]


def kept_before(conn: Connection, before: str) -> dict[str, tuple[int, int]]:
    """Per data set, how many partitions (and bytes) were last made before ``before``: one
    grouped pass over the current partitions."""
    p = partitions
    return {r.asset: (int(r.n), int(r.size or 0)) for r in conn.execute(
        select(p.c.asset, func.count().label("n"), func.sum(p.c.size_bytes).label("size"))
        .where(p.c.at < before).group_by(p.c.asset))}


def last_runs(conn: Connection) -> dict[str, str]:
    """When each pipeline last started a run, by pipeline (none: not there)."""
    r = runs
    return {row.pipeline: row.last for row in conn.execute(
        select(r.c.pipeline, func.max(r.c.started_at).label("last"))
        .where(r.c.started_at.is_not(None)).group_by(r.c.pipeline))}


def runs_since(conn: Connection, since: str) -> list[RunFacts]:
    """Every run started at or after ``since``, by pipeline then start."""
    r = runs
    q = select(r.c.pipeline, r.c.pool, r.c.slots, r.c.started_at, r.c.ended_at,
               r.c.startup_seconds, r.c.work_seconds, r.c.status, r.c.reason).where(
        r.c.started_at >= since).order_by(r.c.pipeline, r.c.started_at)
    return [RunFacts(x.pipeline, x.pool, x.slots, x.started_at, x.ended_at or "",
                     x.startup_seconds, x.work_seconds, x.status, x.reason) for x in conn.execute(q)]


def duplicate_partitions(conn: Connection) -> list[tuple[str, str, str, int]]:
    """(fingerprint, asset, partition, bytes) of every current partition whose content
    fingerprint another data set's current partition has too, by fingerprint."""
    p = partitions
    shared = select(p.c.fingerprint).where(p.c.fingerprint != "").group_by(
        p.c.fingerprint).having(func.count(func.distinct(p.c.asset)) > 1).scalar_subquery()
    q = select(p.c.fingerprint, p.c.asset, p.c.partition, p.c.size_bytes).where(
        p.c.fingerprint.in_(shared)).order_by(p.c.fingerprint, p.c.asset, p.c.partition)
    return [(r.fingerprint, r.asset, r.partition, int(r.size_bytes)) for r in conn.execute(q)]


def alert_outcomes(conn: Connection, since: str) -> list[tuple[str, str, int, int]]:
    """(who pulled: a person, ``api`` or ``check:NAME``; data set; cords resolved; of them
    accepted as fine with no re-make, i.e. false alarms) of the cords pulled at or after
    ``since``."""
    c = cords
    false = func.sum(c.c.manual_fix)
    q = select(c.c.pulled_by, c.c.asset, func.count().label("n"), false.label("false")).where(
        c.c.pulled_at >= since, c.c.resolved_at.is_not(None)).group_by(c.c.pulled_by, c.c.asset)
    return [(r.pulled_by, r.asset, int(r.n), int(r.false or 0)) for r in conn.execute(q)]


def warning_outcomes(conn: Connection, since: str, settled: str
                     ) -> list[tuple[str, str, int, int]]:
    """(check, data set, failures judged, of them false) of the warning checks
    (``blocking=False``: they notify, never pull a cord) that failed at or after ``since`` and
    before ``settled`` (a younger failure is not judged yet: nobody had the time to act). A
    failure on version v of a partition is true when someone acted on it: the partition has a
    later version with other content (a re-make, a re-delivery; a fingerprint differing from
    v's, or unknown); false when v is still current, or every later version holds v's content
    (re-made, and nothing changed). One pass over the log's ``check.failed`` events of the
    window, then one over the versions of the data sets they name."""
    import json

    e, pv = events, partition_versions
    failed: list[tuple[str, str, str, int]] = []
    for row in conn.execute(select(e.c.payload).where(
            e.c.type == "check.failed", e.c.at >= since, e.c.at < settled)):
        body = json.loads(row.payload)
        if not body.get("blocking", True):
            failed.append((body["check"], body["asset"], body["partition"], int(body["version"])))
    if not failed:
        return []
    assets = sorted({a for _, a, _, _ in failed})
    prints: dict[tuple[str, str], dict[int, str]] = {}
    for start in range(0, len(assets), 500):  # bound the IN list
        for r in conn.execute(select(pv.c.asset, pv.c.partition, pv.c.version, pv.c.fingerprint)
                              .where(pv.c.asset.in_(assets[start:start + 500]))):
            prints.setdefault((r.asset, r.partition), {})[r.version] = r.fingerprint
    out: dict[tuple[str, str], list[int]] = {}
    for check, asset, key, version in failed:
        made = prints.get((asset, key), {})
        was = made.get(version, "")
        acted = any(v > version and (not fp or not was or fp != was) for v, fp in made.items())
        counts = out.setdefault((check, asset), [0, 0])
        counts[0] += 1
        counts[1] += not acted
    return [(check, asset, n, false) for (check, asset), (n, false) in sorted(out.items())]


def model_runs(conn: Connection, pipelines: list[str]) -> dict[str, list[tuple[str, str]]]:
    """(run id, end) of every successful run of ``pipelines`` (each one a version of the models
    it makes), oldest first, by pipeline."""
    r = runs
    out: dict[str, list[tuple[str, str]]] = {p: [] for p in pipelines}
    if not pipelines:
        return out
    q = select(r.c.pipeline, r.c.run_id, r.c.ended_at).where(
        r.c.pipeline.in_(pipelines), r.c.status == RunStatus.SUCCEEDED.value).order_by(
        r.c.pipeline, r.c.ended_at, r.c.run_id)
    for row in conn.execute(q):
        out[row.pipeline].append((row.run_id, row.ended_at or ""))
    return out


def promoted_since(conn: Connection, since: str) -> set[tuple[str, int]]:
    """(model, version) of every promotion at or after ``since``, and of the versions each of
    them replaced (a rollback target is still referenced)."""
    t = promotions
    out: set[tuple[str, int]] = set()
    for r in conn.execute(select(t.c.model, t.c.version, t.c.previous).where(t.c.at >= since)):
        out.add((r.model, r.version))
        if r.previous:
            out.add((r.model, r.previous))
    return out


def bytes_of_runs(conn: Connection, run_ids: list[str]) -> int:
    """The bytes of every partition version the runs ``run_ids`` wrote."""
    t = partition_versions
    total = 0
    for start in range(0, len(run_ids), 500):  # bound the IN list
        total += int(conn.execute(select(func.coalesce(func.sum(t.c.size_bytes), 0)).where(
            t.c.run_id.in_(run_ids[start:start + 500]))).scalar() or 0)
    return total


def deprecated_pipelines(conn: Connection) -> dict[str, str]:
    """The pipelines whose catalog entry says ``lifecycle = "deprecated"``, with the date the
    entry gives ("" none), by name."""
    c = catalog
    return {r.name: r.since for r in conn.execute(select(c.c.name, c.c.since).where(
        c.c.kind == "pipeline", c.c.lifecycle == "deprecated", c.c.shadowed == 0))}


def remakes(conn: Connection, since: str) -> dict[str, dict[str, bool]]:
    """Of every run that wrote a partition version at or after ``since``: whether all it wrote
    had the content (a non-empty fingerprint) of the version it replaced, by pipeline then run.
    A run that wrote a first version, or content with no fingerprint, found something new (as
    far as andon can tell)."""
    pv, before = partition_versions, partition_versions.alias("before")
    q = select(runs.c.pipeline, pv.c.run_id, pv.c.fingerprint,
               before.c.fingerprint.label("was")).join(
        runs, runs.c.run_id == pv.c.run_id).join(
        before, and_(before.c.asset == pv.c.asset, before.c.partition == pv.c.partition,
                     before.c.version == pv.c.version - 1), isouter=True).where(
        pv.c.at >= since, pv.c.run_id != "")
    out: dict[str, dict[str, bool]] = {}
    for r in conn.execute(q):
        same = bool(r.fingerprint) and r.fingerprint == r.was
        by_run = out.setdefault(r.pipeline, {})
        by_run[r.run_id] = by_run.get(r.run_id, True) and same
    return out


def first_event_at(conn: Connection) -> str:
    """When the log begins ("" when it is empty)."""
    return str(conn.execute(select(events.c.at).order_by(events.c.seq).limit(1)).scalar() or "")


def run_inputs(conn: Connection, since: str, pools: list[str]) -> list[tuple[str, str, list[
        tuple[str, str]]]]:
    """(pipeline, pool, [(data set, partition) read]) of every run started at or after ``since``
    in ``pools``."""
    import json

    r = runs
    if not pools:
        return []
    q = select(r.c.pipeline, r.c.pool, r.c.inputs).where(r.c.started_at >= since,
                                                         r.c.pool.in_(pools))
    return [(x.pipeline, x.pool, [(i["asset"], i["partition"]) for i in json.loads(x.inputs)])
            for x in conn.execute(q)]


def partition_sizes(conn: Connection, assets: list[str]) -> dict[tuple[str, str], int]:
    """The bytes of the current version of every partition of ``assets``."""
    p = partitions
    if not assets:
        return {}
    return {(x.asset, x.partition): int(x.size_bytes) for x in conn.execute(
        select(p.c.asset, p.c.partition, p.c.size_bytes).where(p.c.asset.in_(assets)))}


def drill_runs(conn: Connection, since: str, pipelines: list[str]) -> list[RunFacts]:
    """The successful runs of ``pipelines`` (restore drills) started at or after ``since``."""
    return [r for r in runs_since(conn, since) if r.pipeline in pipelines
            and r.status == RunStatus.SUCCEEDED.value] if pipelines else []
