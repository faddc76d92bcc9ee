"""Announce source partitions when their files land: Linux inotify, not a scanning loop.

A source declared with ``watch="landing/orders/{partition}.csv"`` is announced when a file
matching the template is closed after writing or moved into place. The thread sleeps in
``select`` on the inotify descriptor: an idle watcher uses no CPU. ``Inotify`` is the descriptor
itself (libc through ctypes); the board's log streams wake on it too (``andon.web.logstream``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import re
import select
import struct
import threading
from collections.abc import Callable
from pathlib import Path

from andon.executors.outputs import inside_roots, real_roots
from andon.model.graph import Graph
from andon.model.limits import inside

log = logging.getLogger("andon.live.watcher")
Announce = Callable[[str, str], None]


IN_MODIFY = 0x00000002
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_IGNORED = 0x00008000  # the watch is gone (its file or folder was deleted)
_HEADER = struct.Struct("iIII")
Target = tuple[str, Path, re.Pattern[str]]


def _parse(data: bytes) -> tuple[list[tuple[int, int, str]], bool]:
    """(watch descriptor, mask, file name or "") of each inotify event in ``data``, and whether
    the kernel's queue overflowed (events were dropped)."""
    out, pos, overflow = [], 0, False
    while pos + _HEADER.size <= len(data):
        wd, mask, _cookie, length = _HEADER.unpack_from(data, pos)
        raw = data[pos + _HEADER.size: pos + _HEADER.size + length].rstrip(b"\0")
        pos += _HEADER.size + length
        if mask & IN_Q_OVERFLOW:
            overflow = True
        else:
            out.append((wd, mask, os.fsdecode(raw)))
    return out, overflow


class Inotify:
    """One Linux inotify descriptor (libc through ctypes): add watches and read what happened.
    It is readable when events wait, so a thread sleeps on it in ``select`` and an event loop
    takes it as a reader; ``nonblocking`` makes ``read`` return nothing instead of waiting."""

    def __init__(self, nonblocking: bool = False) -> None:
        self._libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        flags = os.O_CLOEXEC | (os.O_NONBLOCK if nonblocking else 0)
        self.fd: int = self._libc.inotify_init1(flags)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1 failed")

    def fileno(self) -> int:
        return self.fd

    def add(self, path: Path, mask: int) -> int:
        """Watch ``path`` (a file, or a folder and the files in it) for ``mask``; the watch
        descriptor (the same one again for a path watched already)."""
        wd: int = self._libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"cannot watch {path}: {os.strerror(errno)}")
        return wd

    def remove(self, wd: int) -> None:
        self._libc.inotify_rm_watch(self.fd, wd)  # fails only for a watch gone already

    def read(self) -> tuple[list[tuple[int, int, str]], bool]:
        """The events waiting: (watch descriptor, mask, name) each, and whether some were lost."""
        try:
            return _parse(os.read(self.fd, 65536))
        except BlockingIOError:
            return [], False

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _pattern(template: str) -> re.Pattern[str]:
    parts = template.split("{partition}")
    groups = ["(?P<partition>[^/]+)"] + ["(?P=partition)"] * (len(parts) - 2)
    text = re.escape(parts[0]) + "".join(g + re.escape(p) for g, p in zip(groups, parts[1:]))
    return re.compile(text + "$")


def watched(graph: Graph, root: Path) -> list[Target]:
    """(asset, folder to watch, pattern of the file's absolute path) per watched source whose
    folder is inside the project or its data roots (validation refuses others at load; a folder
    that a symlink leads elsewhere since is logged and not watched)."""
    out = []
    base = os.path.abspath(root)
    roots = real_roots(base, graph.data_roots)
    for asset in graph.assets.values():
        if asset.source and asset.watch:
            template = os.path.normpath(os.path.join(base, asset.watch))
            folder = Path(template).parent  # {partition} is in the file name
            if not inside(str(folder), [base, *graph.data_roots]) or \
                    (folder.exists() and not inside_roots(folder, roots)):
                log.warning("not watching %s for %s: it is outside the project's roots",
                            folder, asset.name)
                continue
            out.append((asset.name, folder, _pattern(template)))
    return out


def _announce_file(targets: list[Target], root: Path, path: Path, announce: Announce) -> None:
    """Announce ``path`` for each watched source whose pattern it matches; a refusal (a FIFO, a
    socket, a symlink out of the roots: ``notify`` never opens those) is logged and skipped."""
    full = os.path.normpath(os.path.abspath(path))
    rel = os.path.relpath(full, os.path.abspath(root))
    for asset, _folder, pattern in targets:
        match = pattern.match(full)
        if match:
            try:
                announce(asset, match.group("partition"))
            except Exception as exc:  # a bad file name must not stop the watcher
                log.warning("file %s for %s not announced: %s", rel, asset, exc)


def _scan(targets: list[Target], root: Path, announce: Announce) -> None:
    """Announce the files already there once: ones that landed while andon was down (or while
    the kernel's event queue overflowed). Announcing known data again records nothing."""
    for folder in sorted({folder for _, folder, _ in targets}):
        try:
            # not is_file(): that would skip a FIFO silently; announce refuses it with a reason
            paths = sorted(p for p in folder.iterdir() if not p.is_dir())
        except OSError as exc:
            log.warning("cannot list %s: %s", folder, exc)
            continue
        for path in paths:
            _announce_file(targets, root, path, announce)


def start_watcher(graph: Graph, root: Path, announce: Announce,
                  stop: threading.Event) -> threading.Thread | None:
    """Start a thread that calls ``announce(asset, partition)`` for each file landing (and, once
    at the start, for each file already there); None when no source is watched."""
    targets = watched(graph, root)
    if not targets:
        return None
    for _, folder, _ in targets:
        folder.mkdir(parents=True, exist_ok=True)

    inotify = Inotify()
    fd = inotify.fd
    folders: dict[int, Path] = {}
    for _, folder, _ in targets:
        try:
            wd = inotify.add(folder, IN_CLOSE_WRITE | IN_MOVED_TO)
        except OSError:
            inotify.close()
            raise
        folders[wd] = folder
    wake_r, wake_w = os.pipe()

    def waker() -> None:
        stop.wait()
        try:
            os.write(wake_w, b"x")
        except OSError:
            pass
        finally:
            os.close(wake_w)

    def loop() -> None:
        try:
            _scan(targets, root, announce)  # after the watches exist: nothing falls between
            while not stop.is_set():
                ready, _, _ = select.select([fd, wake_r], [], [])
                if fd not in ready:
                    break
                try:
                    events, overflow = inotify.read()
                    for wd, _mask, name in events:
                        if wd in folders and name:
                            _announce_file(targets, root, folders[wd] / name, announce)
                    if overflow:
                        log.warning("the file event queue overflowed; looking at every file")
                        _scan(targets, root, announce)
                except Exception:  # keep watching whatever one batch of events did
                    log.exception("handling file events failed")
        finally:
            inotify.close()
            os.close(wake_r)

    threading.Thread(target=waker, name="andon-watcher-stop", daemon=True).start()
    thread = threading.Thread(target=loop, name="andon-watcher", daemon=True)
    thread.start()
    return thread
