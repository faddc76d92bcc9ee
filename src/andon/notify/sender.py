"""Deliver notifications on their own threads, retrying with back-off, never on the scheduler's.

One time-ordered queue; worker threads sleep on it until an item is due (a new message, or the
next retry time) — nothing wakes up to look. A receiver that hangs holds one worker for at most the
delivery timeout; the scheduler only ever puts items on the queue.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from andon.events import Event, NotificationFailed, NotificationSent
from andon.notify.channels import DeliveryError
from andon.notify.message import Message, Recipient

log = logging.getLogger("andon.notify")

Deliver = Callable[[Recipient, Message], None]  # raises DeliveryError when it did not arrive
Record = Callable[[Event], Any]
Compose = Callable[[], Iterable[tuple[Message, Recipient]]]
MAX_DELAY = 3600.0


@dataclass
class Delivery:
    message: Message
    recipient: Recipient
    attempt: int = 1  # the attempt about to be made


class Sender:
    """``post`` work that composes messages, or ``send`` them; each (message, recipient) is tried
    up to ``attempts`` times, waiting ``retry_delay`` seconds doubling in between, and each
    outcome is recorded as an event through ``record``."""

    def __init__(self, deliver: Deliver, record: Record, now: Callable[[], datetime],
                 attempts: int = 5, retry_delay: float = 5.0, workers: int = 2,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._deliver = deliver
        self._record = record
        self._now = now
        self.attempts = max(attempts, 1)
        self.retry_delay = retry_delay
        self._monotonic = monotonic
        self._queue: list[tuple[float, int, Delivery | Compose]] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = 0
        self._stopping = False
        self._threads = [threading.Thread(target=self._work, name=f"andon-notify-{i}", daemon=True)
                         for i in range(max(workers, 1))]

    # -- the outside world (any thread) --------------------------------------------------------

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def post(self, compose: Compose) -> None:
        """Run ``compose`` on a sender thread and deliver what it returns."""
        self._put(self._monotonic(), compose)

    def send(self, message: Message, recipients: Iterable[Recipient]) -> None:
        for recipient in recipients:
            self._put(self._monotonic(), Delivery(message, recipient))

    def idle(self, timeout: float) -> bool:
        """Wait until nothing is queued, due for a retry or being delivered (tests, shutdown)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the workers; deliveries still queued (retries waiting) are dropped and logged."""
        with self._cond:
            self._stopping = True
            dropped = sum(isinstance(item, Delivery) for _, _, item in self._queue)
            self._cond.notify_all()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(deadline - time.monotonic(), 0.0))
        if dropped:
            log.warning("%d notification(s) not delivered: andon stopped", dropped)

    # -- the workers ---------------------------------------------------------------------------

    def _put(self, due: float, item: Delivery | Compose) -> None:
        with self._cond:
            heapq.heappush(self._queue, (due, next(self._seq), item))
            self._cond.notify()

    def _take(self) -> Delivery | Compose | None:
        with self._cond:
            while not self._stopping:
                wait = None
                if self._queue:
                    wait = self._queue[0][0] - self._monotonic()
                    if wait <= 0:
                        self._busy += 1
                        return heapq.heappop(self._queue)[2]
                self._cond.wait(wait)  # until something is put, or the first item is due
            return None

    def _work(self) -> None:
        while True:
            item = self._take()
            if item is None:
                return
            try:
                if isinstance(item, Delivery):
                    self._attempt(item)
                else:
                    for message, recipient in item():
                        self._put(self._monotonic(), Delivery(message, recipient))
            except Exception:  # a bug here must not kill the worker
                log.exception("notification work failed")
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _attempt(self, delivery: Delivery) -> None:
        message, recipient = delivery.message, delivery.recipient
        base = f"notification:{message.about_id}:{recipient.channel}:{recipient.name}"
        try:
            self._deliver(recipient, message)
        except Exception as exc:
            error = str(exc) if isinstance(exc, DeliveryError) else type(exc).__name__
            again = delivery.attempt < self.attempts
            delay = min(self.retry_delay * 2 ** (delivery.attempt - 1), MAX_DELAY) if again else None
            log.warning("notification about %s to %s failed (attempt %d of %d): %s%s",
                        message.about, recipient.name, delivery.attempt, self.attempts, error,
                        f"; retrying in {delay:g}s" if delay is not None else "; giving up")
            self._record(NotificationFailed(
                id=f"{base}:{delivery.attempt}", at=self._now(), about=message.about,
                about_id=message.about_id, channel=recipient.channel, recipient=recipient.name,
                attempt=delivery.attempt, error=error, retry_in_seconds=delay))
            if delay is not None:
                delivery.attempt += 1
                self._put(self._monotonic() + delay, delivery)
            return
        self._record(NotificationSent(
            id=f"{base}:sent", at=self._now(), about=message.about, about_id=message.about_id,
            channel=recipient.channel, recipient=recipient.name, attempt=delivery.attempt))
