"""What an access request tells, and to whom: pure functions from an access event.

A request tells the data set's owners (the event carries them: they may be declared in
``catalog.toml``, which the notifier does not read); a decision and an expiry tell the
requester, by its name when that is an address or a known webhook, and its ``contact``; a
consumer dropped is told so. Each message names its people in ``to``, beside the project-wide
subscribers who hear everything."""

from __future__ import annotations

from collections.abc import Sequence

from andon.events import Event
from andon.events.access import (
    AccessApproved,
    AccessExpired,
    AccessRejected,
    AccessRequested,
    ConsumerUnsubscribed,
)
from andon.events.codec import format_time
from andon.notify.message import Message

ACCESS_NOTICES = (AccessRequested, AccessApproved, AccessRejected, AccessExpired,
                  ConsumerUnsubscribed)


def wanted(event: Event, batch: Sequence[Event]) -> bool:
    """Whether ``event`` is told: every access step, and a consumer dropped, except one dropped
    because its request expired in the same batch (that expiry's message says it)."""
    if isinstance(event, ConsumerUnsubscribed) and event.reason == "expired":
        return not any(isinstance(e, AccessExpired) and e.asset == event.asset
                       and e.requester == event.consumer for e in batch)
    return isinstance(event, ACCESS_NOTICES)


def access_message(event: Event) -> Message:
    """The message of one access event (``ACCESS_NOTICES``)."""
    fields: dict[str, object] = {k: v for k, v in vars(event).items() if k not in ("id", "at")}
    fields["at"] = format_time(event.at)
    if isinstance(event, AccessRequested):
        answers = "\n".join(f"  {k}: {v}" for k, v in event.answers.items()) or "  (none)"
        subject = f"access requested to {event.asset} by {event.requester}"
        text = (f"{event.requester} asks for access to {event.asset} until {event.until}.\n"
                f"Reason: {event.reason}\nAnswers:\n{answers}\n"
                f"Approve with: andon access approve {event.request_id}\n"
                f"Reject with: andon access reject {event.request_id} --reason \"...\"")
        to: tuple[str, ...] = event.owners
    elif isinstance(event, (AccessApproved, AccessRejected)):
        approved = isinstance(event, AccessApproved)
        verdict = "approved" if approved else "rejected"
        why = (f"until {event.until}" + (f": {event.note}" if event.note else "")
               if isinstance(event, AccessApproved) else f"because: {event.reason}")
        subject = f"access to {event.asset} {verdict}"
        text = (f"Your access request {event.request_id} to {event.asset} was {verdict} by "
                f"{event.by}, {why}.")
        if approved:
            text += ("\nYou are a registered consumer of it until then: you hear of its cords "
                     "and deliveries as its owners do.")
        to = (event.requester, event.contact)
    elif isinstance(event, AccessExpired):
        subject = f"access to {event.asset} expired"
        text = (f"Your access to {event.asset} (request {event.request_id}) ended after "
                f"{event.until}; you are no longer a registered consumer of it. Ask again "
                f"with: andon access request {event.asset} --reason \"...\"")
        to = (event.requester, event.contact)
    else:
        assert isinstance(event, ConsumerUnsubscribed)
        subject = f"no longer a consumer of {event.asset}"
        text = (f"{event.consumer} is no longer a registered consumer of {event.asset} "
                f"({'its date passed' if event.reason == 'expired' else 'unsubscribed'}).")
        to = (event.consumer,)
    return Message(event.name, event.id, subject[:300], text, fields, (),
                   tuple(n for n in to if n))
