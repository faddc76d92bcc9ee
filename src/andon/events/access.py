"""The events of access requests and of registered (external) consumers of a data set.

A request is asked for (``access.requested``), then decided once: approved or rejected (both
carry the id ``access-decided:REQUEST_ID``, so the log holds at most one decision per request,
whichever came first). An approved request registers its requester as a consumer
(``consumer.subscribed``, derived by the engine) until its date; when the date has passed, the
engine records ``access.expired`` and drops the consumer (``consumer.unsubscribed``, reason
``expired``). ``andon subscribe`` / ``unsubscribe`` register and drop consumers directly.

Dates (``until``) are ISO dates, YYYY-MM-DD: the last day of access (it ends at the next
midnight, UTC: ``andon.model.access.expires_at``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from andon.events import Event


def request_event_id(request_id: str) -> str:
    return f"access:{request_id}"


def decision_event_id(request_id: str) -> str:
    """The id of a request's one decision (approved or rejected)."""
    return f"access-decided:{request_id}"


@dataclass(frozen=True, kw_only=True)
class AccessRequested(Event):
    """``requester`` asked for access to data set ``asset`` until ``until`` (a date) because of
    ``reason``, answering the data set's form (``answers``). ``request_id`` (``ASSET:N``, the
    N-th request on the data set) is derived by andon. ``owners`` are the data set's owners when
    it was asked (who is told), ``contact`` an address or webhook name the requester gave."""

    name: ClassVar[str] = "access.requested"
    request_id: str
    asset: str
    requester: str
    reason: str
    until: str
    answers: dict[str, Any] = field(default_factory=dict)
    contact: str = ""
    owners: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class _AccessStep(Event):
    """A step of request ``request_id`` after it was asked for: who asked, and how to reach
    them (``contact``)."""

    request_id: str
    asset: str
    requester: str
    contact: str = ""


@dataclass(frozen=True, kw_only=True)
class _AccessDecided(_AccessStep):
    by: str


@dataclass(frozen=True, kw_only=True)
class AccessApproved(_AccessDecided):
    """An owner or an operator (``by``) approved request ``request_id``, with ``note``; the
    requester becomes a consumer of ``asset`` until ``until``."""

    name: ClassVar[str] = "access.approved"
    until: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class AccessRejected(_AccessDecided):
    """An owner or an operator (``by``) rejected request ``request_id``; ``reason`` says why
    (always given)."""

    name: ClassVar[str] = "access.rejected"
    reason: str


@dataclass(frozen=True, kw_only=True)
class AccessExpired(_AccessStep):
    """The date of approved request ``request_id`` passed (decided by the engine)."""

    name: ClassVar[str] = "access.expired"
    until: str


@dataclass(frozen=True, kw_only=True)
class ConsumerSubscribed(Event):
    """``consumer`` (an address, a webhook name or a token's name) is a registered consumer of
    ``asset`` until ``until``: it hears what the data set's owners hear. ``request_id``: the
    approved request that registered it ('' for ``andon subscribe``). A new registration of the
    same consumer replaces the old one."""

    name: ClassVar[str] = "consumer.subscribed"
    asset: str
    consumer: str
    until: str
    by: str = ""
    request_id: str = ""


@dataclass(frozen=True, kw_only=True)
class ConsumerUnsubscribed(Event):
    """``consumer`` is no longer a registered consumer of ``asset``: ``reason`` is
    ``unsubscribed`` (``andon unsubscribe``, by ``by``) or ``expired`` (its date passed)."""

    name: ClassVar[str] = "consumer.unsubscribed"
    asset: str
    consumer: str
    reason: str = "unsubscribed"
    by: str = ""


ACCESS_EVENTS = (AccessRequested, AccessApproved, AccessRejected, AccessExpired,
                 ConsumerSubscribed, ConsumerUnsubscribed)
