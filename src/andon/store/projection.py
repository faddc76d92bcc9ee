"""Keep the read models (runs, partitions) in step with the log, inside the append transaction.

The statements are built once: ``append`` is on the hot path, and building and caching a
statement costs more CPU than running it on SQLite.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from andon.events import (
    CORD_EVENTS,
    DeliverablePlanned,
    Event,
    OutputWritten,
    PartitionAvailable,
    RunCancelled,
    RunFailed,
    RunLaunched,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import format_time, to_dict
from andon.model.partitions import is_new_version
from andon.model.status import RunStatus
from andon.store.cordviews import project_cord
from andon.store.schema import first_plans, partition_versions, partitions, runs

_CURRENT = select(partitions.c.version, partitions.c.fingerprint).where(
    partitions.c.asset == bindparam("b_asset"), partitions.c.partition == bindparam("b_key"))
_NEW_VERSION = partition_versions.insert()
_FIRST = partitions.insert()
_REPLACE = update(partitions).where(partitions.c.asset == bindparam("b_asset"),
                                    partitions.c.partition == bindparam("b_key"))
_NEW_RUN = runs.insert()
# SET takes the columns named in the parameters, so one statement serves every kind of change
_UPDATE_RUN = update(runs).where(runs.c.run_id == bindparam("b_run_id"))
_HAS_FIRST_PLAN = select(first_plans.c.seq).where(
    first_plans.c.pipeline == bindparam("b_pipeline"),
    first_plans.c.partition == bindparam("b_key"))
_NEW_FIRST_PLAN = first_plans.insert()


def _materialise(conn: Connection, event: Event, asset: str, key: str, origin: str,
                 out: OutputWritten, run_id: str) -> None:
    row = conn.execute(_CURRENT, dict(b_asset=asset, b_key=key)).first()
    if row is not None and not is_new_version(row.fingerprint, out.fingerprint, bool(run_id)):
        return
    values: dict[str, Any] = dict(
        version=(row.version + 1) if row else 1, at=format_time(event.at), run_id=run_id,
        origin=origin, location=out.location, size_bytes=out.size_bytes, rows=out.rows,
        fingerprint=out.fingerprint)
    conn.execute(_NEW_VERSION, dict(asset=asset, partition=key, **values))
    if row is None:
        conn.execute(_FIRST, dict(asset=asset, partition=key, **values))
    else:
        conn.execute(_REPLACE, dict(b_asset=asset, b_key=key, **values))


def _update_run(conn: Connection, run_id: str, values: dict[str, Any]) -> None:
    conn.execute(_UPDATE_RUN, dict(b_run_id=run_id, **values))


def _run_end(event: RunSucceeded | RunFailed | RunCancelled, status: RunStatus) -> dict[str, Any]:
    values: dict[str, Any] = dict(status=status.value, ended_at=format_time(event.at))
    if not isinstance(event, RunCancelled):
        values.update(queue_seconds=event.queue_seconds, startup_seconds=event.startup_seconds,
                      work_seconds=event.work_seconds, exit_code=event.exit_code)
        if event.inputs:
            values["inputs"] = json.dumps(to_dict_list(event.inputs))
    if isinstance(event, RunFailed):
        values.update(error_type=event.error_type, error_message=event.error_message)
    if isinstance(event, RunCancelled):
        values.update(error_type="Cancelled", error_message=event.reason)
    return values


def to_dict_list(items: Any) -> list[dict[str, Any]]:
    return [dict(vars(i)) for i in items]


def project(conn: Connection, event: Event, seq: int) -> None:
    """Update the read models for one newly stored event."""
    if isinstance(event, PartitionAvailable):
        _materialise(conn, event, event.asset, event.partition, event.origin,
                     OutputWritten(event.asset, event.partition, event.location, event.size_bytes,
                                   None, event.fingerprint), "")
    elif isinstance(event, RunQueued):
        conn.execute(_NEW_RUN, dict(
            run_id=event.run_id, pipeline=event.pipeline, partition=event.partition,
            attempt=event.attempt, status=RunStatus.QUEUED.value, reason=event.reason,
            queued_at=format_time(event.at), seq=seq))
    elif isinstance(event, RunStarted):
        _update_run(conn, event.run_id, dict(
            status=RunStatus.RUNNING.value, started_at=format_time(event.at), pool=event.pool,
            slots=event.slots, inputs=json.dumps(to_dict_list(event.inputs))))
    elif isinstance(event, RunLaunched):
        _update_run(conn, event.run_id, dict(pid=event.pid, log_path=event.log_path))
    elif isinstance(event, RunSucceeded):
        values = _run_end(event, RunStatus.SUCCEEDED)
        values["outputs"] = json.dumps(to_dict_list(event.outputs))
        _update_run(conn, event.run_id, values)
        for out in event.outputs:
            _materialise(conn, event, out.asset, out.partition, "run", out, event.run_id)
    elif isinstance(event, RunFailed):
        _update_run(conn, event.run_id, _run_end(event, RunStatus.FAILED))
    elif isinstance(event, RunCancelled):
        _update_run(conn, event.run_id, _run_end(event, RunStatus.CANCELLED))
    elif isinstance(event, CORD_EVENTS):
        project_cord(conn, event, seq)
    elif isinstance(event, DeliverablePlanned):
        _first_plan(conn, event, seq)


def _first_plan(conn: Connection, event: DeliverablePlanned, seq: int) -> None:
    """Keep the first plan of a deliverable: a later one (another id) changes nothing."""
    if conn.execute(_HAS_FIRST_PLAN, dict(b_pipeline=event.pipeline,
                                          b_key=event.partition)).first() is not None:
        return
    conn.execute(_NEW_FIRST_PLAN, dict(
        pipeline=event.pipeline, partition=event.partition, due=format_time(event.due),
        predicted_start=_time(event.predicted_start),
        predicted_finish=_time(event.predicted_finish), planned_at=format_time(event.at),
        policy=event.policy, seq=seq))


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def payload(event: Event) -> str:
    return json.dumps(to_dict(event), separators=(",", ":"))
