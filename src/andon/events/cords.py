"""The events of a pulled cord: halts, suspect outputs set aside, deleted or restored, and the
cord's resolution. Part of the vocabulary of ``andon.events``, which imports this module on the
first use of one of its names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from andon.events import Event

__all__ = [  # the names andon.events resolves to this module
    "PipelinePartition", "CordPulled", "CordHalted", "OutputSuspect", "OutputQuarantined",
    "OutputDeleted", "OutputRestoreRequested", "OutputRestored", "CordResolved",
    "CordFixAccepted", "CordReleased", "CordRemakeFailed", "CordRecovered", "OUTPUT_EVENTS",
    "CORD_EVENTS",
]


@dataclass(frozen=True)
class PipelinePartition:
    """One partition of a pipeline (what one of its runs makes)."""

    pipeline: str
    partition: str


@dataclass(frozen=True, kw_only=True)
class CordPulled(Event):
    """The andon cord ``cord_id`` was pulled on version ``version`` of a partition (0: whatever
    version is current): it is known to be bad (``reason``), so everything downstream of it halts
    until the cord is resolved. ``by`` is a person, ``api`` or ``check:NAME``; ``detected_at`` is
    when the problem was found, when that was before the pull."""

    name: ClassVar[str] = "cord.pulled"
    cord_id: str
    asset: str
    partition: str
    version: int = 0
    reason: str = ""
    by: str = ""
    detected_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class CordHalted(Event):
    """What cord ``cord_id`` halts, as the engine derived it: ``partitions`` downstream of the bad
    one through every mapping and every input a run actually read, in dependency order (the
    producer's own partition first, when the bad data was produced); queued runs ``held``, running
    runs ``cancelled``, or ``finishing`` when their pipeline says ``on_cord="finish"``."""

    name: ClassVar[str] = "cord.halted"
    cord_id: str
    producer: str = ""
    partitions: tuple[PipelinePartition, ...] = ()
    held: tuple[str, ...] = ()
    cancelled: tuple[str, ...] = ()
    finishing: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class OutputSuspect(Event):
    """Version ``version`` of a partition was made, directly or not, from data under cord
    ``cord_id``. ``action`` is the producing pipeline's ``bad_outputs`` policy (keep, quarantine,
    delete), which the runner applies to ``location`` (relative to the project, as the run
    recorded it, with its ``fingerprint``)."""

    name: ClassVar[str] = "output.suspect"
    cord_id: str
    asset: str
    partition: str
    version: int
    pipeline: str = ""
    location: str = ""
    fingerprint: str = ""
    action: str = "keep"


@dataclass(frozen=True, kw_only=True)
class _OutputAside(Event):
    """Suspect output version ``version`` of a partition under cord ``cord_id``, at ``location``
    (relative to the project) or moved aside to ``quarantine_path``."""

    cord_id: str
    asset: str
    partition: str
    version: int
    location: str
    quarantine_path: str


@dataclass(frozen=True, kw_only=True)
class OutputQuarantined(_OutputAside):
    """A suspect output was moved aside to ``quarantine_path`` (under STATE_DIR/quarantine), from
    where it can be restored."""

    name: ClassVar[str] = "output.quarantined"


@dataclass(frozen=True, kw_only=True)
class OutputDeleted(Event):
    """A suspect output that andon had produced was deleted from ``location``."""

    name: ClassVar[str] = "output.deleted"
    cord_id: str
    asset: str
    partition: str
    version: int
    location: str


@dataclass(frozen=True, kw_only=True)
class OutputRestoreRequested(_OutputAside):
    """Someone (``by``) asked to move a quarantined output back (``andon cord restore``, ``POST
    /api/v1/cords/{id}/restore``). The engine accepts it while the output is quarantined; the
    cord's file step then moves it and ``output.restored`` records the move."""

    name: ClassVar[str] = "output.restore_requested"
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class OutputRestored(_OutputAside):
    """A quarantined output was moved back from ``quarantine_path`` to ``location``."""

    name: ClassVar[str] = "output.restored"
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class CordResolved(Event):
    """Someone resolved cord ``cord_id`` (``note`` says how). andon re-makes the bad partition
    (re-runs its producer, or waits for a source to be announced again) or, with ``manual_fix``,
    accepts the data as it is now as fixed (a new version of the partition)."""

    name: ClassVar[str] = "cord.resolved"
    cord_id: str
    note: str = ""
    by: str = ""
    manual_fix: bool = False


@dataclass(frozen=True, kw_only=True)
class CordFixAccepted(Event):
    """The engine accepted a ``manual_fix`` resolve of cord ``cord_id``: the data of its bad
    partition as it is now is version ``version`` (same ``location`` and ``fingerprint``). A log
    from before this event gets it at the next engine turn, once per manual fix it holds."""

    name: ClassVar[str] = "cord.fix_accepted"
    cord_id: str
    asset: str
    partition: str
    version: int
    location: str = ""
    fingerprint: str = ""


@dataclass(frozen=True, kw_only=True)
class CordReleased(Event):
    """The bad partition was re-made (by run ``run_id``; none for a source or a manual fix) as
    version ``version``: cord ``cord_id`` halts nothing any more, and the partitions it affected
    (``rerun``) are re-made in dependency order."""

    name: ClassVar[str] = "cord.released"
    cord_id: str
    version: int
    run_id: str = ""
    rerun: tuple[PipelinePartition, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CordRemakeFailed(Event):
    """Re-making the bad partition (run ``run_id``) failed or was cancelled: cord ``cord_id``
    stays pulled; resolve it again once the producer is fixed."""

    name: ClassVar[str] = "cord.remake_failed"
    cord_id: str
    run_id: str
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class CordRecovered(Event):
    """Every partition cord ``cord_id`` affected has been re-made from good data: the incident
    is over."""

    name: ClassVar[str] = "cord.recovered"
    cord_id: str


OUTPUT_EVENTS = (OutputSuspect, OutputQuarantined, OutputDeleted, OutputRestoreRequested,
                 OutputRestored)
CORD_EVENTS = (CordPulled, CordHalted, *OUTPUT_EVENTS, CordResolved, CordFixAccepted,
               CordReleased, CordRemakeFailed, CordRecovered)
