"""A run's log on disk, capped, with its secrets masked.

The run's own process sends its stdout and stderr (and so those of everything it starts) into a
pipe; a thread of that process (``LogPump``) copies the pipe into ``log.txt`` as it comes, so the
log streams while the run runs, and a scheduler killed meanwhile loses nothing (the copying is
not its work). ``CappedLog`` keeps the file under ``cap`` bytes: the first half of the cap is kept
as written (the head); after it the file grows on until the cap, and is then cut back to the head,
a marker line ``... [andon: N bytes left out] ...`` and the latest quarter of the cap (the tail),
and grows on from there. A follower of the file sees it shrink at each cut; what it read before
the marker is still true. Each cut is recorded beside the log twice: as under way before the file
is truncated, and as settled after the truncation and before the marker is appended, so a reader
can tell a read that a cut may have overlapped (the record changed meanwhile), and the append
that wakes it comes after the record it needs. The values of the run's declared secrets are
replaced by ``***``, also when a write splits one.
"""

from __future__ import annotations

import _thread
import contextlib
import fcntl
import os
import select
import struct
import sys
import termios
import threading
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

MASK = b"***"


CUT_MARK = b"\n... [andon: "  # how the marker of a cut begins


class Cut(NamedTuple):
    """The latest cut of a capped log: where its marker begins, how many cuts there were, and
    whether this one is done with the file (``settled``) or may still be changing it."""

    marker: int
    cuts: int
    settled: bool


def cut_path(log_path: Path) -> Path:
    """Where a capped log records its latest cut: ``MARKER_OFFSET CUTS settled|cutting`` (one
    line, replaced whole). A follower cannot see a cut in the log's size (every cut leaves the
    same size), so it compares this record with the one it knew."""
    return log_path.with_name(log_path.name + ".cut")


def read_cut(log_path: Path) -> Cut | None:
    """The latest cut of the log at ``log_path`` (None: never cut)."""
    try:
        offset, cuts, state = cut_path(log_path).read_text().split()
        return Cut(int(offset), int(cuts), state == "settled")
    except (OSError, ValueError):
        return None


def write_cut(log_path: Path, cut: Cut) -> None:
    """Record ``cut`` of the log at ``log_path`` (replaced whole: a reader sees one record)."""
    record = cut_path(log_path)
    part = record.with_name(record.name + ".part")
    part.write_text(f"{cut.marker} {cut.cuts} {'settled' if cut.settled else 'cutting'}\n")
    os.replace(part, record)


def marker(left_out: int) -> bytes:
    return CUT_MARK + f"{left_out} bytes left out] ...\n".encode()


class Masker:
    """Replaces secret values in a byte stream that may split them across chunks."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = sorted({s.encode() for s in secrets if s}, key=len, reverse=True)
        self.carry = b""

    def feed(self, data: bytes, final: bool = False) -> bytes:
        if not self.secrets:
            return data
        buf = self.carry + data
        for secret in self.secrets:
            buf = buf.replace(secret, MASK)
        self.carry = b"" if final else buf[len(buf) - self._pending(buf):]
        return buf[:len(buf) - len(self.carry)]

    def _pending(self, buf: bytes) -> int:
        """The length of the longest end of ``buf`` that could begin a secret."""
        for n in range(min(len(buf), max(len(s) for s in self.secrets) - 1), 0, -1):
            tail = buf[-n:]
            if any(s.startswith(tail) for s in self.secrets):
                return n
        return 0


class CappedLog:
    """Appends to the open file ``fd`` (at ``origin`` bytes now), keeping what it adds under
    ``cap`` bytes (0: no cap)."""

    def __init__(self, fd: int, cap: int, secrets: list[str], origin: int = 0,
                 on_cut: Callable[[Cut], None] | None = None) -> None:
        self.fd, self.cap, self.origin = fd, cap, origin
        self.on_cut = on_cut  # told of each cut as it begins and once it is settled
        self.cuts = 0
        self.masker = Masker(secrets)
        self.head_room = cap // 2
        self.keep = cap // 4
        self.section = 0  # bytes in the file after the head
        self.after_head = 0  # bytes written after the head, all told
        self.recent = bytearray()  # the latest ``keep`` of them

    def write(self, data: bytes, final: bool = False) -> None:
        data = self.masker.feed(data, final)
        if not data:
            return
        if not self.cap:
            self._append(data)
            return
        if self.head_room:
            head, data = data[:self.head_room], data[self.head_room:]
            self._append(head)
            self.head_room -= len(head)
            if not data:
                return
        self.after_head += len(data)
        self.recent += data
        del self.recent[:max(len(self.recent) - self.keep, 0)]
        if self.cap // 2 + self.section + len(data) <= self.cap:
            self._append(data)
            self.section += len(data)
            return
        mark = marker(self.after_head - len(self.recent))
        at = self.origin + self.cap // 2
        self.cuts += 1
        self._tell(Cut(at, self.cuts, settled=False))  # before the file changes
        self._truncate(at)
        self._tell(Cut(at, self.cuts, settled=True))  # before the append that wakes readers
        self._append(mark + bytes(self.recent))
        self.section = len(mark) + len(self.recent)

    def _tell(self, cut: Cut) -> None:
        if self.on_cut is not None:
            self.on_cut(cut)

    def _truncate(self, size: int) -> None:
        os.ftruncate(self.fd, size)

    def _append(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view):]


class _MemoryLog(CappedLog):
    def __init__(self, cap: int, secrets: list[str]) -> None:
        super().__init__(-1, cap, secrets)
        self.out = bytearray()

    def _append(self, data: bytes) -> None:
        self.out += data

    def _truncate(self, size: int) -> None:
        del self.out[size:]


def cap_bytes(data: bytes, cap: int, secrets: list[str]) -> bytes:
    """``data`` as a CappedLog would leave it in a new file (the in-process executor)."""
    log = _MemoryLog(cap, secrets)
    log.write(data, final=True)
    return bytes(log.out)


class LogPump:
    """Sends this process's stdout and stderr through a CappedLog into ``log_path`` until
    ``finish``."""

    def __init__(self, log_path: Path, cap: int, secrets: list[str]) -> None:
        self.file = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                            0o644)
        self.log_path = log_path
        self.log = CappedLog(self.file, cap, secrets, os.fstat(self.file).st_size, self._cut)
        self.read_end, write_end = os.pipe2(os.O_CLOEXEC)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(write_end, 1)
        os.dup2(write_end, 2)
        os.close(write_end)
        # a bare thread: ``Thread.start`` would wait until the new thread ran (a wake-up and a
        # switch on every run's critical path); ``finish`` waits on ``_copied`` instead
        self._copied = threading.Lock()
        self._copied.acquire()
        self._busy = threading.Lock()  # held while a chunk goes from the pipe into the file
        self._closed = False  # the copy is over (its last write made)
        _thread.start_new_thread(self._pump, ())

    def _cut(self, cut: Cut) -> None:
        with contextlib.suppress(OSError):  # the log itself matters more than the record
            write_cut(self.log_path, cut)

    def _pump(self) -> None:
        try:
            self._copy()
        finally:
            self._copied.release()

    def _copy(self) -> None:
        poller = select.poll()
        poller.register(self.read_end, select.POLLIN)
        while True:
            poller.poll()  # readable, or every writer gone: the chunk is read under _busy
            with self._busy:
                if self._closed:
                    return
                try:
                    data = os.read(self.read_end, 65536)
                except (InterruptedError, BlockingIOError):
                    continue
                except OSError:
                    return
                if not data:
                    self._close()
                    return
                self.log.write(data)

    def _close(self) -> None:
        self.log.write(b"", final=True)
        self._closed = True

    def finish(self, timeout: float = 5.0) -> None:
        """Close this process's ends of the pipe (stdout and stderr go to the file directly
        from now on) and finish the copy: at once when nothing is left in the pipe (the run
        wrote nothing more, as a quiet run: no wait for the copying thread), else wait for
        it, up to ``timeout`` s when another process still holds the pipe."""
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os.dup2(self.file, 1)
        os.dup2(self.file, 2)
        with self._busy:
            if not self._closed and _unread(self.read_end) == 0:
                self._close()
        if not self._closed and self._copied.acquire(timeout=timeout):
            self._copied.release()


def _unread(fd: int) -> int:
    """Bytes waiting in pipe ``fd`` (-1: unknown)."""
    try:
        return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0" * 4))[0]
    except OSError:
        return -1
