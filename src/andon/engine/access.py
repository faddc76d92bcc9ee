"""Access requests and registered consumers inside the pure core.

A request moves once: ``requested`` to ``approved`` or ``rejected``, and ``approved`` to
``expired`` when its date has passed. The engine owns what follows from a move: an approval
registers the requester as a consumer (``consumer.subscribed``), and a date that passed expires
the request and drops the consumer. ``apply`` folds the access events into the ``AccessBook``;
``decide`` (called by the core's ``decide``) records what is owed at ``now``, each with a
deterministic id, so replaying the log derives exactly what was recorded. No clock, no I/O.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from andon.events import Event
from andon.events.access import (
    AccessApproved,
    AccessExpired,
    AccessRejected,
    AccessRequested,
    ConsumerSubscribed,
    ConsumerUnsubscribed,
)
from andon.model.access import expires_at


class RequestStatus(str, enum.Enum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"

    def may_become(self, to: RequestStatus) -> bool:
        """The one table of a request's moves, for the engine and the read models."""
        return to in _LEGAL[self]


_LEGAL: dict[RequestStatus, frozenset[RequestStatus]] = {
    RequestStatus.REQUESTED: frozenset({RequestStatus.APPROVED, RequestStatus.REJECTED}),
    RequestStatus.APPROVED: frozenset({RequestStatus.EXPIRED}),
    RequestStatus.REJECTED: frozenset(),
    RequestStatus.EXPIRED: frozenset(),
}
STATUSES = tuple(s.value for s in RequestStatus)


@dataclass(slots=True)
class Request:
    request_id: str
    asset: str
    requester: str
    until: str
    contact: str = ""
    status: RequestStatus = RequestStatus.REQUESTED
    registered: bool = False  # the approval's consumer.subscribed is in the log


@dataclass(slots=True)
class Registration:
    until: str
    since: str  # the id of the consumer.subscribed that made it (names its expiry)


@dataclass
class AccessBook:
    """Requests by id, registered consumers by (asset, consumer), and the soonest moment one of
    them runs out (None: none will)."""

    requests: dict[str, Request] = field(default_factory=dict)
    consumers: dict[tuple[str, str], Registration] = field(default_factory=dict)
    owed: list[str] = field(default_factory=list)  # approved requests not yet registered
    soonest: datetime | None = None

    def _note(self, until: str) -> None:
        moment = expires_at(until)
        if self.soonest is None or moment < self.soonest:
            self.soonest = moment


def apply(book: AccessBook, event: Event) -> str | None:
    """Fold an access event into ``book``; a message when it does not fit (then it changed
    nothing)."""
    if isinstance(event, AccessRequested):
        if event.request_id in book.requests:
            return f"access request {event.request_id} was asked for already"
        book.requests[event.request_id] = Request(event.request_id, event.asset,
                                                  event.requester, event.until, event.contact)
        return None
    if isinstance(event, ConsumerSubscribed):
        book.consumers[(event.asset, event.consumer)] = Registration(event.until, event.id)
        book._note(event.until)
        found = book.requests.get(event.request_id)
        if found is not None:
            found.registered = True
            if event.request_id in book.owed:
                book.owed.remove(event.request_id)
        return None
    if isinstance(event, ConsumerUnsubscribed):
        book.consumers.pop((event.asset, event.consumer), None)
        return None
    request = book.requests.get(getattr(event, "request_id", ""))
    if request is None:
        return f"access request {getattr(event, 'request_id', '')!r} is unknown"
    to = (RequestStatus.APPROVED if isinstance(event, AccessApproved) else
          RequestStatus.REJECTED if isinstance(event, AccessRejected) else RequestStatus.EXPIRED)
    if not request.status.may_become(to):
        return f"access request {request.request_id} is {request.status.value}, not movable " \
               f"to {to.value}"
    request.status = to
    if isinstance(event, AccessApproved):
        request.until = event.until
        book._note(event.until)
        if not request.registered:
            book.owed.append(request.request_id)
    return None


def decide(book: AccessBook, now: datetime) -> list[Event]:
    """What is owed at ``now``: approved requests' consumers to register, requests whose date
    has passed to expire and consumers to drop. Events to apply and record, in order."""
    out: list[Event] = []
    for request_id in list(book.owed):
        r = book.requests[request_id]
        out.append(ConsumerSubscribed(id=f"subscribed:{request_id}", at=now, asset=r.asset,
                                      consumer=r.requester, until=r.until,
                                      by="access-request", request_id=request_id))
        book.owed.remove(request_id)  # applying the event marks it registered
    if book.soonest is None or book.soonest > now:
        return out
    soonest: datetime | None = None
    for r in book.requests.values():
        if r.status is RequestStatus.APPROVED:
            moment = expires_at(r.until)
            if moment <= now:
                out.append(AccessExpired(id=f"access-expired:{r.request_id}", at=now,
                                         request_id=r.request_id, asset=r.asset,
                                         requester=r.requester, until=r.until,
                                         contact=r.contact))
            elif soonest is None or moment < soonest:
                soonest = moment
    for (asset, consumer), reg in book.consumers.items():
        moment = expires_at(reg.until)
        if moment <= now:
            out.append(ConsumerUnsubscribed(
                id=f"expired:{reg.since}", at=now,
                asset=asset, consumer=consumer, reason="expired"))
        elif soonest is None or moment < soonest:
            soonest = moment
    book.soonest = soonest
    return out
