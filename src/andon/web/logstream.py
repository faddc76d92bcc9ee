"""A run's log as server-sent events, while the run executes.

A stream sends the log from a byte offset, then each chunk the run appends, and ends with an
``end`` message once the run has ended. Every chunk's ``id`` is the byte offset just after it, so
a client that reconnects with ``Last-Event-ID`` gets exactly the rest. Chunks hold at most
MAX_CHUNK bytes and never split a character.

Nothing polls. The stream sleeps until the kernel says the log file was written (inotify, one
descriptor for all streams, read by the server's event loop: ``FileWatch``) or until a committed
event names the run (``EventHub.follow_run``: it was launched, it ended), with a heartbeat every
HEARTBEAT seconds on a quiet stream. Where inotify is not available the stream still ends with
the whole log: it is then sent when the run ends.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

from andon.executors.logcap import read_cut
from andon.live.service import Service
from andon.live.watcher import IN_CREATE, IN_IGNORED, IN_MODIFY, IN_MOVED_TO, Inotify
from andon.model.status import ACTIVE_STATUSES
from andon.web.live import HEARTBEAT, RETRY_MS, EventHub, control

log = logging.getLogger("andon.web")
MAX_CHUNK = 16384  # bytes of log per message
_MASK = IN_MODIFY | IN_CREATE | IN_MOVED_TO


class FileWatch:
    """Wakes the streams whose log files were written. Watches the files' folders (a run's log
    need not exist yet when its stream starts), shares one watch among the streams of a folder,
    and holds an inotify descriptor only while some stream watches."""

    def __init__(self) -> None:
        self._inotify: Inotify | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._folders: dict[Path, int] = {}  # folder -> watch descriptor
        self._wakers: dict[int, dict[str, set[Callable[[], None]]]] = {}  # wd -> name -> wakers

    def watch(self, path: Path, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` (on the event loop) whenever the file at ``path`` is written or created;
        returns the function that stops it. OSError when the folder cannot be watched."""
        if self._inotify is None:
            self._inotify = Inotify(nonblocking=True)
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._inotify.fd, self._readable)
        folder, name = path.parent, path.name
        wd = self._folders.get(folder)
        if wd is None:
            try:
                wd = self._inotify.add(folder, _MASK)
            except OSError:
                self._release()
                raise
            self._folders[folder] = wd
            self._wakers[wd] = {}
        self._wakers[wd].setdefault(name, set()).add(wake)

        def stop() -> None:
            names = self._wakers.get(wd) if self._folders.get(folder) == wd else None
            if names is not None:
                wakers = names.get(name, set())
                wakers.discard(wake)
                if not wakers:
                    names.pop(name, None)
                if not names:
                    del self._wakers[wd], self._folders[folder]
                    if self._inotify is not None:
                        self._inotify.remove(wd)
            self._release()

        return stop

    def _readable(self) -> None:
        if self._inotify is None:
            return
        try:
            events, overflow = self._inotify.read()
        except OSError:
            log.exception("reading file events failed")
            events, overflow = [], True
        woken: set[Callable[[], None]] = set()
        for wd, mask, name in events:
            if mask & IN_IGNORED:  # the folder went away, and its watch: its streams look again
                for folder in [f for f, w in self._folders.items() if w == wd]:
                    del self._folders[folder]
                woken.update(w for ws in self._wakers.pop(wd, {}).values() for w in ws)
            else:
                woken.update(self._wakers.get(wd, {}).get(name, ()))
        if overflow:  # events were lost: every stream looks
            woken.update(w for names in self._wakers.values() for ws in names.values() for w in ws)
        for wake in woken:
            wake()

    def _release(self) -> None:
        """Close the descriptor when no stream watches any more."""
        if self._folders or self._inotify is None:
            return
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(self._inotify.fd)
        self._inotify.close()
        self._inotify = None


def chunk_message(offset: int, text: str) -> bytes:
    """A piece of the log (``data``: ``{"text": ...}``); ``id`` is the byte offset after it."""
    data = json.dumps({"text": text}, separators=(",", ":"))
    return f"id: {offset}\ndata: {data}\n\n".encode()


ReadChunk = Callable[[Path | None, int, int, bool], bytes]  # Service.log_chunk


class LogCursor:
    """Where one follower is in a run's capped log: the byte ``offset`` it has sent up to, and
    the settled cut of the log (``logcap.Cut``) that offset takes into account.

    A cut rewrites the file behind the follower's back, so a read is kept only when the cut
    record is the same before and after it: the writer records a cut as under way before it
    truncates, so a read that overlapped any part of a cut sees the record change and is read
    again from where the cut left the log. A cut under way is waited out: the writer settles
    the record before it appends the marker, whose write wakes the stream again."""

    def __init__(self, path: Path | None, offset: int, read: ReadChunk) -> None:
        self.offset = offset
        self.read = read
        # the cut the reader's offset already takes into account (a resumed reader: the latest)
        cut = read_cut(path) if path is not None else None
        self.known = cut if cut is not None and cut.settled else None

    def news(self, path: Path, ended: bool) -> Iterator[bytes]:
        """The messages for what the log at ``path`` holds past ``offset`` now: ``cut`` (go on
        from its marker) when the log was cut behind the offset, then the chunks; nothing past
        the last whole character, nor while a cut is under way, until the run has ended (its
        process is gone, so the file is as it stays)."""
        while True:
            cut = read_cut(path)
            if cut is not None and not cut.settled and not ended:
                return
            if cut != self.known:  # the capped log was cut (head, marker, latest tail)
                self.known = cut
                if cut is not None and self.offset > cut.marker:
                    self.offset = cut.marker  # go on from the marker: nothing after it is lost
                    yield control("cut", {"offset": self.offset})
            data = self.read(path, self.offset, MAX_CHUNK, True)
            if not data and ended:
                data = self.read(path, self.offset, MAX_CHUNK, False)
            if not data:
                return
            if read_cut(path) == cut:  # else a cut may have changed what was read: again
                self.offset += len(data)
                yield chunk_message(self.offset, data.decode("utf-8", "replace"))


class _Wake:
    """What woke a stream: its file was written (``event``) or an event named the run."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.run_changed = False

    def file(self) -> None:
        self.event.set()

    def run(self) -> None:
        self.run_changed = True
        self.event.set()


async def follow(svc: Service, hub: EventHub, files: FileWatch, run_id: str,
                 offset: int) -> AsyncIterator[bytes]:
    """The messages of one client of run ``run_id``'s log, from byte ``offset``: a hello (retry
    and a heartbeat), the chunks, heartbeats while it is quiet, and ``end`` with the run's
    status and final offset when the run has ended. Ends early when the server stops."""
    loop = asyncio.get_running_loop()
    wake = _Wake()
    stop_run = hub.follow_run(run_id, wake.run)  # before the first look: nothing falls between
    stop_file: Callable[[], None] | None = None
    try:
        yield f"retry: {RETRY_MS}\n".encode() + hub.heartbeat()
        run, path = await loop.run_in_executor(None, svc.log_file, run_id)
        cursor = LogCursor(path, offset, svc.log_chunk)
        while True:
            wake.event.clear()
            if wake.run_changed:
                wake.run_changed = False
                run, path = await loop.run_in_executor(None, svc.log_file, run_id)
            ended = run["status"] not in ACTIVE_STATUSES
            if path is not None and stop_file is None and not ended:
                stop_file = _watch(files, path, wake.file)
            if path is not None:
                for message in cursor.news(path, ended):
                    yield message
            if ended:
                yield control("end", {"status": run["status"], "offset": cursor.offset})
                return
            while not wake.event.is_set() and not hub.closed:
                try:
                    await asyncio.wait_for(wake.event.wait(), HEARTBEAT)
                except TimeoutError:
                    yield hub.heartbeat()
            if hub.closed:
                return
    finally:
        stop_run()
        if stop_file is not None:
            stop_file()


def _watch(files: FileWatch, path: Path, wake: Callable[[], None]) -> Callable[[], None] | None:
    """Watch the log file; None to try again on the next wake-up (its folder is not there yet);
    a no-op where inotify fails (the log then comes when the run ends)."""
    try:
        return files.watch(path, wake)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot watch %s (%s): its log is sent when the run ends", path, exc)
        return _nothing


def _nothing() -> None:
    return None

