"""What the planner reads of the engine's state: read-only, typed protocols.

The planner sits above the engine (DESIGN.md section 3) and may not import it; the engine hands
in its ``EngineState`` as it is, which has every member here, so mypy checks both that the
planner reads nothing else and that it changes nothing (every member is a property, every
collection a ``Mapping`` or ``Sequence``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from datetime import datetime
from typing import Protocol, TypeVar

from andon.events import PartitionRef
from andon.model.status import RunStatus

Key = tuple[str, str]  # (asset or pipeline, partition)


class Work(Protocol):
    """What a dispatch rule orders by: a run, a job of a what-if day (``lookahead.Job``) or a
    node of the forecast's schedule (``schedule.Node``)."""

    @property
    def pipeline(self) -> str: ...
    @property
    def partition(self) -> str: ...
    @property
    def seq(self) -> int: ...  # queue order


W = TypeVar("W", bound=Work)


class RunView(Work, Protocol):
    """One run (the engine's ``Run``)."""

    @property
    def run_id(self) -> str: ...
    @property
    def attempt(self) -> int: ...
    @property
    def status(self) -> RunStatus: ...
    @property
    def not_before(self) -> datetime | None: ...
    @property
    def started_at(self) -> datetime | None: ...
    @property
    def pool(self) -> str: ...
    @property
    def slots(self) -> int: ...
    @property
    def inputs(self) -> Sequence[PartitionRef]: ...  # the input versions it read


# the runs a policy orders: it returns some of the very objects it was given
R = TypeVar("R", bound=RunView)


class PartitionView(Protocol):
    """The current version of one partition (the engine's ``PartitionState``)."""

    @property
    def version(self) -> int: ...
    @property
    def at(self) -> datetime: ...
    @property
    def run_id(self) -> str: ...  # empty for source data and data accepted as fixed by hand


class CordView(Protocol):
    @property
    def cord_id(self) -> str: ...
    @property
    def reason(self) -> str: ...


class CordsView(Protocol):
    """The andon cords (the engine's ``CordBook``)."""

    @property
    def cords(self) -> Mapping[str, CordView]: ...
    @property
    def halted(self) -> Mapping[Key, Set[str]]: ...  # (pipeline, partition) -> cords halting it


class ProblemView(Protocol):
    """An event of the log that did not fit the state before it (``engine.state.Problem``)."""

    def to_dict(self) -> dict[str, object]: ...


class PlanningState(Protocol):
    """The engine's state as the planner reads it."""

    @property
    def partitions(self) -> Mapping[Key, PartitionView]: ...
    @property
    def runs(self) -> Mapping[str, RunView]: ...
    @property
    def active(self) -> Mapping[Key, str]: ...  # (pipeline, partition) -> queued or running run
    @property
    def queue(self) -> Mapping[str, RunView]: ...  # queued runs in arrival order
    @property
    def last_end(self) -> Mapping[Key, RunView]: ...  # the last ended run per (pipeline, key)
    @property
    def pool_used(self) -> Mapping[str, int]: ...
    @property
    def cords(self) -> CordsView: ...
    @property
    def problems(self) -> Sequence[ProblemView]: ...  # shown with a plan made from the log

    def version(self, asset: str, key: str) -> int: ...
    def running(self) -> Sequence[RunView]: ...  # runs executing now
