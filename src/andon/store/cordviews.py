"""Keep the andon cord read models (``cords``, ``halts``, ``cord_outputs``) in step with the log,
inside the append transaction; and answer the queries on them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, delete, insert, select, update

from andon.events import (
    CordHalted,
    CordPulled,
    CordRecovered,
    CordReleased,
    CordRemakeFailed,
    CordResolved,
    Event,
    OutputDeleted,
    OutputQuarantined,
    OutputRestored,
    OutputSuspect,
    format_time,
)
from andon.store.schema import cord_outputs, cords, halts, partition_versions, partitions


def _cord(conn: Connection, cord_id: str) -> Any:
    return conn.execute(select(cords).where(cords.c.cord_id == cord_id)).first()


def _set(conn: Connection, cord_id: str, **values: Any) -> None:
    conn.execute(update(cords).where(cords.c.cord_id == cord_id).values(**values))


def _output(conn: Connection, event: OutputQuarantined | OutputDeleted | OutputRestored,
            state: str, quarantine_path: str) -> None:
    t = cord_outputs
    conn.execute(update(t).where(t.c.asset == event.asset, t.c.partition == event.partition,
                                 t.c.version == event.version)
                 .values(state=state, quarantine_path=quarantine_path, at=format_time(event.at)))


def _accept_as_fixed(conn: Connection, event: CordResolved, row: Any) -> None:
    """The same new version the engine gives a partition accepted as fixed by hand."""
    current = conn.execute(select(partitions).where(
        partitions.c.asset == row.asset, partitions.c.partition == row.partition)).first()
    values: dict[str, Any] = dict(
        version=(current.version + 1) if current else 1, at=format_time(event.at), run_id="",
        origin="manual_fix", location=current.location if current else "",
        size_bytes=current.size_bytes if current else 0, rows=current.rows if current else None,
        fingerprint=current.fingerprint if current else "")
    conn.execute(insert(partition_versions).values(asset=row.asset, partition=row.partition,
                                                   **values))
    if current is None:
        conn.execute(insert(partitions).values(asset=row.asset, partition=row.partition, **values))
    else:
        conn.execute(update(partitions).where(
            partitions.c.asset == row.asset, partitions.c.partition == row.partition)
            .values(**values))


def project_cord(conn: Connection, event: Event, seq: int) -> None:
    """Update the cord read models for one newly stored cord or output event."""
    if isinstance(event, CordPulled):
        there = select(cords.c.cord_id).where(
            (cords.c.cord_id == event.cord_id) | (
                (cords.c.asset == event.asset) & (cords.c.partition == event.partition)
                & cords.c.status.in_(("pulled", "resolving"))))
        if conn.execute(there).first() is not None:
            return  # the same cord again, or one already open there: the engine ignores it too
        pv = partition_versions
        q = select(pv.c.version, pv.c.at).where(pv.c.asset == event.asset,
                                                 pv.c.partition == event.partition)
        q = q.where(pv.c.version == event.version) if event.version else \
            q.order_by(pv.c.version.desc()).limit(1)
        made = conn.execute(q).first()
        conn.execute(insert(cords).values(
            cord_id=event.cord_id, asset=event.asset, partition=event.partition,
            version=event.version or (made.version if made else 0), reason=event.reason,
            pulled_by=event.by, status="pulled", produced_at=made.at if made else None,
            detected_at=format_time(event.detected_at or event.at),
            pulled_at=format_time(event.at), seq=seq))
    elif isinstance(event, CordHalted):
        if event.partitions:
            conn.execute(insert(halts), [
                dict(cord_id=event.cord_id, pipeline=p.pipeline, partition=p.partition,
                     position=i) for i, p in enumerate(event.partitions)])
        _set(conn, event.cord_id, producer=event.producer, halted=len(event.partitions),
             held=len(event.held), cancelled=len(event.cancelled))
    elif isinstance(event, OutputSuspect):
        conn.execute(insert(cord_outputs).values(
            cord_id=event.cord_id, asset=event.asset, partition=event.partition,
            version=event.version, pipeline=event.pipeline, action=event.action,
            state="suspect", location=event.location, at=format_time(event.at)))
    elif isinstance(event, OutputQuarantined):
        _output(conn, event, "quarantined", event.quarantine_path)
    elif isinstance(event, OutputDeleted):
        _output(conn, event, "deleted", "")
    elif isinstance(event, OutputRestored):
        _output(conn, event, "restored", "")
    elif isinstance(event, CordResolved):
        row = _cord(conn, event.cord_id)
        if row is None or row.status != "pulled":
            return  # the engine ignores it too
        _set(conn, event.cord_id, status="resolving", resolved_at=format_time(event.at),
             resolved_by=event.by, note=event.note, manual_fix=int(event.manual_fix),
             resolutions=row.resolutions + 1)
        if event.manual_fix:
            _accept_as_fixed(conn, event, row)
        elif row.producer:  # its producer's partition runs again: the re-make
            conn.execute(delete(halts).where(halts.c.cord_id == event.cord_id,
                                             halts.c.pipeline == row.producer,
                                             halts.c.partition == row.partition))
    elif isinstance(event, CordReleased):
        _set(conn, event.cord_id, status="released", remade_at=format_time(event.at),
             remake_run_id=event.run_id)
        conn.execute(delete(halts).where(halts.c.cord_id == event.cord_id))
    elif isinstance(event, CordRemakeFailed):
        row = _cord(conn, event.cord_id)
        _set(conn, event.cord_id, status="pulled", remake_run_id=event.run_id,
             remake_error=event.error)
        if row is not None and row.producer:
            conn.execute(insert(halts).values(cord_id=event.cord_id, pipeline=row.producer,
                                              partition=row.partition, position=0))
    elif isinstance(event, CordRecovered):
        _set(conn, event.cord_id, status="recovered", recovered_at=format_time(event.at))


# -- queries -------------------------------------------------------------------------------------

def cord_rows(conn: Connection, cord_id: str | None = None, status: tuple[str, ...] = (),
              asset: str | None = None, partition: str | None = None,
              first: tuple[str, ...] = (), limit: int | None = None, offset: int = 0
              ) -> list[dict[str, Any]]:
    """Cords, filtered: those of a status in ``first`` before the others, each newest first;
    ``limit`` rows from ``offset``."""
    q = select(cords)
    if first:
        q = q.order_by(case((cords.c.status.in_(first), 0), else_=1))
    q = q.order_by(cords.c.seq.desc()).limit(limit).offset(offset or None)
    if cord_id is not None:
        q = q.where(cords.c.cord_id == cord_id)
    if status:
        q = q.where(cords.c.status.in_(status))
    if asset is not None:
        q = q.where(cords.c.asset == asset)
    if partition is not None:
        q = q.where(cords.c.partition == partition)
    return [dict(r._mapping) for r in conn.execute(q)]


def halt_rows(conn: Connection, cord_id: str | None = None) -> list[dict[str, Any]]:
    """Halted (pipeline, partition) with the cord that halts each and why."""
    q = select(halts.c.cord_id, halts.c.pipeline, halts.c.partition, cords.c.asset,
               cords.c.partition.label("bad_partition"), cords.c.reason, cords.c.pulled_by,
               cords.c.status).join(cords, cords.c.cord_id == halts.c.cord_id) \
        .order_by(cords.c.seq, halts.c.position)
    if cord_id is not None:
        q = q.where(halts.c.cord_id == cord_id)
    return [dict(r._mapping) for r in conn.execute(q)]


def output_rows(conn: Connection, cord_id: str) -> list[dict[str, Any]]:
    t = cord_outputs
    q = select(t).where(t.c.cord_id == cord_id).order_by(t.c.asset, t.c.partition, t.c.version)
    return [dict(r._mapping) for r in conn.execute(q)]
