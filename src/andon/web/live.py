"""Live updates: committed events pushed to browsers as server-sent events.

The runner tells the hub that a batch was committed (on the runner thread, without I/O); the hub
reads the new events from the log once, on the server's event loop, and hands each client a copy.
Every message carries the event's ``seq`` as its ``id``, so a browser that reconnects sends
``Last-Event-ID`` and gets what it missed straight from the log. A client whose bounded queue
fills up (it reads too slowly) is disconnected; its browser reconnects and resumes from the log.
Nothing polls: with no client connected the hub does nothing, and with clients it wakes only for
commits and a heartbeat every HEARTBEAT seconds (so a page knows the server is there).

A run's log stream (``andon.web.logstream``) asks the hub to ``follow_run``: it is woken when a
committed event names the run (it was launched, it ended) and when the server stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime
from typing import Any

from andon.events import Event
from andon.events.codec import format_time, to_dict
from andon.store.sql import Store

QUEUE_SIZE = 1000  # messages waiting per client before it is dropped
READ_BATCH = 500  # events read from the log at a time
MAX_BACKLOG = 5000  # a client further behind than this reloads instead of replaying
HEARTBEAT = 15.0  # seconds between heartbeats on an idle stream
RETRY_MS = 1000  # how soon a browser reconnects after losing the stream


def message(seq: int, event: Event) -> bytes:
    """One event as a server-sent-events message (``id`` = its seq in the log)."""
    data = json.dumps(to_dict(event), separators=(",", ":"), default=str)
    return f"id: {seq}\ndata: {data}\n\n".encode()


def control(kind: str, data: dict[str, Any]) -> bytes:
    """A named message that is not an event of the log (heartbeat, reset)."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class EventHub:
    """Fans committed events out to the connected streams."""

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now
        self.last_seq: int | None = None  # the newest seq handed out (None: no client)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._clients: set[asyncio.Queue[tuple[int, bytes] | None]] = set()
        self._dirty = False
        self._reading = False
        self._closed = False
        self._runs: dict[str, set[Callable[[], None]]] = {}  # run id -> wakers (loop thread)

    # -- the runner's side -------------------------------------------------------------------------

    def on_events(self, events: Sequence[Event]) -> None:
        """A runner listener: note that the log grew (runner thread; no I/O here)."""
        loop = self._loop
        if loop is not None and self._clients and events:
            with contextlib.suppress(RuntimeError):  # the loop closed as the server stopped
                loop.call_soon_threadsafe(self._wake)
        if loop is not None and self._runs and events:
            named = {run_id for run_id in (getattr(e, "run_id", None) for e in events) if run_id}
            if named:
                with contextlib.suppress(RuntimeError):
                    loop.call_soon_threadsafe(self._wake_runs, named)

    def _wake_runs(self, run_ids: set[str]) -> None:
        for run_id in run_ids:
            for wake in list(self._runs.get(run_id, ())):
                wake()

    def _wake(self) -> None:
        self._dirty = True
        if not self._reading and self.last_seq is not None:
            self._reading = True
            asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._dirty and self.last_seq is not None:
                self._dirty = False
                while self.last_seq is not None:
                    batch = await loop.run_in_executor(None, self.store.events, self.last_seq,
                                                       READ_BATCH)
                    for seq, event in batch:
                        self._fan_out(seq, message(seq, event))
                    if batch and self.last_seq is not None:
                        self.last_seq = batch[-1][0]
                    if len(batch) < READ_BATCH:
                        break
        finally:
            self._reading = False

    def _fan_out(self, seq: int, data: bytes) -> None:
        for queue in list(self._clients):
            try:
                queue.put_nowait((seq, data))
            except asyncio.QueueFull:  # too slow: drop it; its browser resumes from the log
                self._clients.discard(queue)
                _drop(queue)

    # -- the clients' side -------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End every stream (the server is stopping); called on the server's event loop."""
        self._closed = True
        for queue in list(self._clients):
            self._clients.discard(queue)
            _drop(queue)
        for wakers in list(self._runs.values()):
            for wake in list(wakers):
                wake()

    def follow_run(self, run_id: str, wake: Callable[[], None]) -> Callable[[], None]:
        """Call ``wake`` (on the server's loop) when a committed event names run ``run_id`` and
        when the server stops; returns the function that stops following (on the loop too)."""
        self._loop = asyncio.get_running_loop()
        self._runs.setdefault(run_id, set()).add(wake)

        def stop() -> None:
            wakers = self._runs.get(run_id)
            if wakers is not None:
                wakers.discard(wake)
                if not wakers:
                    del self._runs[run_id]

        return stop

    async def stream(self, last_event_id: int | None) -> AsyncIterator[bytes]:
        """The messages of one client: what it missed after ``last_event_id`` (from the log),
        then every new event as it is committed, with heartbeats in between."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        queue: asyncio.Queue[tuple[int, bytes] | None] = asyncio.Queue(QUEUE_SIZE)
        self._clients.add(queue)
        try:
            if self.last_seq is None:
                self.last_seq = await loop.run_in_executor(None, self.store.last_seq)
            sent = self.last_seq if last_event_id is None else last_event_id
            yield f"retry: {RETRY_MS}\n".encode() + self.heartbeat()
            if last_event_id is not None:
                missed = 0
                while True:
                    batch = await loop.run_in_executor(None, self.store.events, sent, READ_BATCH)
                    missed += len(batch)
                    if missed > MAX_BACKLOG:  # faster to load the page again than to replay
                        yield control("reset", {"reason": "too far behind"})
                        return
                    for seq, event in batch:
                        yield message(seq, event)
                        sent = seq
                    if len(batch) < READ_BATCH:
                        break
            while not self._closed:
                try:
                    item = await asyncio.wait_for(queue.get(), HEARTBEAT)
                except TimeoutError:
                    yield self.heartbeat()
                    continue
                if item is None:
                    return
                seq, data = item
                if seq > sent:  # the backlog may already have carried it
                    sent = seq
                    yield data
        finally:
            self._clients.discard(queue)
            if not self._clients:
                self.last_seq = None  # no one listens: stop following the log

    def heartbeat(self) -> bytes:
        """A heartbeat message with the server's time (every stream sends them when quiet)."""
        return control("heartbeat", {"now": format_time(self.now())})


def _drop(queue: asyncio.Queue[tuple[int, bytes] | None]) -> None:
    while not queue.empty():
        queue.get_nowait()
    queue.put_nowait(None)
