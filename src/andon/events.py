"""The event vocabulary: every happening in andon is one of these small, named, frozen records.

Each event has a stable ``name`` (stored in the log), an ``id`` (ingesting the same id twice changes
nothing) and ``at``, a UTC time. The log stores only these; all other state is derived from them.
"""

from __future__ import annotations

import dataclasses
import typing
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar


def new_id() -> str:
    return uuid.uuid4().hex


def _epoch() -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``id`` identifies the happening; ``at`` is when it happened (UTC)."""

    name: ClassVar[str] = "event"
    id: str = field(default_factory=new_id)
    at: datetime = field(default_factory=_epoch)


@dataclass(frozen=True)
class PartitionRef:
    """One partition of an asset, with the version that was read or written (0 = unknown)."""

    asset: str
    partition: str
    version: int = 0


@dataclass(frozen=True)
class OutputWritten:
    """What a run wrote for one output partition: where, how big, how many rows (when known) and a
    content fingerprint (SHA-256 of the file, or of the sorted file list of a folder)."""

    asset: str
    partition: str
    location: str = ""
    size_bytes: int = 0
    rows: int | None = None
    fingerprint: str = ""


@dataclass(frozen=True, kw_only=True)
class PartitionAvailable(Event):
    """A source partition exists (announced by notify, the API or a file landing). Re-announcing
    identical data (same fingerprint) does not create a new version."""

    name: ClassVar[str] = "partition.available"
    asset: str
    partition: str
    origin: str = "notify"  # notify | api | file
    location: str = ""
    size_bytes: int = 0
    fingerprint: str = ""


@dataclass(frozen=True, kw_only=True)
class RunRequested(Event):
    """Someone asked for a run of one partition (a manual run or one partition of a backfill);
    it is queued even if the partition was already made, which re-makes it."""

    name: ClassVar[str] = "run.requested"
    pipeline: str
    partition: str
    reason: str = "manual"  # manual | backfill
    requested_by: str = ""


@dataclass(frozen=True, kw_only=True)
class RunCancelRequested(Event):
    """Someone asked to cancel a queued or running run."""

    name: ClassVar[str] = "run.cancel_requested"
    run_id: str
    requested_by: str = ""
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class RunQueued(Event):
    """A run was queued because its inputs are all present (``reason``: new_data, manual, backfill,
    upstream_changed, retry). It may not start before ``not_before`` (retry back-off)."""

    name: ClassVar[str] = "run.queued"
    run_id: str
    pipeline: str
    partition: str
    attempt: int = 1
    reason: str = "new_data"
    not_before: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class RunStarted(Event):
    """A run took its slots and was handed to an executor; ``inputs`` are the partition versions
    it will read."""

    name: ClassVar[str] = "run.started"
    run_id: str
    pipeline: str
    partition: str
    attempt: int = 1
    pool: str = "default"
    slots: int = 1
    inputs: tuple[PartitionRef, ...] = ()
    executor: str = ""


@dataclass(frozen=True, kw_only=True)
class RunLaunched(Event):
    """The executor spawned the run's process (``pid``; 0 when in-process) with its log file."""

    name: ClassVar[str] = "run.launched"
    run_id: str
    pid: int = 0
    log_path: str = ""


@dataclass(frozen=True, kw_only=True)
class RunSucceeded(Event):
    """A run finished well. Times: ``queue_seconds`` (queued -> started), ``startup_seconds``
    (process spawned -> user code entered), ``work_seconds`` (user code); ``outputs`` describe each
    partition written."""

    name: ClassVar[str] = "run.succeeded"
    run_id: str
    pipeline: str
    partition: str
    attempt: int = 1
    queue_seconds: float = 0.0
    startup_seconds: float | None = None
    work_seconds: float = 0.0
    exit_code: int = 0
    inputs: tuple[PartitionRef, ...] = ()
    outputs: tuple[OutputWritten, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunFailed(Event):
    """A run failed: a non-zero exit, an exception (``error_type``, ``error_message``), a timeout,
    or its process was lost (``error_type`` = ``ProcessLost``)."""

    name: ClassVar[str] = "run.failed"
    run_id: str
    pipeline: str
    partition: str
    attempt: int = 1
    queue_seconds: float = 0.0
    startup_seconds: float | None = None
    work_seconds: float = 0.0
    exit_code: int | None = None
    error_type: str = ""
    error_message: str = ""
    inputs: tuple[PartitionRef, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RunCancelled(Event):
    """A queued or running run was cancelled (``by`` who, ``reason`` why)."""

    name: ClassVar[str] = "run.cancelled"
    run_id: str
    pipeline: str
    partition: str
    attempt: int = 1
    by: str = ""
    reason: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    cls.name: cls for cls in (PartitionAvailable, RunRequested, RunCancelRequested, RunQueued,
                              RunStarted, RunLaunched, RunSucceeded, RunFailed, RunCancelled)
}
RUN_ENDED = (RunSucceeded, RunFailed, RunCancelled)


def format_time(moment: datetime) -> str:
    """ISO-8601 UTC with a fixed width, so that stored times sort as text."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_time(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    return value


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
