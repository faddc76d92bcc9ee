"""The event vocabulary: every happening in andon is one of these small, named, frozen records.

Each event has a stable ``name`` (stored in the log), an ``id`` (ingesting the same id twice changes
nothing) and ``at``, a UTC time. The log stores only these; all other state is derived from them.
Their stored form is ``andon.events.codec``; the ids andon and clients give them,
``andon.events.ids``.

This module defines the base and the records a run reads and writes (what a fork server and a
run's process need, and all they import); the events themselves live in the submodules named in
``_LAZY`` and are built on the first use of one of their names (``from andon.events import
RunStarted`` imports ``andon.events.runs`` then): a process that never names a cord's events
never builds them. The events of the catalog, access, lifecycle, manual, models and serving are
imported from their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from typing import TYPE_CHECKING, Any, ClassVar

from andon.events.ids import new_id


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


# what a run's failure records of its traceback (the outermost frames dropped, long names cut);
# of its message: andon.model.masks.MAX_ERROR_MESSAGE
MAX_FRAMES = 20
MAX_FRAME_TEXT = 300


@dataclass(frozen=True)
class Frame:
    """One frame of a failed run's traceback in the project's own code: ``file`` relative to the
    project folder (POSIX), ``function``; no line number, so that an edit elsewhere in the file
    does not change the failure's signature."""

    file: str
    function: str


# the vocabulary's submodules, each imported on the first use of one of its names (PEP 562); the
# names are the modules' own, listed again below for the type checker (tests/events hold the two
# to the same set)
_LAZY = ("runs", "cords")


def __getattr__(name: str) -> Any:
    for module in _LAZY:
        loaded = import_module(f"andon.events.{module}")
        if name in loaded.__all__:
            found = globals()[name] = getattr(loaded, name)  # next time a plain attribute
            return found
    raise AttributeError(f"module 'andon.events' has no attribute {name!r}")


if TYPE_CHECKING:
    from andon.events.cords import (  # noqa: F401  (for the type checker)
        CORD_EVENTS,
        OUTPUT_EVENTS,
        CordFixAccepted,
        CordHalted,
        CordPulled,
        CordRecovered,
        CordReleased,
        CordRemakeFailed,
        CordResolved,
        OutputDeleted,
        OutputQuarantined,
        OutputRestored,
        OutputRestoreRequested,
        OutputSuspect,
        PipelinePartition,
    )
    from andon.events.runs import (  # noqa: F401  (for the type checker)
        RUN_ENDED,
        CheckFailed,
        CheckPassed,
        DeliverableAtRisk,
        DeliverableMissed,
        DeliverablePlanned,
        DeliverableRecovered,
        NotificationFailed,
        NotificationSent,
        PartitionAvailable,
        RunCancelled,
        RunCancelRequested,
        RunFailed,
        RunLaunched,
        RunQueued,
        RunRequested,
        RunStarted,
        RunSucceeded,
    )
