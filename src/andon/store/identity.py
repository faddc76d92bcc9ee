"""Whether the files a store writes are still the ones it opened.

A scheduler keeps its SQLite database open for days. If the file is deleted, or replaced by
another (a restore copied over it with ``mv``, a clean-up that removed the state folder), the open
connection goes on writing to the old, unlinked inode: every event acknowledged from then on is
lost the moment the process exits. So the store remembers the identity (device and inode) of its
database file, and of any folder it is told to watch (the state folder), and compares it with the
path before each write transaction and each new reading connection. A mismatch is
``StoreUnavailable`` (HTTP 503): nothing is written; once the original file is back at its path
the store works again.

A file copied *over* the database in place (same inode) cannot be told apart this way; it is a
corrupt database to SQLite, not a replaced one.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path

from andon.model.errors import EXIT_FAILED, AndonError

MISSING = "missing"
REPLACED = "replaced"


class StoreUnavailable(AndonError):
    """The store's database (or its state folder) was deleted or replaced under a running
    process: writes are refused until it is back. ``state`` is MISSING or REPLACED."""

    http_status = 503
    exit_code = EXIT_FAILED

    def __init__(self, state: str, path: Path, kind: str = "database file") -> None:
        what = "was deleted" if state == MISSING else "was replaced by another one"
        super().__init__(
            f"the store's {kind} {what} while andon was running; nothing more is recorded",
            where=str(path),
            hint="put the original back at that path, or stop this `andon up` and start it again "
                 "(it then opens what is at the path now)")
        self.state = state
        self.path = path


def identity_of(path: Path) -> tuple[int, int] | None:
    """The (device, inode) of what is at ``path`` now; None when nothing is."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_dev, st.st_ino


class FileIdentity:
    """The (device, inode) of watched paths, taken when first watched. Thread-safe."""

    def __init__(self) -> None:
        self._known: dict[Path, tuple[str, tuple[int, int]]] = {}
        self._guards: list[Callable[[], StoreUnavailable | None]] = []
        self._lock = threading.Lock()

    def guard(self, problem: Callable[[], StoreUnavailable | None]) -> None:
        """Also report what ``problem`` finds (no I/O: a team leader's lost lead,
        ``andon.store.leader.Fence.problem``)."""
        with self._lock:
            self._guards.append(problem)

    def watch(self, path: Path, kind: str) -> None:
        """Remember what is at ``path`` now (it must exist); ``kind`` names it in errors
        ("database file", "state folder")."""
        found = identity_of(path)
        if found is None:
            raise FileNotFoundError(path)
        with self._lock:
            self._known[path] = (kind, found)

    def problem(self) -> StoreUnavailable | None:
        """The first watched path that is gone or is another file now, as the error to raise;
        None while all are what they were."""
        with self._lock:
            known = list(self._known.items())
        for path, (kind, expected) in known:
            found = identity_of(path)
            if found != expected:
                return StoreUnavailable(MISSING if found is None else REPLACED, path, kind)
        with self._lock:
            guards = list(self._guards)
        return next((p for p in (guard() for guard in guards) if p is not None), None)

    def check(self) -> None:
        """Raise ``StoreUnavailable`` if a watched path is gone or replaced."""
        error = self.problem()
        if error is not None:
            raise error
