"""One scheduler per store, wherever its state folder is.

Two schedulers on one store would both start every run, so the scheduler's lock belongs to the
database, not to the folder a scheduler was started from:

- SQLite: an exclusive ``flock`` on ``<database file>-scheduler.lock``, beside the database
  (symlinks resolved; the file names its holder: pid, host, state folder);
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) on a key derived from
  the database and schema names, held on a connection of its own for the scheduler's life (its
  ``application_name`` names the holder): the lead of ``andon.store.leader``, which a team's
  standbys wait for.

The kernel drops the ``flock`` and PostgreSQL the advisory lock when the holder dies, even by
``kill -9``, so a crashed scheduler never blocks the next one.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import make_url

from andon.model.errors import ConfigError
from andon.store.identity import identity_of
from andon.store.leader import Lead

HINT = ("stop it first, or talk to it: the CLI uses a running `andon up` by itself; a second "
        "scheduler on one store would start every run twice")


class SchedulerLock(Protocol):
    """Held from ``lock_scheduler`` until ``release`` (idempotent). ``path``: the lock file
    (SQLite), which the store watches: once it is deleted or replaced, another scheduler can
    take a new one, so this one must stop writing."""

    path: Path | None

    def release(self) -> None: ...


def database_file(url: str) -> Path | None:
    """The database file of a SQLite URL (absolute); None for another database or an
    in-memory one."""
    if not url.startswith("sqlite"):
        return None
    name = make_url(url).database or ""
    if name in ("", ":memory:") or "mode=memory" in url:
        return None
    return Path(name).absolute()


def lock_scheduler(url: str, holder: str) -> SchedulerLock:
    """Take the scheduler lock of the store at ``url`` for this process, described to others as
    ``holder`` (e.g. ``pid 12 on host-a, state folder /srv/p/.andon``), or raise ConfigError
    naming the scheduler that holds it. Taken before the store is opened (and migrated)."""
    if url.startswith("postgresql"):
        lead = Lead(url, holder)  # andon.store.leader: the lock is a team's lead
        try:
            if not lead.try_take():
                raise _refused(lead.held_by(), lead.shown)
        except BaseException:
            lead.release()
            raise
        return lead
    path = database_file(url)
    return _database_lock(path, holder) if path is not None else _NoLock()


class _NoLock:
    """An in-memory SQLite URL: the store itself refuses it, with the reason."""

    path: Path | None = None

    def release(self) -> None:
        pass


def _refused(holder: str, store: str) -> ConfigError:
    return ConfigError(f"another andon scheduler ({holder}) is already running on this store",
                       where=store, hint=HINT)


class FileLock:
    """An exclusive ``flock`` on ``path``, held until ``release``; the file names its ``holder``
    for the next one who tries. ``refused(named)`` is the error when another process holds it
    (``named``: what the file says of the holder), ``cannot_open(exc)`` the one when the file
    cannot be opened or made. A file deleted or replaced between the open and the flock is
    opened again: the lock is always on the file that is at ``path`` now."""

    def __init__(self, path: Path, holder: str, refused: Callable[[str], ConfigError],
                 cannot_open: Callable[[OSError], ConfigError]) -> None:
        self.path: Path | None = path
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                raise cannot_open(exc) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                named = os.read(fd, 4096).decode(errors="replace").strip() or "holder unknown"
                os.close(fd)
                raise refused(named) from None
            if _same_file(fd, path):
                break
            os.close(fd)  # deleted or replaced between open and flock: lock what is there now
        os.ftruncate(fd, 0)
        os.write(fd, holder.encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)  # drops the lock; the file stays (deleting it would race)
            self._fd = -1


def _database_lock(database: Path, holder: str) -> FileLock:
    # beside the file itself: a symlink to the database shares its lock
    real = database.resolve()
    lock = real.with_name(real.name + "-scheduler.lock")

    def cannot_open(exc: OSError) -> ConfigError:
        return ConfigError(f"cannot open the store sqlite:///{database}: cannot create its "
                           f"scheduler lock: {exc.strerror}", where=str(lock),
                           hint="check the database URL (ANDON_DATABASE_URL / database_url), "
                                "that its folder exists, and the permissions")

    return FileLock(lock, holder, lambda named: _refused(named, str(database)), cannot_open)


def _same_file(fd: int, path: Path) -> bool:
    held = os.fstat(fd)
    return identity_of(path) == (held.st_dev, held.st_ino)
