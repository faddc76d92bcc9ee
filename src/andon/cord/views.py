"""What the readers of the cord read models get: small frozen records made from the rows the
store answers (``andon.store.cordviews``), typed with the engine's enums. Each says once what its
JSON is (``to_json``): the API's answer and what ``andon cord ... --json`` prints, key for key.

An incident's timeline: the bad version was ``produced``, the problem was ``detected``, the cord
``pulled``, ``resolved`` by a person, the partition ``remade`` (or accepted as fixed, which
releases the halt) and everything downstream ``recovered``. Time to detect = detected -
produced; time to recover = recovered - detected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from andon.engine.cords import CordStatus
from andon.engine.outputs import OutputState
from andon.events.codec import parse_time
from andon.model.views import to_json

Row = Mapping[str, Any]  # a row of a read model, as the store answers it
JsonObject = dict[str, object]

# the steps of an incident, in order, and the field holding when each happened
STEPS = (("produced_bad", "produced_at"), ("detected", "detected_at"), ("pulled", "pulled_at"),
         ("resolved", "resolved_at"), ("remade", "remade_at"), ("recovered", "recovered_at"))


def _seconds(later: str | None, earlier: str | None) -> float | None:
    if not later or not earlier:
        return None
    return round((parse_time(later) - parse_time(earlier)).total_seconds(), 3)


@dataclass(frozen=True, slots=True)
class Step:
    """A step of an incident's timeline (one of ``STEPS``) and when it happened, in the log's
    text form."""

    step: str
    at: str


@dataclass(frozen=True, slots=True)
class Incident:
    """One andon cord: its scope, its state and its timeline (times in the log's text form).
    ``halted`` counts the partitions in its scope at the pull; ``held`` and ``cancelled`` the
    queued and running runs it stopped then."""

    cord_id: str
    asset: str
    partition: str
    version: int
    reason: str
    pulled_by: str
    status: CordStatus
    producer: str
    produced_at: str | None
    detected_at: str | None
    pulled_at: str
    resolved_at: str | None
    resolved_by: str
    note: str
    manual_fix: bool
    resolutions: int
    remake_run_id: str
    remake_error: str
    remade_at: str | None
    recovered_at: str | None
    halted: int
    held: int
    cancelled: int
    seq: int

    @classmethod
    def of(cls, row: Row) -> Incident:
        """The incident of a row of ``cords``."""
        return cls(**{**row, "status": CordStatus(row["status"]),
                      "manual_fix": bool(row["manual_fix"])})

    @property
    def timeline(self) -> tuple[Step, ...]:
        """The steps that happened, in order."""
        return tuple(Step(step, at) for step, field in STEPS
                     if (at := getattr(self, field)))

    @property
    def time_to_detect_seconds(self) -> float | None:
        return _seconds(self.detected_at, self.produced_at)

    @property
    def time_to_recover_seconds(self) -> float | None:
        return _seconds(self.recovered_at, self.detected_at)

    def to_json(self) -> JsonObject:
        return {**to_json(self), "timeline": to_json(self.timeline),
                "time_to_detect_seconds": self.time_to_detect_seconds,
                "time_to_recover_seconds": self.time_to_recover_seconds}


@dataclass(frozen=True, slots=True)
class Halt:
    """A (pipeline, partition) a cord halts now."""

    pipeline: str
    partition: str


@dataclass(frozen=True, slots=True)
class SuspectOutput:
    """An output version made from a cord's bad data: its pipeline's ``bad_outputs`` action
    (keep, quarantine, delete), where its file is (``state``), its ``location`` relative to the
    project and, while quarantined, where it was moved (``quarantine_path``)."""

    cord_id: str
    asset: str
    partition: str
    version: int
    pipeline: str
    action: str
    state: OutputState
    location: str
    quarantine_path: str
    at: str

    @classmethod
    def of(cls, row: Row) -> SuspectOutput:
        """The suspect output of a row of ``cord_outputs``."""
        return cls(**{**row, "state": OutputState(row["state"])})

    @property
    def restorable(self) -> bool:
        """Whether it can be moved back (``andon.cord.suspects.refusal`` says why not)."""
        return self.state is OutputState.QUARANTINED

    def to_json(self) -> JsonObject:
        return to_json(self)


@dataclass(frozen=True, slots=True)
class CordDetail:
    """One cord as an incident, with what it halts now and its suspect outputs."""

    incident: Incident
    halts: tuple[Halt, ...]
    outputs: tuple[SuspectOutput, ...]

    def to_json(self) -> JsonObject:
        # "halted" in its place among the cord's fields: what it halts now, not the count
        return {**self.incident.to_json(), "halted": to_json(self.halts),
                "outputs": to_json(self.outputs)}


@dataclass(frozen=True, slots=True)
class HaltingCord:
    """A cord halting a partition: its bad ``asset`` ``partition``, why, who pulled it."""

    cord_id: str
    asset: str
    partition: str
    reason: str
    by: str
    status: CordStatus

    @classmethod
    def of(cls, row: Row) -> HaltingCord:
        """The halting cord of a row of the store's ``halts`` (``bad_partition``: its own)."""
        return cls(row["cord_id"], row["asset"], row["bad_partition"], row["reason"],
                   row["pulled_by"], CordStatus(row["status"]))


@dataclass(frozen=True, slots=True)
class Halted:
    """A halted (pipeline, partition) and the cords halting it, oldest first."""

    pipeline: str
    partition: str
    cords: tuple[HaltingCord, ...]

    def to_json(self) -> JsonObject:
        return to_json(self)
