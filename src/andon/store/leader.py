"""The leader of a team on one PostgreSQL database, and the fencing of its writes.

Several ``andon up`` may share one PostgreSQL database (and schema). One leads: it holds a
session-level advisory lock (the key of ``andon.store.lock``, one per database and schema) on a
connection of its own, and on taking it bumps the **fencing token** of the one-row
``leader_lease`` table (and writes there who it is and where its API answers). The others stand
by blocked in ``pg_advisory_lock`` (no polling): PostgreSQL grants it the moment the leader's
session ends, even by ``kill -9``.

A leader whose session was lost while its process lives on (a network partition, a stalled
host) may still try to write. So every write transaction of a leader (``Store._write``, the one
door) first reads the lease's token ``FOR SHARE`` and compares it with its own: a take-over's
bump waits for a write in flight, and a write after the bump sees the new token and is refused
(``LostLead``, a ``StoreUnavailable``: the runner holds what it has and writes nothing more, and
``andon up`` stops). The same statement sends ``NOTIFY`` on the store's channel, delivered at
commit: standbys follow the log from there (``andon.store.feed``).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import NullPool

from andon.events.codec import format_time
from andon.model.errors import ConfigError
from andon.store.identity import StoreUnavailable

log = logging.getLogger("andon.store.leader")
PG_NAME_LIMIT = 63  # PostgreSQL keeps this much of an application_name
# the lock key: one per database and schema (tests and teams share a server)
PG_KEY = ("SELECT hashtextextended('andon scheduler ' || current_database() || '.' || "
          "current_schema(), 0)")
_PG_HOLDER = text(
    "SELECT a.application_name, a.pid, host(a.client_addr) FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
    "AND l.classid::bigint = :hi AND l.objid::bigint = :lo")
_BUMP = text(
    "INSERT INTO leader_lease (id, token, holder, api_url, since) "
    "VALUES (1, 1, :holder, '', :since) ON CONFLICT (id) DO UPDATE SET "
    "token = leader_lease.token + 1, holder = :holder, api_url = '', since = :since "
    "RETURNING token")
# one round trip per write: the token, row-locked against a take-over's bump until commit, and
# the NOTIFY that standbys hear once the transaction commits (never if it rolls back)
_FENCE = text("SELECT token, pg_notify(:channel, '') FROM leader_lease WHERE id = 1 FOR SHARE")
_LEASE = text("SELECT token, holder, api_url, since FROM leader_lease WHERE id = 1")


def channel_of(key: int) -> str:
    """The NOTIFY channel of the store whose lock key is ``key`` (one per database and schema)."""
    return f"andon_events_{key & 0xFFFFFFFFFFFF:012x}"


@dataclass(frozen=True)
class Lease:
    """Who leads: the fencing token, the holder (pid, host, state folder), the leader's API
    address ('' until it serves) and since when (UTC, ISO)."""

    token: int
    holder: str
    api_url: str
    since: str

    def to_json(self) -> dict[str, Any]:
        return {"token": self.token, "holder": self.holder, "api_url": self.api_url,
                "since": self.since}


def read_lease(conn: Connection) -> Lease | None:
    """The lease row, or None when no leader ever took the lead on this store."""
    row = conn.execute(_LEASE).first()
    return Lease(int(row[0]), str(row[1]), str(row[2]), str(row[3])) if row else None


def live_lease(url: str) -> Lease | None:
    """The lease of the leader holding the lock of the store at ``url`` now; None when no
    ``andon up`` holds it (then the CLI works on the store itself)."""
    lead = Lead(url, "andon cli")
    try:
        if lead.holder_row() is None:
            return None
        return lead.lease()
    finally:
        lead.release()


class LostLead(StoreUnavailable):
    """Another ``andon up`` took the lead (a newer fencing token): this one writes nothing more."""

    def __init__(self, mine: int, found: int | None) -> None:
        super().__init__("fenced", Path("leader_lease"), "lead")
        self.message = (f"this andon is no longer the leader: its fencing token is {mine}, the "
                        f"store's is {found}; nothing more is recorded by it")
        self.where = "leader_lease"
        self.hint = "another `andon up` leads now; restart this one to stand by"
        self.args = (self.message,)


class Fence:
    """A leader's check on each write transaction (``Store.fence``), and the problem the store
    reports (``Store.unavailable``) once it found the lead lost."""

    def __init__(self, token: int, channel: str, on_lost: Callable[[], None]) -> None:
        self.token = token
        self.channel = channel
        self.on_lost = on_lost
        self.lost: LostLead | None = None

    def __call__(self, conn: Connection) -> None:
        if self.lost is not None:
            raise self.lost
        row = conn.execute(_FENCE, {"channel": self.channel}).first()
        found = int(row[0]) if row is not None else None
        if found != self.token:
            self.lost = LostLead(self.token, found)
            log.error("%s", self.lost.message)
            self.on_lost()
            raise self.lost

    def problem(self) -> StoreUnavailable | None:
        return self.lost


class Lead:
    """The scheduler lock of a PostgreSQL store (``andon.store.lock.SchedulerLock``) and, once
    taken, the lead with its fencing token. ``try_take`` or ``wait`` (blocking until the holder's
    session ends; ``cancel`` from another thread gives up) take the lock, ``bump`` the token;
    ``release`` lets it go."""

    path: Path | None = None

    def __init__(self, url: str, holder: str) -> None:
        self.holder = holder
        self.shown = make_url(url).render_as_string(hide_password=True)
        self.token = 0
        name = f"andon up: {holder}"[:PG_NAME_LIMIT]
        try:
            self._engine = create_engine(url, poolclass=NullPool,
                                         connect_args={"application_name": name})
        except ModuleNotFoundError as exc:
            raise ConfigError(f"the database driver {exc.name!r} is not installed",
                              hint="pip install 'andon[postgres]'") from None
        self._conn: Any = None
        try:
            self._conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self.key = int(self._conn.exec_driver_sql(PG_KEY).scalar_one())
        except OperationalError as exc:
            self.release()
            raise ConfigError(f"cannot open the store {self.shown}: "
                              f"{str(exc.orig).strip() or type(exc.orig).__name__}",
                              hint="check the database URL (ANDON_DATABASE_URL / database_url) "
                                   "and that its server is running") from None
        self.channel = channel_of(self.key)
        self._cancelled = threading.Event()

    def try_take(self) -> bool:
        """Take the lock now if nobody holds it; False if someone does."""
        return bool(self._conn.execute(text("SELECT pg_try_advisory_lock(:k)"),
                                       {"k": self.key}).scalar())

    def wait(self) -> bool:
        """Block until the lead is this one's (True) or ``cancel`` was called (False)."""
        try:
            self._conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
        except DBAPIError:
            if self._cancelled.is_set():
                return False
            raise
        return not self._cancelled.is_set()

    def cancel(self) -> None:
        """Make a ``wait`` in another thread give up (the standby is stopping)."""
        self._cancelled.set()
        with contextlib.suppress(Exception):
            self._conn.connection.dbapi_connection.cancel()

    def bump(self) -> int:
        """Make the lead this one's in the lease: the next fencing token, this holder, no API
        address yet. Called with the lock held, once the store is open (migrated)."""
        self.token = int(self._conn.execute(_BUMP, {
            "holder": self.holder, "since": format_time(datetime.now(UTC))}).scalar_one())
        log.info("took the lead (fencing token %d)", self.token)
        return self.token

    def advertise(self, api_url: str) -> None:
        """Write where this leader's API answers into the lease (while the token is still ours)."""
        self._conn.execute(text("UPDATE leader_lease SET api_url = :u WHERE id = 1 AND token = :t"),
                           {"u": api_url, "t": self.token})

    def lease(self) -> Lease | None:
        """The lease row as it is now."""
        return read_lease(self._conn)

    def fence(self, on_lost: Callable[[], None]) -> Fence:
        """The write check for this lead's store (``Store.fence``)."""
        return Fence(self.token, self.channel, on_lost)

    def holder_row(self) -> Any:
        """The holder's (application_name, pid, address) as PostgreSQL knows it, or None."""
        return self._conn.execute(_PG_HOLDER, {"hi": (self.key >> 32) & 0xFFFFFFFF,
                                               "lo": self.key & 0xFFFFFFFF}).first()

    def held_by(self) -> str:
        """Who holds the lock, as far as PostgreSQL knows."""
        row = self.holder_row()
        if row is None:  # it just let go: the next try will likely succeed
            return "holder unknown"
        name, pid, addr = row
        name = name.removeprefix("andon up: ") or "not andon up"
        return f"{name}; PostgreSQL session {pid}" + (f" from {addr}" if addr else "")

    def release(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # a dead connection has let go already
                self._conn.close()  # ending the session drops the advisory lock
            self._conn = None
        self._engine.dispose()
