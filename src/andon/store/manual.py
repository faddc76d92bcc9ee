"""What the store knows for the operations manual: every problem andon saw (``problems``: a run
that failed, a failing check, a cord pulled, a deadline missed), whether and when it was made
good again, the resolutions written down (``resolutions``) and the code version each run started
from (``run_code``). Kept in step with the log inside the append transaction; grouping them into
entries is ``andon.manual``'s (the grouping rules are the project's, not the store's).

Each row's ``touched`` is the seq of the last event that changed it, so that a reader can fold
only what changed since it last looked (``problems_since``)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, or_, select, update

from andon.events import (
    CheckFailed,
    CheckPassed,
    CordPulled,
    CordRecovered,
    CordResolved,
    DeliverableMissed,
    Event,
    RunFailed,
    RunQueued,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import format_time, from_dict
from andon.events.manual import ManualResolved
from andon.model.masks import mask
from andon.model.status import LOST_ERROR, RunStatus
from andon.store.prepared import Prepared
from andon.store.schema import events, partition_versions, problems, resolutions, run_code, runs

# the events that change the manual's facts, in the log's type index
MANUAL_FACTS = (RunStarted, RunQueued, RunFailed, RunSucceeded, CheckFailed, CheckPassed,
                CordPulled, CordResolved, CordRecovered, DeliverableMissed, ManualResolved)
# why a run was queued when it re-made something (andon.engine.core, andon.engine.cords)
REMAKES = ("retry", "upstream_changed", "cord", "manual")

_NEW_PROBLEM = problems.insert()
_RUN_CODE = select(run_code.c.code_version, run_code.c.git_commit).where(
    run_code.c.run_id == bindparam("b_run_id"))
_RUN_START = select(runs.c.started_at).where(runs.c.run_id == bindparam("b_run_id"))
_MADE_AT = select(partition_versions.c.at).where(
    partition_versions.c.asset == bindparam("b_asset"),
    partition_versions.c.partition == bindparam("b_key"),
    partition_versions.c.version == bindparam("b_version"))
_OPEN = problems.c.recovered == ""



def _kind_is(*kinds: str) -> Any:
    """``kind IN (...)`` with a bound parameter per kind: an ``in_`` over a tuple would be an
    expanding parameter, whose SQL is only known at execution (no ``Prepared`` form)."""
    return or_(*(problems.c.kind == k for k in kinds))


_RETRIED = Prepared(update(problems).where(
    problems.c.pipeline == bindparam("b_pipeline"), problems.c.partition == bindparam("b_key"),
    _kind_is("failure", "lost"), problems.c.retried == 0).values(
    retried=1, touched=bindparam("b_seq")))
_RUN_RECOVERED = Prepared(update(problems).where(
    problems.c.pipeline == bindparam("b_pipeline"), problems.c.partition == bindparam("b_key"),
    _kind_is("failure", "lost", "deadline"), _OPEN).values(
    recovered=bindparam("b_at"), recovered_by=bindparam("b_run_id"), touched=bindparam("b_seq")))
_NEW_RUN_CODE = Prepared(run_code.insert())
_CHECK_RECOVERED = update(problems).where(
    problems.c.kind == "check", problems.c.asset == bindparam("b_asset"),
    problems.c.partition == bindparam("b_key"), problems.c.check_name == bindparam("b_check"),
    _OPEN).values(recovered=bindparam("b_at"), touched=bindparam("b_seq"))
_CORD_RECOVERED = update(problems).where(
    problems.c.kind == "cord", problems.c.cord_id == bindparam("b_cord"), _OPEN).values(
    recovered=bindparam("b_at"), touched=bindparam("b_seq"))


def _made_at(conn: Connection, asset: str, key: str, version: int) -> str:
    return str(conn.execute(_MADE_AT, dict(b_asset=asset, b_key=key, b_version=version))
               .scalar() or "")


def _failed(conn: Connection, event: RunFailed, seq: int) -> dict[str, Any]:
    code = conn.execute(_RUN_CODE, dict(b_run_id=event.run_id)).first()
    began = conn.execute(_RUN_START, dict(b_run_id=event.run_id)).scalar()
    return dict(kind="lost" if event.error_type == LOST_ERROR else "failure", pipeline=event.pipeline,
                partition=event.partition, run_id=event.run_id, attempt=event.attempt,
                error_type=event.error_type, message=event.error_message,
                frames=json.dumps([[f.file, f.function] for f in event.frames]),
                began=str(began or ""), code_version=code.code_version if code else "",
                git_commit=code.git_commit if code else "")


def project_problem(conn: Connection, event: Event, seq: int) -> None:
    """Record what ``event`` (one of MANUAL_FACTS) tells of problems."""
    at = format_time(event.at)
    row: dict[str, Any] | None = None
    if isinstance(event, RunStarted):
        if event.code_version or event.commit:
            _NEW_RUN_CODE.run(conn, dict(run_id=event.run_id, seq=seq,
                                         code_version=event.code_version,
                                         git_commit=event.commit))
    elif isinstance(event, RunQueued):
        if event.attempt > 1:  # a retry: the failure before it was not for good
            _RETRIED.run(conn, dict(b_pipeline=event.pipeline, b_key=event.partition, b_seq=seq))
    elif isinstance(event, RunSucceeded):
        _RUN_RECOVERED.run(conn, dict(b_pipeline=event.pipeline, b_key=event.partition,
                                      b_at=at, b_run_id=event.run_id, b_seq=seq))
    elif isinstance(event, RunFailed):
        row = _failed(conn, event, seq)
    elif isinstance(event, CheckFailed):
        row = dict(kind="check", asset=event.asset, partition=event.partition,
                   check_name=event.check, message=event.message,
                   began=_made_at(conn, event.asset, event.partition, event.version))
    elif isinstance(event, CheckPassed):
        conn.execute(_CHECK_RECOVERED, dict(b_asset=event.asset, b_key=event.partition,
                                            b_check=event.check, b_at=at, b_seq=seq))
    elif isinstance(event, CordPulled):
        row = dict(kind="cord", asset=event.asset, partition=event.partition,
                   cord_id=event.cord_id, message=event.reason,
                   began=format_time(event.detected_at) if event.detected_at
                   else _made_at(conn, event.asset, event.partition, event.version))
    elif isinstance(event, CordRecovered):
        conn.execute(_CORD_RECOVERED, dict(b_cord=event.cord_id, b_at=at, b_seq=seq))
    elif isinstance(event, DeliverableMissed):
        row = dict(kind="deadline", pipeline=event.pipeline, partition=event.partition,
                   message=event.reason, began=format_time(event.due))
    elif isinstance(event, CordResolved):
        conn.execute(resolutions.insert(), dict(seq=seq, cord_id=event.cord_id, note=event.note,
                                                by=event.by, at=at))
    elif isinstance(event, ManualResolved):
        conn.execute(resolutions.insert(), dict(
            seq=seq, entry=event.entry, note=event.note, link=event.link,
            git_commit=event.commit, code_version=event.code_version, by=event.by, at=at))
    if row is not None:  # masked once here, not at each fold
        conn.execute(_NEW_PROBLEM, dict(seq=seq, at=at, touched=seq,
                                        masked=mask(row.get("message", "")), **row))


def replay_problems(conn: Connection, batch: int = 5000) -> None:
    """Fill the manual's tables from every event of the log that tells of problems, in order
    (migration 7)."""
    names = [cls.name for cls in MANUAL_FACTS]
    after = 0
    while True:
        rows = conn.execute(select(events.c.seq, events.c.payload).where(
            events.c.type.in_(names), events.c.seq > after).order_by(events.c.seq)
            .limit(batch)).all()
        for row in rows:
            project_problem(conn, from_dict(json.loads(row.payload)), row.seq)
        if len(rows) < batch:
            return
        after = rows[-1].seq


@dataclass(frozen=True, slots=True)
class ProblemRow:
    """One stored problem (the ``problems`` table's row, ``frames`` decoded)."""

    seq: int
    kind: str
    pipeline: str
    asset: str
    partition: str
    run_id: str
    cord_id: str
    check_name: str
    attempt: int
    error_type: str
    message: str
    masked: str
    frames: tuple[tuple[str, str], ...]
    at: str
    began: str
    recovered: str
    recovered_by: str
    retried: bool
    code_version: str
    git_commit: str
    touched: int


_PROBLEM_FIELDS = tuple(ProblemRow.__dataclass_fields__)
_PROBLEM_COLUMNS = tuple(problems.c[name] for name in _PROBLEM_FIELDS)
_FRAMES_AT, _RETRIED_AT = _PROBLEM_FIELDS.index("frames"), _PROBLEM_FIELDS.index("retried")


@dataclass(frozen=True, slots=True)
class ResolutionRow:
    """One stored resolution (the ``resolutions`` table's row)."""

    seq: int
    entry: str
    cord_id: str
    note: str
    link: str
    git_commit: str
    code_version: str
    by: str
    at: str


def problems_since(conn: Connection, touched: int) -> list[ProblemRow]:
    """The problems changed by an event after seq ``touched``, by seq; at 0 (a first read),
    those for good only (no retry followed): the ones a reader folds."""
    q = select(*_PROBLEM_COLUMNS).where(problems.c.touched > touched).order_by(problems.c.seq)
    if not touched:
        q = q.where(problems.c.retried == 0)
    return [_problem(r) for r in conn.execute(q)]


def run_problem(conn: Connection, run_id: str) -> ProblemRow | None:
    """The stored failure of run ``run_id`` (a retry may have followed it), or None."""
    q = select(*_PROBLEM_COLUMNS).where(problems.c.run_id == run_id).order_by(
        problems.c.seq.desc()).limit(1)
    row = conn.execute(q).first()
    return None if row is None else _problem(row)


def _problem(row: Any) -> ProblemRow:
    values = list(row)  # positional: a year of problems is read at once
    values[_FRAMES_AT] = tuple((str(f[0]), str(f[1]))
                               for f in json.loads(values[_FRAMES_AT] or "[]"))
    values[_RETRIED_AT] = bool(values[_RETRIED_AT])
    return ProblemRow(*values)


def resolutions_since(conn: Connection, seq: int) -> list[ResolutionRow]:
    """The resolutions recorded after ``seq`` (0: all), oldest first."""
    q = select(resolutions).where(resolutions.c.seq > seq).order_by(resolutions.c.seq)
    return [ResolutionRow(**r._mapping) for r in conn.execute(q)]


def code_versions_since(conn: Connection, seq: int) -> list[tuple[str, int]]:
    """Each code version a run started from after ``seq``, with the seq of the first such run
    (newer code ranks higher)."""
    q = select(run_code.c.code_version, func.min(run_code.c.seq)).where(
        run_code.c.seq > seq).group_by(run_code.c.code_version)
    return [(str(v), int(s)) for v, s in conn.execute(q)]


def compute_seconds(conn: Connection, since: str) -> tuple[float, float]:
    """The work seconds of the runs that ended at or after ``since``: all of them, and those
    that failed or re-made something (a retry, a re-make after a cord or a changed input, a run
    a person asked for)."""
    redone = (runs.c.status == RunStatus.FAILED.value) | (runs.c.attempt > 1) \
        | runs.c.reason.in_(REMAKES)
    total, redo = conn.execute(select(  # one pass over the window's runs
        func.coalesce(func.sum(runs.c.work_seconds), 0.0),
        func.coalesce(func.sum(case((redone, runs.c.work_seconds), else_=0.0)), 0.0))
        .where(runs.c.ended_at >= since)).one()
    return float(total or 0.0), float(redo or 0.0)
