"""Where a project's running ``andon up`` answers, found from its state folder: what the command
line asks before every command, so kept light: the standard library only (the fast door of
``andon status``, ``andon.cli.fast``, reads it before anything else is imported)."""

from __future__ import annotations

import fcntl
import json
import os
import socket
from pathlib import Path


def server_url(state_dir: Path) -> str | None:
    """The URL of a running ``andon up`` of this project, if one is alive: one holds the state
    folder's lock (the kernel drops it when its holder dies, even by ``kill -9``: a pid that
    answers a signal may be a dead server not yet reaped, or another process) and its address
    in ``server.json`` does not refuse a connection."""
    try:
        url = str(json.loads((state_dir / "server.json").read_text())["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if held(folder_lock(state_dir)) and not _refused(url) else None


def folder_lock(state_dir: Path) -> Path:
    """The lock a running ``andon up`` holds on its state folder."""
    return state_dir / "scheduler.lock"


def held(path: Path) -> bool:
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
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=5):
            return False
    except ConnectionRefusedError:
        return True
    except (OSError, ValueError):  # slow, unreachable or malformed: let the request tell
        return False
