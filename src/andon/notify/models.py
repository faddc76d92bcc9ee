"""What a held candidate tells its model's owner: a pure function from ``model.held``."""

from __future__ import annotations

from andon.events.codec import format_time
from andon.events.models import ModelHeld
from andon.notify.message import Message


def held_message(event: ModelHeld) -> Message:
    """The message saying version ``event.version`` of ``event.model`` was not promoted, and
    why."""
    subject = (f"model {event.model}: version {event.version} not promoted "
               f"({event.kind}), version {event.serving or 'none'} serves")
    text = (f"andon did not promote version {event.version} of model {event.model}: "
            f"{event.reason}. It stays a candidate"
            + (f"; version {event.serving} keeps serving" if event.serving else "")
            + f". Promote it by hand with: andon model promote {event.model} {event.version}")
    fields: dict[str, object] = {"model": event.model, "version": event.version,
                                 "serving": event.serving, "kind": event.kind,
                                 "reason": event.reason, "at": format_time(event.at)}
    owners = tuple(o.strip() for o in event.owner.split(",") if o.strip())
    return Message(event.name, event.id, subject[:300], text, fields, (), owners)
