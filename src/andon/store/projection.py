"""Keep the read models (runs, partitions) in step with the log, inside the append transaction.

They record what the engine decided: a partition's versions are the numbers the engine gave new
data (``partition.available``'s ``version``, ``run.succeeded``'s ``versions``,
``cord.fix_accepted``), see ``_materialise``.

The statements are built once: ``append`` is on the hot path, and building and caching a
statement costs more CPU than running it on SQLite.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, bindparam, select, update

from andon.engine.state import next_version
from andon.events import (
    CORD_EVENTS,
    CordFixAccepted,
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
from andon.events.access import ACCESS_EVENTS
from andon.events.catalog import CATALOG_EVENTS
from andon.events.codec import format_time, to_dict
from andon.events.models import ModelPromoted
from andon.events.serving import CordServingMoved
from andon.model.status import RunStatus
from andon.store.access import project_access
from andon.store.catalog import project_catalog
from andon.store.cordviews import project_cord
from andon.store.lifecycle import PROJECTED as LIFECYCLE_FACTS
from andon.store.lifecycle import project_lifecycle
from andon.store.manual import MANUAL_FACTS, project_problem
from andon.store.models import project_promotion
from andon.store.prepared import Prepared
from andon.store.relations import project_reads
from andon.store.schema import first_plans, partition_versions, partitions, runs
from andon.store.serving import project_serving_moved

_CURRENT = Prepared(select(
    partitions.c.version, partitions.c.fingerprint, partitions.c.size_bytes, partitions.c.rows
).where(partitions.c.asset == bindparam("b_asset"), partitions.c.partition == bindparam("b_key")))
_NEW_VERSION = Prepared(partition_versions.insert())
_FIRST = Prepared(partitions.insert())
_REPLACE = Prepared(update(partitions).where(partitions.c.asset == bindparam("b_asset"),
                                             partitions.c.partition == bindparam("b_key")))
_NEW_RUN = Prepared(runs.insert())
# SET takes the columns named in the parameters, so one statement serves every kind of change
_UPDATE_RUN = Prepared(update(runs).where(runs.c.run_id == bindparam("b_run_id")))
_HAS_FIRST_PLAN = Prepared(select(first_plans.c.seq).where(
    first_plans.c.pipeline == bindparam("b_pipeline"),
    first_plans.c.partition == bindparam("b_key")))
_NEW_FIRST_PLAN = Prepared(first_plans.insert())


class _Current(NamedTuple):
    """A partition's current version, as the read model holds it."""

    version: int
    fingerprint: str
    size_bytes: int
    rows: int | None


def _current(conn: Connection, asset: str, key: str) -> _Current | None:
    row = _CURRENT.first(conn, dict(b_asset=asset, b_key=key))
    return None if row is None else _Current(*row)

def _materialise(conn: Connection, at: datetime, out: OutputWritten, origin: str,
                 run_id: str = "", decided: int = 0) -> None:
    """Record a new version of partition ``out.asset`` ``out.partition``, the data ``out``
    describes: version ``decided``, the number the engine gave it as it recorded the event. An
    event recorded without the engine (0: appended to the store directly) is numbered by the
    engine's own rule (``andon.engine.state.next_version``) applied to the stored current row,
    never by a rule of the read models'. Nothing is recorded for a version the read models hold
    already, or one older than the current (the same source data announced again; a fix
    accepted in a log whose read models recorded it before ``cord.fix_accepted`` existed)."""
    asset, key = out.asset, out.partition
    row = _current(conn, asset, key)
    version = decided or next_version(row.version if row else 0, row.fingerprint if row else "",
                                      out.fingerprint, bool(run_id))
    if version is None or (row is not None and version <= row.version):
        return
    values: dict[str, Any] = dict(
        version=version, at=format_time(at), run_id=run_id, origin=origin, location=out.location,
        size_bytes=out.size_bytes, rows=out.rows, fingerprint=out.fingerprint)
    _NEW_VERSION.run(conn, dict(asset=asset, partition=key, **values))
    if row is None:
        _FIRST.run(conn, dict(asset=asset, partition=key, **values))
    else:
        _REPLACE.run(conn, dict(b_asset=asset, b_key=key, **values))


def _fixed(conn: Connection, event: CordFixAccepted) -> None:
    """The version the engine gave a partition accepted as fixed by hand: the data as it is, so
    its size and rows are the current version's."""
    row = _current(conn, event.asset, event.partition)
    _materialise(conn, event.at, OutputWritten(
        event.asset, event.partition, event.location, row.size_bytes if row else 0,
        row.rows if row else None, event.fingerprint), "manual_fix", "", event.version)


def _update_run(conn: Connection, run_id: str, values: dict[str, Any]) -> None:
    _UPDATE_RUN.run(conn, dict(b_run_id=run_id, **values))


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
    if isinstance(event, MANUAL_FACTS):  # besides its other read models
        project_problem(conn, event, seq)
    if isinstance(event, PartitionAvailable):
        _materialise(conn, event.at, OutputWritten(
            event.asset, event.partition, event.location, event.size_bytes, None,
            event.fingerprint), event.origin, "", event.version)
    elif isinstance(event, RunQueued):
        _NEW_RUN.run(conn, dict(
            run_id=event.run_id, pipeline=event.pipeline, partition=event.partition,
            attempt=event.attempt, status=RunStatus.QUEUED.value, reason=event.reason,
            queued_at=format_time(event.at), seq=seq))
    elif isinstance(event, RunStarted):
        _update_run(conn, event.run_id, dict(
            status=RunStatus.RUNNING.value, started_at=format_time(event.at), pool=event.pool,
            slots=event.slots, inputs=json.dumps(to_dict_list(event.inputs))))
        project_reads(conn, event)
    elif isinstance(event, RunLaunched):
        _update_run(conn, event.run_id, dict(pid=event.pid, log_path=event.log_path))
    elif isinstance(event, RunSucceeded):
        values = _run_end(event, RunStatus.SUCCEEDED)
        values["outputs"] = json.dumps(to_dict_list(event.outputs))
        _update_run(conn, event.run_id, values)
        decided = {(v.asset, v.partition): v.version for v in event.versions}
        for out in event.outputs:
            _materialise(conn, event.at, out, "run", event.run_id,
                         decided.get((out.asset, out.partition), 0))
    elif isinstance(event, RunFailed):
        _update_run(conn, event.run_id, _run_end(event, RunStatus.FAILED))
    elif isinstance(event, RunCancelled):
        _update_run(conn, event.run_id, _run_end(event, RunStatus.CANCELLED))
    elif isinstance(event, CordFixAccepted):
        _fixed(conn, event)
    elif isinstance(event, CORD_EVENTS):
        project_cord(conn, event, seq)
    elif isinstance(event, DeliverablePlanned):
        _first_plan(conn, event, seq)
    elif isinstance(event, ACCESS_EVENTS):
        project_access(conn, event, seq)
    elif isinstance(event, CATALOG_EVENTS):
        project_catalog(conn, event, seq)
    elif isinstance(event, ModelPromoted):
        project_promotion(conn, event, seq)
    elif isinstance(event, CordServingMoved):
        project_serving_moved(conn, event)
    elif isinstance(event, LIFECYCLE_FACTS):
        project_lifecycle(conn, event, seq)


def _first_plan(conn: Connection, event: DeliverablePlanned, seq: int) -> None:
    """Keep the first plan of a deliverable: a later one (another id) changes nothing."""
    if _HAS_FIRST_PLAN.first(conn, dict(b_pipeline=event.pipeline,
                                        b_key=event.partition)) is not None:
        return
    _NEW_FIRST_PLAN.run(conn, dict(
        pipeline=event.pipeline, partition=event.partition, due=format_time(event.due),
        predicted_start=_time(event.predicted_start),
        predicted_finish=_time(event.predicted_finish), planned_at=format_time(event.at),
        policy=event.policy, seq=seq))


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def payload(event: Event) -> str:
    return json.dumps(to_dict(event), separators=(",", ":"))
