"""Where a project's running ``andon up`` answers, found from its state folder: what the command
line asks before every command, so kept light: the standard library only (the fast door of
``andon status``, ``andon.cli.fast``, reads it before anything else is imported)."""

from __future__ import annotations

import fcntl
import json
import os

TYPE_CHECKING = False  # nor typing, pathlib or socket: each costs the fast door milliseconds
if TYPE_CHECKING:
    from pathlib import Path

LOCK_NAME = "scheduler.lock"  # in the state folder, held by its running andon up


def server_url(state_dir: Path) -> str | None:
    """The URL of a running ``andon up`` of this project, if one is alive: one holds the state
    folder's lock (the kernel drops it when its holder dies, even by ``kill -9``: a pid that
    answers a signal may be a dead server not yet reaped, or another process) and its address
    in ``server.json`` does not refuse a connection."""
    url = published_url(state_dir)
    return url if url is not None and not _refused(url) else None


def published_url(state_dir: str | os.PathLike[str]) -> str | None:
    """The address in the state folder's ``server.json`` while a live process holds the
    folder's lock; None otherwise. Not probed: a caller that connects learns it from a refusal
    (``server_url`` probes)."""
    try:
        with open(os.path.join(state_dir, "server.json"), encoding="utf-8") as fh:
            url = str(json.loads(fh.read(65536))["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if held(os.path.join(state_dir, LOCK_NAME)) else None


def folder_lock(state_dir: Path) -> Path:
    """The lock a running ``andon up`` holds on its state folder."""
    return state_dir / LOCK_NAME


def held(path: str | os.PathLike[str]) -> bool:
    """Whether a live process holds the ``flock`` on ``path``. Probed with a shared lock, let go
    at once: only a scheduler starting in that instant could find it taken (and say so)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # drops the probe's lock
    return False


def _refused(url: str) -> bool:
    """Whether nothing listens at ``url`` (a connection refused: no request was sent, so the
    caller may safely work on the store instead)."""
    import socket
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):  # slow, unreachable or malformed: let the request tell
        return False
