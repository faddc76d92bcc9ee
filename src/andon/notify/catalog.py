"""What a deprecation tells, and to whom: a pure function from ``catalog.entry_deprecated``.

The entry's owner hears it; for a data set, so does everyone who hears of it (its owners and
subscribers, the registered consumers: ``assets``), so that nobody who reads it is surprised
when it is retired."""

from __future__ import annotations

from andon.events.catalog import CatalogEntryDeprecated
from andon.events.codec import format_time
from andon.notify.message import Message


def deprecation_message(event: CatalogEntryDeprecated) -> Message:
    """The message saying entry ``event.entry`` is deprecated and when it is retired."""
    what = "data set" if event.kind == "dataset" else event.kind
    subject = f"{what} {event.entry} is deprecated: retired on {event.since}"
    text = (f"The {what} {event.entry} is deprecated and will be retired on {event.since}"
            f" (owner: {event.owner or 'unknown'}). Move what reads it to its successor before "
            "then; its catalog page says more.")
    fields: dict[str, object] = {"kind": event.kind, "entry": event.entry,
                                 "since": event.since, "owner": event.owner,
                                 "at": format_time(event.at)}
    owners = tuple(o.strip() for o in event.owner.split(",") if o.strip())
    return Message(event.name, event.id, subject[:300], text, fields,
                   (event.entry,) if event.kind == "dataset" else (), owners)
