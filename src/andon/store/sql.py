"""The event store on SQL (SQLite embedded, PostgreSQL for teams), behind one contract.

SQLite: WAL, ``synchronous=FULL``, one writer (a lock in this process, ``BEGIN IMMEDIATE`` against
other processes, a busy timeout), readers on their own connections. A batch of events is one
transaction (group commit): durable once ``append`` returns.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool, StaticPool

from andon.events import Event, format_time, from_dict
from andon.model.errors import ConfigError
from andon.store import schema
from andon.store.projection import payload, project

BUSY_TIMEOUT_MS = 30_000


def _sqlite_engine(url: str, write: bool) -> Engine:
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                           poolclass=StaticPool if write else QueuePool)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
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
        if self.dialect not in ("sqlite", "postgresql"):
            raise ConfigError(f"unsupported database URL {url.split('@')[-1]!r}",
                              hint="use sqlite:///path/andon.db or postgresql+psycopg://...")
        try:
            if self.dialect == "sqlite":
                self._writer = _sqlite_engine(url, write=True)
                self._reader = _sqlite_engine(url, write=False)
            else:
                self._writer = self._reader = create_engine(url, pool_pre_ping=True)
        except ModuleNotFoundError as exc:
            raise ConfigError(f"the database driver {exc.name!r} is not installed",
                              hint="pip install 'andon[postgres]'") from None
        self._lock = threading.Lock()
        self._write_conn = None if self.dialect == "sqlite" else None
        self.migrate()

    # -- writing -------------------------------------------------------------------------------

    def migrate(self) -> list[int]:
        with self._lock, self._writer.begin() as conn:
            return schema.migrate(conn, format_time(datetime.now(UTC)))

    def _insert_event(self) -> Any:
        ins = (sqlite.insert if self.dialect == "sqlite" else postgresql.insert)(schema.events)
        return ins.on_conflict_do_nothing(index_elements=["id"]).returning(schema.events.c.seq)

    def append(self, events: Sequence[Event]) -> list[Event]:
        """Store ``events`` in one transaction; return those that were new (an id already in the
        log is skipped, so ingesting an event twice changes nothing)."""
        if not events:
            return []
        stored = []
        stmt = self._insert_event()
        with self._lock, self._writer.begin() as conn:
            for ev in events:
                seq = conn.execute(stmt, dict(id=ev.id, type=ev.name, at=format_time(ev.at),
                                              payload=payload(ev))).scalar()
                if seq is None:
                    continue
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
        after = 0
        while True:
            chunk = self.events(after, batch)
            if not chunk:
                return
            after = chunk[-1][0]
            yield from (e for _, e in chunk)

    def has_event(self, event_id: str) -> bool:
        with self._reader.connect() as conn:
            return conn.execute(select(schema.events.c.seq).where(
                schema.events.c.id == event_id)).first() is not None

    def count_events(self, type_: str | None = None) -> int:
        q = select(func.count()).select_from(schema.events)
        if type_:
            q = q.where(schema.events.c.type == type_)
        with self._reader.connect() as conn:
            return int(conn.execute(q).scalar() or 0)

    def last_seq(self) -> int:
        with self._reader.connect() as conn:
            return int(conn.execute(select(func.max(schema.events.c.seq))).scalar() or 0)

    def partitions(self, asset: str | None = None) -> list[dict[str, Any]]:
        q = select(schema.partitions).order_by(schema.partitions.c.asset,
                                               schema.partitions.c.partition)
        if asset:
            q = q.where(schema.partitions.c.asset == asset)
        with self._reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def partition_versions(self, asset: str, key: str) -> list[dict[str, Any]]:
        t = schema.partition_versions
        q = select(t).where(t.c.asset == asset, t.c.partition == key).order_by(t.c.version)
        with self._reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def run(self, run_id: str) -> dict[str, Any] | None:
        with self._reader.connect() as conn:
            row = conn.execute(select(schema.runs).where(schema.runs.c.run_id == run_id)).first()
        return _run_row(row._mapping) if row else None

    def runs(self, pipeline: str | None = None, status: str | None = None,
             partition: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Runs, newest first, filtered by pipeline, status and partition."""
        t = schema.runs
        q = select(t).order_by(t.c.seq.desc()).limit(limit).offset(offset)
        if pipeline:
            q = q.where(t.c.pipeline == pipeline)
        if status:
            q = q.where(t.c.status == status)
        if partition:
            q = q.where(t.c.partition == partition)
        with self._reader.connect() as conn:
            return [_run_row(r._mapping) for r in conn.execute(q)]

    def latest_runs(self) -> list[dict[str, Any]]:
        """The newest run of every (pipeline, partition)."""
        t = schema.runs
        newest = select(func.max(t.c.seq).label("seq")).group_by(t.c.pipeline, t.c.partition)
        q = select(t.c.run_id, t.c.pipeline, t.c.partition, t.c.status, t.c.attempt,
                   t.c.ended_at, t.c.error_type, t.c.error_message).where(t.c.seq.in_(newest))
        with self._reader.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def run_counts(self) -> dict[str, int]:
        t = schema.runs
        with self._reader.connect() as conn:
            return {s: n for s, n in conn.execute(select(t.c.status, func.count()).group_by(t.c.status))}

    # -- tokens --------------------------------------------------------------------------------

    def add_token(self, sha256: str, role: str, name: str, now: datetime) -> None:
        with self._lock, self._writer.begin() as conn:
            conn.execute(schema.tokens.insert().values(sha256=sha256, role=role, name=name,
                                                       created_at=format_time(now)))

    def token_role(self, sha256: str) -> str | None:
        t = schema.tokens
        with self._reader.connect() as conn:
            row = conn.execute(select(t.c.role).where(t.c.sha256 == sha256,
                                                      t.c.revoked_at.is_(None))).first()
        return row.role if row else None

    def revoke_token(self, sha256: str, now: datetime) -> bool:
        t = schema.tokens
        with self._lock, self._writer.begin() as conn:
            res = conn.execute(update(t).where(t.c.sha256 == sha256, t.c.revoked_at.is_(None))
                               .values(revoked_at=format_time(now)))
            return bool(res.rowcount)

    def ping(self) -> bool:
        try:
            with self._reader.connect() as conn:
                conn.execute(select(1))
            return True
        except OperationalError:
            return False

    def close(self) -> None:
        self._writer.dispose()
        self._reader.dispose()


def _run_row(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["inputs"] = json.loads(out["inputs"] or "[]")
    out["outputs"] = json.loads(out["outputs"] or "[]")
    return out


def open_store(url: str) -> Store:
    """Open (and migrate) the store at ``url``."""
    return Store(url)
