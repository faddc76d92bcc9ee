"""What agreed deletions tell, and to whom: pure functions from the lifecycle events.

A deprecation (``lifecycle.deprecated``) goes to everyone who hears of the data that goes (its
owners, subscribers and registered consumers: ``assets``) and to the owners of the pipelines
that read it (seen reading, or declaring it as an input). A read of deprecated data as a run starts
(``lifecycle.deprecated_read``: it works, and warns) goes to the data's and the reader's owners;
a deletion blocked by a read after the notice (``lifecycle.deletion_blocked``) to the object's
owner."""

from __future__ import annotations

from andon.events import Event
from andon.events.codec import format_time
from andon.events.lifecycle import DeletionBlocked, DeprecatedRead, ObjectDeprecated
from andon.model.graph import Graph
from andon.notify.message import Message

NOTICES = (ObjectDeprecated, DeletionBlocked, DeprecatedRead)


def _owners(text: str) -> tuple[str, ...]:
    return tuple(o.strip() for o in text.split(",") if o.strip())


def lifecycle_message(event: Event, graph: Graph) -> Message:
    """The message of a deprecation, a read of deprecated data or a blocked deletion."""
    if isinstance(event, DeprecatedRead):
        state = "frozen" if event.frozen else "deprecated"
        subject = f"{event.reader} read {state} data set {event.asset}"
        text = (f"Run {event.run_id} of {event.reader} read {event.asset}, whose {event.kind} "
                f"{event.object} is {state} (deleted after {event.delete_after}). The read "
                "worked, and it blocks the deletion: move the pipeline off it.")
        fields: dict[str, object] = {
            "asset": event.asset, "reader": event.reader, "run_id": event.run_id,
            "kind": event.kind, "object": event.object, "delete_after": event.delete_after,
            "frozen": event.frozen, "at": format_time(event.at)}
        pipe = graph.pipelines.get(event.reader)
        return Message(event.name, event.id, subject[:300], text, fields, (),
                       (*_owners(event.owner), *(_owners(pipe.owner) if pipe else ())))
    if isinstance(event, DeletionBlocked):
        subject = f"deletion of {event.kind} {event.object} blocked: {event.reader} still reads it"
        text = (f"The sweep did not delete {event.kind} {event.object}: {event.reader} read "
                f"{event.asset} at {event.read_at}, after the deprecation notice of "
                f"{event.noticed_at}. Move {event.reader} off it (or keep the data), then "
                "deprecate it again with a new date (andon deprecate ... --delete-after).")
        blocked: dict[str, object] = {"kind": event.kind, "object": event.object, "asset": event.asset,
                  "reader": event.reader, "read_at": event.read_at,
                  "noticed_at": event.noticed_at, "at": format_time(event.at)}
        return Message(event.name, event.id, subject[:300], text, blocked, (),
                       _owners(event.owner))
    assert isinstance(event, ObjectDeprecated)
    what = "data set" if event.kind == "dataset" else event.kind
    instead = f" Use {event.replacement} instead." if event.replacement else ""
    subject = f"{what} {event.object} is deprecated: deleted after {event.delete_after}"
    text = (f"The {what} {event.object} is deprecated (by {event.by or 'unknown'}: "
            f"{event.reason}) and its data ({', '.join(event.assets) or 'none'}) will be "
            f"deleted after {event.delete_after}.{instead} Any read of it after this notice "
            "blocks the deletion, and its owner hears of it.")
    readers = [o for p in event.readers if p in graph.pipelines
               for o in _owners(graph.pipelines[p].owner)]
    fields = {
        "kind": event.kind, "object": event.object, "delete_after": event.delete_after,
        "reason": event.reason, "replacement": event.replacement, "by": event.by,
        "readers": list(event.readers), "at": format_time(event.at)}
    return Message(event.name, event.id, subject[:300], text, fields, event.assets,
                   (*_owners(event.owner), *readers))
