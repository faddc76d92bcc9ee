"""The stored (and JSON) form of events: an event <-> a dict with its ``type``, and moments as
fixed-width ISO-8601 UTC text, which sorts as text. The log's contract: a field added to an event
reads back from an older payload as its default, and an unknown field is ignored."""

from __future__ import annotations

import dataclasses
import typing
from datetime import UTC, datetime
from typing import Any

from andon import events as ev
from andon.events import Event
from andon.events.access import ACCESS_EVENTS
from andon.events.catalog import CATALOG_EVENTS, CatalogEntryDeprecated
from andon.events.lifecycle import LIFECYCLE_EVENTS
from andon.events.manual import MANUAL_EVENTS
from andon.events.models import MODEL_EVENTS
from andon.events.serving import SERVING_EVENTS

# every event a log may hold, by its stored name (an event module of the vocabulary adds its own)
EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls for cls in (ev.PartitionAvailable, ev.RunRequested, ev.RunCancelRequested,
                              ev.RunQueued, ev.RunStarted, ev.RunLaunched, ev.RunSucceeded,
                              ev.RunFailed, ev.RunCancelled, ev.CheckPassed, ev.CheckFailed,
                              ev.NotificationSent, ev.NotificationFailed, ev.DeliverablePlanned,
                              ev.DeliverableAtRisk, ev.DeliverableRecovered,
                              ev.DeliverableMissed, *ev.CORD_EVENTS,
                              *ACCESS_EVENTS, *CATALOG_EVENTS,
                              CatalogEntryDeprecated, *MANUAL_EVENTS, *MODEL_EVENTS,
                              *SERVING_EVENTS, *LIFECYCLE_EVENTS)
}


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with a fixed width, so that stored times sort as text."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime writes such a year unpadded: the stored form stays its
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # every event's time, twice an append: isoformat costs a third of strftime ("+00:00" cut)
    return moment.isoformat(timespec="microseconds")[:-6] + "Z"


_SCALARS = (str, int, float, type(None))
_PLAIN = frozenset((str, int, float, bool, type(None)))  # exactly these types, not subclasses
_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names (every event encoded asks)


def _encode(value: Any) -> Any:
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    cls = type(value)
    names = _FIELDS.get(cls)
    if names is None:
        if not dataclasses.is_dataclass(cls):
            return value
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    # most fields are plain scalars: taken as they are, without a call (bool is an int)
    return {name: v if type(v) in _PLAIN else _encode(v)
            for name in names for v in (getattr(value, name),)}


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON-ready form of an event, with its ``type``."""
    data = _encode(event)
    data["type"] = event.name
    return data


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_HINTS: dict[type, dict[str, Any]] = {}


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    if hint is datetime or hint == (datetime | None):
        return parse_time(value)
    origin = typing.get_origin(hint)
    if origin is tuple:
        inner: Any = typing.get_args(hint)[0]
        if isinstance(inner, type) and dataclasses.is_dataclass(inner):
            return tuple(inner(**v) for v in value)
        return tuple(value)
    return value


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event from ``to_dict`` output; unknown fields are ignored (forward compatible)."""
    cls = EVENT_TYPES[data["type"]]
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    kwargs = {f.name: _decode(hints[f.name], data[f.name])
              for f in dataclasses.fields(cls) if f.name in data}
    return cls(**kwargs)
