"""Describe what a run wrote (size, content fingerprint and, when told, row count), and the door
through which andon reads a data file: only regular files (and folders of them) inside the
project's roots are ever opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path

from andon.events import OutputWritten
from andon.model.errors import UnsafePath
from andon.model.limits import inside

_KINDS = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"))
_HINT = ("give andon a regular file (or a folder of them) inside the project folder or its "
         "[project] data_roots; a symlink is followed only when it stays inside them")


def real_roots(project_dir: Path | str, data_roots: Sequence[str] = ()) -> tuple[str, ...]:
    """The project folder and its declared data roots with symlinks resolved."""
    return tuple(os.path.realpath(r) for r in (str(project_dir), *data_roots))


def inside_roots(path: Path | str, roots: Sequence[str]) -> bool:
    """Whether ``path``, symlinks resolved, is inside one of ``roots`` (see ``real_roots``)."""
    return inside(os.path.realpath(path), roots)


def _special(mode: int) -> str:
    """What a non-regular, non-folder file is (``"a FIFO (named pipe)"``...), or ""."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "" if stat.S_ISREG(mode) or stat.S_ISDIR(mode) else "not a regular file"


def check_source(path: Path, roots: Sequence[str] | None) -> os.stat_result | None:
    """The status of the file a symlink-free look finds at ``path`` (None when nothing is there);
    UnsafePath when it leads out of ``roots`` (None: not checked) or is not a regular file or
    folder. Never opens it: opening a FIFO would wait for a writer forever."""
    try:
        os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnsafePath(f"{path} cannot be looked at: {exc.strerror}", hint=_HINT) from None
    real = os.path.realpath(path)
    if roots is not None and not inside(real, roots):
        raise UnsafePath(f"{path} leads to {real}, outside the project's roots "
                         f"({', '.join(roots)})", hint=_HINT)
    try:
        status = os.stat(real)
    except FileNotFoundError:  # a dangling symlink: nothing there yet
        return None
    kind = _special(status.st_mode)
    if kind:
        raise UnsafePath(f"{path} is {kind}, not a regular file; andon does not read it",
                         hint=_HINT)
    return status


def _hash_file(path: Path) -> tuple[int, str]:
    # O_NONBLOCK: should the file have been swapped for a FIFO since it was looked at, the open
    # returns at once and fstat tells; O_NOCTTY: a terminal never becomes ours
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as fh:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise UnsafePath(f"{path} is {_special(status.st_mode) or 'not a regular file'}, not "
                             "a regular file; andon does not read it", hint=_HINT)
        digest = hashlib.sha256()
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
        return status.st_size, digest.hexdigest()


def fingerprint(path: Path, roots: Sequence[str] | None = None) -> tuple[int, str]:
    """(size in bytes, SHA-256) of a file, or of a folder's files in sorted order; (0, "") when
    nothing is there. UnsafePath when the file, or an entry of the folder, is a FIFO, a device or
    a socket, or (with ``roots``, see ``real_roots``) a symlink leading out of them."""
    status = check_source(path, roots)
    if status is None:
        return 0, ""
    if stat.S_ISREG(status.st_mode):
        return _hash_file(path)
    digest, size = hashlib.sha256(), 0
    for root, _dirs, files in sorted(os.walk(path)):
        for name in sorted(files):
            sub = Path(root) / name
            sub_size, sub_hash = fingerprint(sub, roots)
            size += sub_size
            digest.update(f"{sub.relative_to(path)}:{sub_hash}\n".encode())
    return size, digest.hexdigest()


def describe_outputs(outputs: dict[str, str], partition: str, project_dir: str,
                     rows: dict[str, int]) -> tuple[OutputWritten, ...]:
    result = []
    for asset, location in outputs.items():
        size, digest = fingerprint(Path(location))
        rel = os.path.relpath(location, project_dir)
        result.append(OutputWritten(asset, partition, rel, size, rows.get(asset), digest))
    return tuple(result)
