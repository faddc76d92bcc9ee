"""What the store knows of the catalog's relations: which pipelines' runs read each data set (the
``reads`` read model, kept in step with ``run.started`` inside the append transaction), when a
data set first had data, and the versions of a model (the successful runs of the pipeline that
makes it, from the ``runs`` read model). Functions over a connection; the Store's reader is
their door (``Store.read()``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, func, insert, select, update

from andon.engine.runs import run_event_id
from andon.events import RunStarted
from andon.events.codec import format_time, from_dict
from andon.model.status import RunStatus
from andon.model.views import Json, View
from andon.store.prepared import Prepared
from andon.store.schema import events, partition_versions, partitions, reads, runs

_READ_AGAIN = Prepared(update(reads).where(
    reads.c.asset == bindparam("b_asset"), reads.c.pipeline == bindparam("b_pipeline")).values(
    runs=reads.c.runs + 1, last_at=bindparam("b_at"), last_partition=bindparam("b_key"),
    last_run_id=bindparam("b_run_id")))
_FIRST_READ = Prepared(insert(reads))


@dataclass(frozen=True, slots=True, eq=False)
class ObservedRead(View):
    """A pipeline whose runs read a data set: how many runs, when the last one started, the
    newest partition it read and the run."""

    pipeline: str
    runs: int
    last_at: str
    last_partition: str
    last_run_id: str


@dataclass(frozen=True, slots=True, eq=False)
class ModelVersion(View):
    """A version of a model: the ``number``-th successful run of the pipeline that makes it
    (1 the oldest), its partition, the run, when it ended, its outputs' fingerprints (data
    set -> fingerprint), the partitions it was trained on (``inputs``: ``{asset, partition,
    version}``) and the ``metrics`` and ``params`` the run logged."""

    number: int
    partition: str
    run_id: str
    at: str | None
    outputs: Json
    inputs: list[Json]
    metrics: dict[str, float]
    params: dict[str, str]




def project_reads(conn: Connection, event: RunStarted) -> None:
    """Count the run ``event`` started as a read of each data set among its inputs (once per data
    set, with the newest partition of it the run reads)."""
    newest: dict[str, str] = {}
    for ref in event.inputs:
        newest[ref.asset] = max(newest.get(ref.asset, ref.partition), ref.partition)
    at = format_time(event.at)
    for asset, key in newest.items():
        if not _READ_AGAIN.run(conn, dict(b_asset=asset, b_pipeline=event.pipeline, b_at=at,
                                          b_key=key, b_run_id=event.run_id)):
            _FIRST_READ.run(conn, dict(asset=asset, pipeline=event.pipeline, runs=1, last_at=at,
                                       last_partition=key, last_run_id=event.run_id))


def replay_reads(conn: Connection, batch: int = 5000) -> None:
    """Fill ``reads`` from every ``run.started`` event of the log, in order (migration 6)."""
    after = 0
    while True:
        rows = conn.execute(select(events.c.seq, events.c.payload).where(
            events.c.type == RunStarted.name, events.c.seq > after).order_by(events.c.seq)
            .limit(batch)).all()
        for row in rows:
            event = from_dict(json.loads(row.payload))
            assert isinstance(event, RunStarted)
            project_reads(conn, event)
        if len(rows) < batch:
            return
        after = rows[-1].seq


def observed_reads(conn: Connection, asset: str) -> list[ObservedRead]:
    """The pipelines whose runs read ``asset``, by name."""
    q = select(reads.c.pipeline, reads.c.runs, reads.c.last_at, reads.c.last_partition,
               reads.c.last_run_id).where(reads.c.asset == asset).order_by(reads.c.pipeline)
    return [ObservedRead(**r._mapping) for r in conn.execute(q)]


def first_data_at(conn: Connection, asset: str) -> str | None:
    """When ``asset`` first had data (its oldest partition version), or None."""
    t = partition_versions
    value = conn.execute(select(func.min(t.c.at)).where(t.c.asset == asset)).scalar()
    return None if value is None else str(value)


def model_versions(conn: Connection, pipeline: str, limit: int, number: int | None = None
                   ) -> tuple[int, list[ModelVersion]]:
    """How many successful runs ``pipeline`` has, and the newest ``limit`` of them as versions,
    newest first; with ``number``, only that version (none when there is no such one)."""
    ok = (runs.c.pipeline == pipeline, runs.c.status == RunStatus.SUCCEEDED.value)
    total = int(conn.execute(select(func.count()).select_from(runs).where(*ok)).scalar() or 0)
    skip = 0
    if number is not None:
        if not 1 <= number <= total:
            return total, []
        skip, limit = total - number, 1
    rows = conn.execute(select(runs.c.partition, runs.c.run_id, runs.c.ended_at, runs.c.outputs,
                               runs.c.inputs)
                        .where(*ok).order_by(runs.c.ended_at.desc(), runs.c.seq.desc())
                        .offset(skip).limit(limit)).all()
    logged = _logged(conn, [r.run_id for r in rows])
    return total, [ModelVersion(total - skip - i, r.partition, r.run_id, r.ended_at,
                                {o["asset"]: o.get("fingerprint", "")
                                 for o in json.loads(r.outputs or "[]")},
                                json.loads(r.inputs or "[]"),
                                *logged.get(r.run_id, ({}, {})))
                   for i, r in enumerate(rows)]


def _logged(conn: Connection, run_ids: list[str]) -> dict[str, tuple[dict[str, float],
                                                                       dict[str, str]]]:
    """The metrics and parameters each run logged, from its ``run.succeeded`` event (id
    ``ended:RUN_ID``, ``andon.engine.runs.run_event_id``): the log is their one record."""
    if not run_ids:
        return {}
    ids = {run_event_id("ended", r): r for r in run_ids}
    found = {}
    for row in conn.execute(select(events.c.id, events.c.payload).where(
            events.c.id.in_(list(ids)))):
        data = json.loads(row.payload)
        found[ids[row.id]] = (data.get("metrics") or {}, data.get("params") or {})
    return found


def newest_partition(conn: Connection, asset: str) -> tuple[str | None, str | None]:
    """The newest partition of ``asset`` made (by key) and when its current version was made;
    (None, None) before any."""
    t = partitions
    row = conn.execute(select(t.c.partition, t.c.at).where(t.c.asset == asset)
                       .order_by(t.c.partition.desc()).limit(1)).first()
    return (None, None) if row is None else (row.partition, row.at)
