"""The event store on SQL (SQLite embedded, PostgreSQL for teams), behind one contract.

One writer at a time: a lock in this process, and against other processes ``BEGIN IMMEDIATE``
with a busy timeout (SQLite) or a transaction-scoped advisory lock (PostgreSQL). Serialising the
writers keeps the partition version numbers gap-free and makes ``seq`` order commit order, so a
reader that follows the log with ``events(after=...)`` never skips an event committed late.
SQLite runs in WAL mode with ``synchronous=FULL``; readers use their own connections. A batch of
events is one transaction (group commit): durable once ``append`` returns. Before each write
transaction, and before opening a connection, a SQLite store checks that its file is still the
one it opened (``andon.store.identity``): a deleted or replaced database is never written to.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    bindparam,
    case,
    create_engine,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from andon.events import Event
from andon.events.codec import format_time, from_dict
from andon.model.errors import ConfigError
from andon.model.status import RunStatus
from andon.model.tokens import ID_LENGTH, token_id
from andon.store import access, catalog, cordviews, driftreports, fresh, schema
from andon.store.identity import FileIdentity, StoreUnavailable
from andon.store.lock import database_file
from andon.store.projection import payload, project
from andon.store.views import (
    RUN_QUERY,
    FirstPlan,
    PartitionView,
    RunFailure,
    RunSpan,
    RunView,
    TokenView,
)

BUSY_TIMEOUT_MS = 30_000
PG_WRITE_LOCK = 0x616E646F6E  # "andon": the advisory lock that serialises writers
INSERT_CHUNK = 500  # ids per IN (...) query: far below every backend's parameter limit
_HAS_EVENT = select(schema.events.c.seq).where(schema.events.c.id == bindparam("b_id"))


def _switch_to_wal(cur: Any) -> None:
    """Put the database in WAL mode (once per database: the mode is kept in the file). Processes
    opening a new database at once race for that switch, and SQLite answers the loser "database
    is locked" at once instead of calling the busy handler: try again, briefly, until the
    busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def _sqlite_engine(url: str, write: bool, identity: FileIdentity) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False,
                                              "timeout": BUSY_TIMEOUT_MS / 1000},
                           poolclass=StaticPool if write else QueuePool)

    @event.listens_for(engine, "do_connect")
    def _do_connect(*_args: Any) -> None:
        identity.check()  # SQLite would create a new, empty file where the database was

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # first: switching to WAL may wait
        _switch_to_wal(cur)
        cur.execute("PRAGMA synchronous=FULL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


class Store:
    """The event log and its read models. Thread-safe; one writer at a time."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.dialect = url.split(":", 1)[0].split("+", 1)[0]
        self.identity = FileIdentity()  # what the store's files are (andon.store.identity)
        self.path: Path | None = None  # the database file (SQLite)
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"unsupported database URL {url.split('@')[-1]!r}",
                              hint="use sqlite:///path/andon.db or postgresql+psycopg://...")
        if self.dialect == "sqlite" and database_file(url) is None:
            raise ConfigError("an in-memory SQLite database cannot be the store (the writer and "
                              "the readers would each see their own empty database)",
                              hint="use a file: sqlite:///path/andon.db")
        try:
            if self.dialect == "sqlite":
                self.path = database_file(url)
                self._writer = _sqlite_engine(url, write=True, identity=self.identity)
                self._reader = _sqlite_engine(url, write=False, identity=self.identity)
            else:
                self._writer = self._reader = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"the database driver {exc.name!r} is not installed",
                              hint="pip install 'andon[postgres]'") from None
        self._lock = threading.Lock()
        self.fence: Any = None  # a team leader's check of each write (andon.store.leader.Fence)
        # a dialect's module is imported only when it is used
        insert = import_module(f"sqlalchemy.dialects.{self.dialect}").insert
        self._insert_events = insert(schema.events).on_conflict_do_nothing(
            index_elements=["id"]).returning(schema.events.c.id, schema.events.c.seq)
        try:
            self.migrate()
            if self.path is not None:  # the file exists from the first connection on
                self.identity.watch(self.path, "database file")
        except OperationalError as exc:  # cannot connect, no such folder, not writable...
            self.close()
            raise ConfigError(
                f"cannot open the store {make_url(url).render_as_string(hide_password=True)}: "
                f"{str(exc.orig).strip() or type(exc.orig).__name__}",
                hint="check the database URL (ANDON_DATABASE_URL / database_url), that its "
                     "folder exists or its server is running, and the permissions") from None
        except BaseException:
            self.close()  # no pooled connection left behind for the garbage collector
            raise

    # -- writing -------------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction, committed on leaving; holds the write lock of every process.
        Refused with ``StoreUnavailable`` when the database or a watched folder is gone or
        replaced (the one door every write goes through)."""
        with self._lock:
            self.identity.check()
            with self._writer.begin() as conn:
                if self.dialect == "postgresql":
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PG_WRITE_LOCK})")
                    if self.fence is not None:  # still the team's leader? (andon.store.leader)
                        self.fence(conn)
                yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading the read models: the door the store's query modules
        (``andon.store.cordviews`` and its kin) go through."""
        with self._reader.connect() as conn:
            yield conn

    def watch(self, path: Path, kind: str) -> None:
        """Refuse writes, too, once ``path`` (a folder the store's users write beside it, such as
        the state folder) is deleted or replaced; ``kind`` names it in the error."""
        self.identity.watch(path, kind)

    def unavailable(self) -> StoreUnavailable | None:
        """Why the store refuses writes (its file or a watched folder is gone or replaced), or
        None while it takes them; a stat per watched path, no query."""
        return self.identity.problem()

    def migrate(self) -> list[int]:
        """Bring the schema up to ``schema.LATEST``; return the versions applied (none when it
        was already there). Run by the constructor; safe to call again and from several processes."""
        with self._write() as conn:  # a new SQLite file: its stored DDL (andon.store.fresh)
            now = format_time(datetime.now(UTC))
            return fresh.create(conn, now) or schema.migrate(conn, now)

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store ``events`` in one transaction, in order, and update the read models; return those
        that were new (an id already in the log, or earlier in ``events``, is skipped, so
        ingesting an event twice changes nothing). Durable once it returns."""
        batch: dict[str, Event] = {}
        for ev in events:
            batch.setdefault(ev.id, ev)
        if not batch:
            return []
        stored = []
        items = list(batch.values())
        with self._write() as conn:
            # one statement for the batch (executemany, sent as multi-row INSERTs); the ids
            # that come back are the new ones
            rows = conn.execute(self._insert_events, [
                dict(id=ev.id, type=ev.name, at=format_time(ev.at), payload=payload(ev))
                for ev in items])
            seqs: dict[str, int] = {id_: seq for id_, seq in rows}
            for ev in items:
                seq = seqs.get(ev.id)
                if seq is not None:
                    project(conn, ev, seq)
                    stored.append(ev)
        return stored

    # -- reading -------------------------------------------------------------------------------

    def events(self, after: int = 0, limit: int | None = None) -> list[tuple[int, Event]]:
        """Events with ``seq`` above ``after``, in log order."""
        q = select(schema.events.c.seq, schema.events.c.payload).where(
            schema.events.c.seq > after).order_by(schema.events.c.seq)
        if limit:
            q = q.limit(limit)
        with self._reader.connect() as conn:
            return [(seq, from_dict(json.loads(p))) for seq, p in conn.execute(q)]

    def iter_events(self, batch: int = 5000) -> Iterable[Event]:
        """The whole log in order, read ``batch`` events at a time (replay at start-up)."""
        after = 0
        while True:
            chunk = self.events(after, batch)
            if not chunk:
                return
            after = chunk[-1][0]
            yield from (e for _, e in chunk)

    def has_event(self, event_id: str) -> bool:
        """Whether an event with this id is in the log."""
        with self._reader.connect() as conn:
            return conn.execute(_HAS_EVENT, {"b_id": event_id}).first() is not None

    def known_ids(self, event_ids: Iterable[str]) -> set[str]:
        """Those of ``event_ids`` already in the log: one query for a batch instead of one
        ``has_event`` call per event."""
        wanted = list(dict.fromkeys(event_ids))
        found: set[str] = set()
        with self._reader.connect() as conn:
            for start in range(0, len(wanted), INSERT_CHUNK):
                found.update(conn.execute(select(schema.events.c.id).where(
                    schema.events.c.id.in_(wanted[start:start + INSERT_CHUNK]))).scalars())
        return found

    def count_events(self, type_: str | None = None) -> int:
        """How many events the log holds (of one ``type``, an event's ``name``, when given)."""
        q = select(func.count()).select_from(schema.events)
        if type_:
            q = q.where(schema.events.c.type == type_)
        with self._reader.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def last_seq(self) -> int:
        """The ``seq`` of the newest event, 0 for an empty log."""
        with self._reader.connect() as conn:
            return int(conn.execute(select(func.max(schema.events.c.seq))).scalar() or 0)

    def partitions(self, asset: str | None = None) -> list[PartitionView]:
        """The current version of every partition (of ``asset``), by asset and key."""
        q = select(schema.partitions).order_by(schema.partitions.c.asset,
                                               schema.partitions.c.partition)
        if asset:
            q = q.where(schema.partitions.c.asset == asset)
        with self._reader.connect() as conn:
            return [PartitionView(**r._mapping) for r in conn.execute(q)]

    def partition_versions(self, asset: str, key: str) -> list[PartitionView]:
        """Every materialisation of one partition, oldest (version 1) first."""
        t = schema.partition_versions
        q = select(t).where(t.c.asset == asset, t.c.partition == key).order_by(t.c.version)
        with self._reader.connect() as conn:
            return [PartitionView(**r._mapping) for r in conn.execute(q)]

    def run(self, run_id: str) -> RunView | None:
        """One run, or None."""
        with self._reader.connect() as conn:
            row = conn.execute(RUN_QUERY.where(schema.runs.c.run_id == run_id)).first()
        return RunView.from_row(row._mapping) if row else None

    def runs(self, pipeline: str | None = None, status: str | None = None,
             partition: str | None = None, limit: int = 100, offset: int = 0) -> list[RunView]:
        """Runs, newest first, filtered by pipeline, status (a RunStatus's value) and
        partition."""
        t = schema.runs
        q = RUN_QUERY.order_by(t.c.seq.desc()).limit(limit).offset(offset)
        if pipeline:
            q = q.where(t.c.pipeline == pipeline)
        if status:
            q = q.where(t.c.status == status)
        if partition:
            q = q.where(t.c.partition == partition)
        with self._reader.connect() as conn:
            return [RunView.from_row(r._mapping) for r in conn.execute(q)]

    def latest_runs(self) -> list[RunView]:
        """The newest run of every (pipeline, partition)."""
        t = schema.runs
        newest = select(func.max(t.c.seq).label("seq")).group_by(t.c.pipeline, t.c.partition)
        with self._reader.connect() as conn:
            return [RunView.from_row(r._mapping)
                    for r in conn.execute(select(t).where(t.c.seq.in_(newest)))]

    def latest_run_summary(self) -> tuple[list[tuple[str, RunStatus, int]],
                                          dict[str, list[RunFailure]]]:
        """Over the newest run of every (pipeline, partition): how many are in each status per
        pipeline, and per pipeline the failed ones, newest first (counted in SQL: a board of a
        thousand pipelines and a month of partitions must not read every run)."""
        t = schema.runs
        newest = select(func.max(t.c.seq)).group_by(t.c.pipeline, t.c.partition)
        counts = select(t.c.pipeline, t.c.status, func.count()).where(
            t.c.seq.in_(newest)).group_by(t.c.pipeline, t.c.status)
        failed = select(t.c.pipeline, t.c.run_id, t.c.partition, t.c.error_type,
                        t.c.error_message, t.c.ended_at).where(
            t.c.seq.in_(newest), t.c.status == RunStatus.FAILED.value).order_by(t.c.seq.desc())
        failures: dict[str, list[RunFailure]] = {}
        with self._reader.connect() as conn:
            summary = [(p, RunStatus(s), int(n)) for p, s, n in conn.execute(counts)]
            for pipeline, *fields in conn.execute(failed):
                failures.setdefault(pipeline, []).append(RunFailure(*fields))
        return summary, failures

    def partition_summary(self) -> dict[str, tuple[int, str]]:
        """Per asset: how many partitions exist and the newest key."""
        t = schema.partitions
        q = select(t.c.asset, func.count(), func.max(t.c.partition)).group_by(t.c.asset)
        with self._reader.connect() as conn:
            return {a: (int(n), str(k)) for a, n, k in conn.execute(q)}

    def run_counts(self) -> dict[RunStatus, int]:
        """The number of runs in each status (statuses with none are left out)."""
        t = schema.runs
        q = select(t.c.status, func.count()).group_by(t.c.status)
        with self._reader.connect() as conn:
            return {RunStatus(s): int(n) for s, n in conn.execute(q)}

    def runs_active_since(self, moment: datetime) -> list[RunSpan]:
        """Runs that held slots at some time from ``moment`` on: still queued or running, or
        ended after it (pools over time on the board)."""
        t = schema.runs
        q = select(t.c.pipeline, t.c.partition, t.c.status, t.c.pool, t.c.slots, t.c.queued_at,
                   t.c.started_at, t.c.ended_at).where(
            (t.c.ended_at.is_(None)) | (t.c.ended_at >= format_time(moment))).order_by(t.c.seq)
        with self._reader.connect() as conn:
            return [RunSpan(p, k, RunStatus(s), *rest) for p, k, s, *rest in conn.execute(q)]

    def queue_seconds_histogram(self, bounds: Sequence[float]) -> tuple[list[int], float, int]:
        """How many started runs waited at most each of ``bounds`` seconds between being queued
        (their inputs all there) and starting (cumulative, as Prometheus wants), the sum of the
        waits and the number of runs; counted in one query."""
        t = schema.runs
        waited = t.c.queue_seconds
        cols = [func.sum(case((waited <= b, 1), else_=0)) for b in bounds]
        q = select(*cols, func.sum(waited), func.count(waited)).where(waited.is_not(None))
        with self._reader.connect() as conn:
            row = conn.execute(q).one()
        return [int(v or 0) for v in row[:len(bounds)]], float(row[-2] or 0.0), int(row[-1] or 0)

    def first_plans(self, due_from: datetime) -> list[FirstPlan]:
        """The plan as first made (``deliverable.planned``) of every deliverable due at or after
        ``due_from``, by due time."""
        t = schema.first_plans
        q = select(t.c.pipeline, t.c.partition, t.c.due, t.c.predicted_start,
                   t.c.predicted_finish, t.c.planned_at, t.c.policy).where(
            t.c.due >= format_time(due_from)).order_by(t.c.due, t.c.pipeline, t.c.partition)
        with self._reader.connect() as conn:
            return [FirstPlan(*r) for r in conn.execute(q)]

    def recent_events(self, types: Sequence[str], limit: int = 1000) -> list[tuple[int, Event]]:
        """The newest ``limit`` events of the given types, newest first (check results for the
        board)."""
        q = select(schema.events.c.seq, schema.events.c.payload).where(
            schema.events.c.type.in_(list(types))).order_by(schema.events.c.seq.desc()).limit(limit)
        with self._reader.connect() as conn:
            return [(seq, from_dict(json.loads(p))) for seq, p in conn.execute(q)]

    # -- andon cords ---------------------------------------------------------------------------

    def cords(self, cord_id: str | None = None, status: tuple[str, ...] = (),
              asset: str | None = None, partition: str | None = None,
              first: tuple[str, ...] = (), limit: int | None = None, offset: int = 0
              ) -> list[dict[str, Any]]:
        """Andon cords, newest first (one, of some statuses, on one asset or partition); those
        of a status in ``first`` before the others; ``limit`` of them from ``offset``."""
        with self._reader.connect() as conn:
            return cordviews.cord_rows(conn, cord_id, status, asset, partition, first, limit,
                                       offset)

    def halts(self, cord_id: str | None = None) -> list[dict[str, Any]]:
        """Every (pipeline, partition) an open cord halts, with the cord, its bad partition and
        reason."""
        with self._reader.connect() as conn:
            return cordviews.halt_rows(conn, cord_id)

    def cord_outputs(self, cord_id: str) -> list[dict[str, Any]]:
        """The suspect outputs of one cord and what was done with each."""
        with self._reader.connect() as conn:
            return cordviews.output_rows(conn, cord_id)

    def consumers_of(self, assets: Sequence[str]) -> dict[str, list[str]]:
        """The registered consumers of ``assets`` (``andon.store.access``), by data set."""
        out: dict[str, list[str]] = {}
        with self.read() as conn:
            for row in access.consumer_rows(conn, list(assets)):
                out.setdefault(row["asset"], []).append(row["consumer"])
        return out

    def sync_catalog(self, rows: Iterable[dict[str, Any]]) -> int:
        """Write the project files' catalog entries in one transaction
        (``andon.store.catalog.sync``); the number of rows it changed."""
        with self._write() as conn:
            return catalog.sync(conn, rows)

    def keep_drift_reports(self, rows: Sequence[driftreports.KeptReport]) -> int:
        """Keep computed drift reports (a cache: ``andon.store.driftreports.keep``)."""
        with self._write() as conn:
            return driftreports.keep(conn, rows)

    # -- tokens --------------------------------------------------------------------------------

    def add_token(self, sha256: str, role: str, name: str, now: datetime) -> None:
        """Record an API token by the SHA-256 of its value (the value itself is never stored)."""
        with self._write() as conn:
            conn.execute(schema.tokens.insert().values(sha256=sha256, role=role, name=name,
                                                       created_at=format_time(now)))

    def token_role(self, sha256: str) -> str | None:
        """The role of a token that is not revoked, else None."""
        t = schema.tokens
        with self._reader.connect() as conn:
            row = conn.execute(select(t.c.role).where(t.c.sha256 == sha256,
                                                      t.c.revoked_at.is_(None))).first()
        return row.role if row else None

    def token_name(self, sha256: str) -> str:
        """The label of a token that is not revoked ('' when unknown or unlabelled)."""
        t = schema.tokens
        with self._reader.connect() as conn:
            row = conn.execute(select(t.c.name).where(t.c.sha256 == sha256,
                                                      t.c.revoked_at.is_(None))).first()
        return str(row.name) if row else ""

    def revoke_token(self, sha256: str, now: datetime) -> bool:
        """Revoke a token; False when there was no such token not yet revoked."""
        t = schema.tokens
        with self._write() as conn:
            res = conn.execute(update(t).where(t.c.sha256 == sha256, t.c.revoked_at.is_(None))
                               .values(revoked_at=format_time(now)))
            return bool(res.rowcount)

    def revoke_token_id(self, token_id: str, now: datetime) -> bool:
        """Revoke the token with this id (``andon.model.tokens.token_id``); False when there was no
        such token not yet revoked."""
        t = schema.tokens
        with self._write() as conn:
            res = conn.execute(update(t).where(func.substr(t.c.sha256, 1, ID_LENGTH) == token_id,
                                               t.c.revoked_at.is_(None))
                               .values(revoked_at=format_time(now)))
            return bool(res.rowcount)

    def tokens(self) -> list[TokenView]:
        """Every token, oldest first, by id (never its SHA-256)."""
        t = schema.tokens
        with self._reader.connect() as conn:
            rows = conn.execute(select(t).order_by(t.c.created_at, t.c.sha256)).all()
        return [TokenView(token_id(r.sha256), r.name, r.role, r.created_at, r.revoked_at)
                for r in rows]

    def schema_version(self) -> int:
        """The newest schema migration applied to the database (``schema.LATEST`` once open)."""
        with self._reader.connect() as conn:
            return int(conn.execute(select(func.max(schema.schema_version.c.version))).scalar() or 0)

    def ping(self) -> bool:
        """Whether the database answers and is still the one opened (health checks)."""
        if self.unavailable() is not None:
            return False
        try:
            with self._reader.connect() as conn:
                conn.execute(select(1))
            return True
        except OperationalError:
            return False

    def close(self) -> None:
        """Close every pooled connection."""
        self._writer.dispose()
        self._reader.dispose()
