"""Keep the andon cord read models (``cords``, ``halts``, ``cord_outputs``) in step with the log,
inside the append transaction; and answer the queries on them.

They record what the engine decided (``andon.engine.cords``, ``andon.engine.outputs``), with its
enums: each event moves a cord or an output to the one state the engine's table gives it, and a
version accepted as fixed by hand is the one ``cord.fix_accepted`` names. A pull or a resolve is
a request the engine may ignore (a cord already open on the partition, a cord not pulled): those
are recorded only when the engine's own rule (``CordStatus.open``, ``LEGAL``) lets them move."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, case, delete, insert, select, update

from andon.engine.cords import LEGAL, OPEN, CordStatus
from andon.engine.outputs import OutputState
from andon.events import (
    CordFixAccepted,
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


_OUTPUT_STATE = {OutputQuarantined: OutputState.QUARANTINED, OutputDeleted: OutputState.DELETED,
                 OutputRestored: OutputState.RESTORED}


def _output(conn: Connection, event: OutputQuarantined | OutputDeleted | OutputRestored) -> None:
    t = cord_outputs
    aside = event.quarantine_path if isinstance(event, OutputQuarantined) else ""
    conn.execute(update(t).where(t.c.asset == event.asset, t.c.partition == event.partition,
                                 t.c.version == event.version)
                 .values(state=_OUTPUT_STATE[type(event)].value, quarantine_path=aside,
                         at=format_time(event.at)))


def _fixed(conn: Connection, event: CordFixAccepted) -> None:
    """Record the version the engine gave a partition accepted as fixed by hand: the data as it
    is (its size and rows from the version before). Recorded once: a log from before
    ``cord.fix_accepted`` gets it late, for a version its read models already hold."""
    where = (partitions.c.asset == event.asset) & (partitions.c.partition == event.partition)
    pv = partition_versions
    if conn.execute(select(pv.c.version).where(
            pv.c.asset == event.asset, pv.c.partition == event.partition,
            pv.c.version == event.version)).first() is not None:
        return
    current = conn.execute(select(partitions).where(where)).first()
    values: dict[str, Any] = dict(
        version=event.version, at=format_time(event.at), run_id="", origin="manual_fix",
        location=event.location, size_bytes=current.size_bytes if current else 0,
        rows=current.rows if current else None, fingerprint=event.fingerprint)
    conn.execute(insert(pv).values(asset=event.asset, partition=event.partition, **values))
    if current is None:
        conn.execute(insert(partitions).values(asset=event.asset, partition=event.partition,
                                               **values))
    elif current.version < event.version:
        conn.execute(update(partitions).where(where).values(**values))


def project_cord(conn: Connection, event: Event, seq: int) -> None:
    """Update the cord read models for one newly stored cord or output event."""
    if isinstance(event, CordPulled):
        there = select(cords.c.cord_id).where(
            (cords.c.cord_id == event.cord_id) | (
                (cords.c.asset == event.asset) & (cords.c.partition == event.partition)
                & cords.c.status.in_(OPEN)))
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
            pulled_by=event.by, status=CordStatus.PULLED.value,
            produced_at=made.at if made else None,
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
            state=OutputState.SUSPECT.value, location=event.location, at=format_time(event.at)))
    elif isinstance(event, (OutputQuarantined, OutputDeleted, OutputRestored)):
        _output(conn, event)
    elif isinstance(event, CordResolved):
        row = _cord(conn, event.cord_id)
        if row is None or CordStatus.RESOLVING not in LEGAL[CordStatus(row.status)]:
            return  # the engine ignores it too
        _set(conn, event.cord_id, status=CordStatus.RESOLVING.value,
             resolved_at=format_time(event.at), resolved_by=event.by, note=event.note,
             manual_fix=int(event.manual_fix), resolutions=row.resolutions + 1)
        if not event.manual_fix and row.producer:  # its producer's partition runs again
            conn.execute(delete(halts).where(halts.c.cord_id == event.cord_id,
                                             halts.c.pipeline == row.producer,
                                             halts.c.partition == row.partition))
    elif isinstance(event, CordFixAccepted):
        _fixed(conn, event)
    elif isinstance(event, CordReleased):
        _set(conn, event.cord_id, status=CordStatus.RELEASED.value, remade_at=format_time(event.at),
             remake_run_id=event.run_id)
        conn.execute(delete(halts).where(halts.c.cord_id == event.cord_id))
    elif isinstance(event, CordRemakeFailed):
        row = _cord(conn, event.cord_id)
        _set(conn, event.cord_id, status=CordStatus.PULLED.value, remake_run_id=event.run_id,
             remake_error=event.error)
        if row is not None and row.producer:
            conn.execute(insert(halts).values(cord_id=event.cord_id, pipeline=row.producer,
                                              partition=row.partition, position=0))
    elif isinstance(event, CordRecovered):
        _set(conn, event.cord_id, status=CordStatus.RECOVERED.value,
             recovered_at=format_time(event.at))


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
