"""Announce source partitions when their files land: Linux inotify, not a scanning loop.

A source declared with ``watch="landing/orders/{partition}.csv"`` is announced when a file
matching the template is closed after writing or moved into place. The thread sleeps in
``select`` on the inotify descriptor: an idle watcher uses no CPU.
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

from andon.model.graph import Graph

log = logging.getLogger("andon.watcher")
Announce = Callable[[str, str], None]


_IN_CLOSE_WRITE = 0x00000008
_IN_MOVED_TO = 0x00000080
_HEADER = struct.Struct("iIII")


def _parse(data: bytes) -> list[tuple[int, str]]:
    """(watch descriptor, file name) of each inotify event in ``data``."""
    out, pos = [], 0
    while pos + _HEADER.size <= len(data):
        wd, _mask, _cookie, length = _HEADER.unpack_from(data, pos)
        name = data[pos + _HEADER.size: pos + _HEADER.size + length].rstrip(b"\0").decode()
        pos += _HEADER.size + length
        if name:
            out.append((wd, name))
    return out


def _pattern(template: str) -> re.Pattern[str]:
    parts = template.split("{partition}")
    return re.compile("(?P<partition>[^/]+)".join(re.escape(p) for p in parts) + "$")


def watched(graph: Graph, root: Path) -> list[tuple[str, Path, re.Pattern[str]]]:
    """(asset, folder to watch, pattern of the path relative to the project) per watched source."""
    out = []
    for asset in graph.assets.values():
        if asset.source and asset.watch:
            folder = root / Path(asset.watch).parent  # {partition} is in the file name
            out.append((asset.name, folder, _pattern(asset.watch)))
    return out


def start_watcher(graph: Graph, root: Path, announce: Announce,
                  stop: threading.Event) -> threading.Thread | None:
    """Start a thread that calls ``announce(asset, partition)`` for each file landing; None when
    no source is watched."""
    targets = watched(graph, root)
    if not targets:
        return None
    for _, folder, _ in targets:
        folder.mkdir(parents=True, exist_ok=True)

    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    fd = libc.inotify_init1(os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1 failed")
    folders: dict[int, Path] = {}
    for _, folder, _ in targets:
        wd = libc.inotify_add_watch(fd, str(folder).encode(), _IN_CLOSE_WRITE | _IN_MOVED_TO)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"cannot watch {folder}")
        folders[wd] = folder
    wake_r, wake_w = os.pipe()
    threading.Thread(target=lambda: (stop.wait(), os.write(wake_w, b"x")), daemon=True).start()

    def loop() -> None:
        try:
            while not stop.is_set():
                ready, _, _ = select.select([fd, wake_r], [], [])
                if fd not in ready:
                    break
                data = os.read(fd, 65536)
                for wd, name in _parse(data):
                    rel = os.path.relpath(folders[wd] / name, root)
                    for asset, _folder, pattern in targets:
                        match = pattern.match(rel)
                        if match:
                            try:
                                announce(asset, match.group("partition"))
                            except Exception as exc:  # a bad file name must not stop the watcher
                                log.warning("file %s for %s not announced: %s", rel, asset, exc)
        finally:
            os.close(fd)
            os.close(wake_r)
            os.close(wake_w)

    thread = threading.Thread(target=loop, name="andon-watcher", daemon=True)
    thread.start()
    return thread
