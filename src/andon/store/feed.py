"""The log of a PostgreSQL store followed from another process: LISTEN/NOTIFY with catch-up.

A team's standby (``andon.serve.team``) serves the board and the event streams while the
leader, another process, writes. Each write of the leader sends ``NOTIFY`` on the store's
channel (``andon.store.leader``), delivered when it commits. The feed ``LISTEN``s on a
connection of its own and, on each notification, reads the log after the last ``seq`` it handed
on and gives the new events to its listeners (the web layer's ``EventHub.on_events``), as the
runner does in the leader's own process. A notification carries nothing the feed relies on:
NOTIFY can be lost (a dropped connection), the log cannot, so after (re)connecting the feed
first catches up from its last ``seq``. Nothing polls: the thread sleeps in the driver until a
notification arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from andon.events import Event
from andon.store.leader import PG_KEY, channel_of
from andon.store.sql import Store

log = logging.getLogger("andon.store.feed")
RECONNECT = 1.0  # seconds before listening again after the connection was lost
READ_BATCH = 1000
Listener = Callable[[Sequence[Event]], None]


class EventFeed:
    """Hands each event committed by another process to ``subscribe``d listeners, in log order,
    once; from the log's end at ``start`` (earlier events are the caller's to read)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.last_seq = 0
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self._engine = create_engine(store.url, poolclass=NullPool)
        self._thread: threading.Thread | None = None
        self.channel = ""

    def subscribe(self, listener: Listener) -> None:
        """Call ``listener`` (on the feed's thread) with each batch of new events."""
        self._listeners.append(listener)

    def start(self) -> None:
        self.last_seq = self.store.last_seq()
        with self._engine.connect() as conn:
            self.channel = channel_of(int(conn.exec_driver_sql(PG_KEY).scalar_one()))
        self._thread = threading.Thread(target=self._run, name="andon-feed", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """End the thread: wake its LISTEN with a notification of our own."""
        self._stop.set()
        if self.channel:
            try:
                with self._engine.begin() as conn:
                    conn.execute(text("SELECT pg_notify(:c, 'stop')"), {"c": self.channel})
            except Exception:  # the database is gone: the thread stops on its own error
                log.debug("could not wake the feed", exc_info=True)
        if self._thread is not None:
            self._thread.join(5.0)
        self._engine.dispose()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception as exc:  # a lost connection: catch up once listening again
                if self._stop.is_set():
                    break
                log.warning("lost the store's notifications (%s); listening again", exc)
                self._stop.wait(RECONNECT)

    def _listen(self) -> None:
        raw = self._engine.raw_connection()
        try:
            conn = raw.driver_connection  # a psycopg connection
            assert conn is not None
            conn.autocommit = True
            conn.execute(f'LISTEN "{self.channel}"')
            self._catch_up()  # what was committed before LISTEN took effect
            for _ in conn.notifies():
                if self._stop.is_set():
                    return
                self._catch_up()
        finally:
            raw.close()

    def _catch_up(self) -> None:
        while True:
            batch = self.store.events(self.last_seq, READ_BATCH)
            if not batch:
                return
            self.last_seq = batch[-1][0]
            events = [event for _, event in batch]
            for listener in self._listeners:
                try:
                    listener(events)
                except Exception:
                    log.exception("an event listener failed")
            if len(batch) < READ_BATCH:
                return
