"""Which recorded locations a sweep may remove: only data andon recorded, inside the project
folder or a folder of ``[project] data_roots``, reached without a symlink out of them, never a
root itself, the state folder (``.andon``), ``.git`` or ``andon.toml``, and only a regular file or
a folder (no FIFO, device or socket). A location is a path the log holds: a hostile or stale log
must not turn the sweep into ``rm`` of anything else."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

PROTECTED = (".andon", ".git", "andon.toml")  # under the project folder: never data
MAX_LOCATION = 4096  # characters of a recorded location


class Refused(Exception):
    """The location may not be removed: the message says why."""


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def target(location: str, project_root: Path, data_roots: Sequence[str]) -> Path:
    """The path the sweep would remove for ``location`` (relative: to the project folder);
    Refused naming the reason. A missing path is returned (nothing to remove, but its
    tombstone may still be recorded)."""
    if not location or len(location) > MAX_LOCATION or any(
            ord(c) < 32 or c == "\x7f" for c in location):
        raise Refused("not a location andon records (empty, too long or with control characters)")
    project = os.path.normpath(os.path.abspath(project_root))
    roots = [project, *(os.path.normpath(r) for r in data_roots)]
    raw = location if os.path.isabs(location) else os.path.join(project, location)
    path = os.path.normpath(raw)
    if not any(_inside(path, r) for r in roots):
        raise Refused(f"{location} is outside the project folder and its data roots")
    if path in roots:
        raise Refused(f"{location} is a data root itself, not data")
    if _inside(path, project) and path != project:
        first = os.path.relpath(path, project).split(os.sep)[0]
        if first in PROTECTED:
            raise Refused(f"{location} is andon's own ({first}), not data")
    real_roots = [os.path.realpath(r) for r in roots]
    parent = os.path.realpath(os.path.dirname(path))
    if not any(_inside(parent, r) for r in real_roots):
        raise Refused(f"{location} is reached through a symlink out of the data roots")
    if os.path.islink(path):
        raise Refused(f"{location} is a symlink: andon records the data, not links to it")
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return Path(path)
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise Refused(f"{location} is neither a file nor a folder (a FIFO, device or socket)")
    return Path(path)


def remove(path: Path) -> bool:
    """Remove the file or folder at ``path`` (a folder's symlinks are unlinked, never
    followed); whether something was there."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    if stat.S_ISDIR(mode):
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
    return True


def present(path: Path) -> bool:
    return os.path.lexists(path)
