"""The engine's runs and the one table of legal transitions between their states
(``andon.model.status.RunStatus``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from andon.events import PartitionRef
from andon.model.errors import IllegalTransition
from andon.model.status import RunStatus

LEGAL: dict[RunStatus, frozenset[RunStatus]] = {
    RunStatus.QUEUED: frozenset({RunStatus.RUNNING, RunStatus.CANCELLED}),
    RunStatus.RUNNING: frozenset({RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED}),
    RunStatus.SUCCEEDED: frozenset(),
    RunStatus.FAILED: frozenset(),
    RunStatus.CANCELLED: frozenset(),
}


@dataclass(slots=True)
class Run:
    """The engine's view of one run (one attempt at one partition of one pipeline)."""

    run_id: str
    pipeline: str
    partition: str
    attempt: int
    reason: str
    queued_at: datetime
    seq: int  # queue order
    status: RunStatus = RunStatus.QUEUED
    not_before: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    inputs: tuple[PartitionRef, ...] = ()
    pool: str = "default"
    slots: int = 1
    cancel_requested: bool = False
    extra: dict[str, object] = field(default_factory=dict)


# the kinds of the ids of a run's own events: ``KIND:RUN_ID`` (``launched:RUN_ID:PID``)
RUN_EVENT_KINDS = ("queued", "started", "ended", "launched")


def run_event_id(kind: str, run_id: str, pid: int | None = None) -> str:
    """The id of run ``run_id``'s own event of ``kind`` (one of ``RUN_EVENT_KINDS``):
    ``KIND:RUN_ID``, and ``launched:RUN_ID:PID`` for a launch (a re-launch is a new event)."""
    assert kind in RUN_EVENT_KINDS, kind
    return f"{kind}:{run_id}" if pid is None else f"{kind}:{run_id}:{pid}"


def run_of_event_id(event_id: str) -> str:
    """The run id inside an id of the form a run's own events have (``queued:RUN_ID``, ...),
    or "" for any other id."""
    kind, _, rest = event_id.partition(":")
    if kind not in RUN_EVENT_KINDS or not rest:
        return ""
    return rest.rsplit(":", 1)[0] if kind == "launched" else rest


def run_id_for(pipeline: str, partition: str, n: int) -> str:
    """The id of the ``n``-th run of ``partition`` of ``pipeline``: ``PIPELINE:PARTITION:N``."""
    return f"{pipeline}:{partition}:{n}"


def run_number(run_id: str) -> int:
    """The N of a run id ``PIPELINE:PARTITION:N`` (0 when it has none)."""
    tail = run_id.rsplit(":", 1)[-1]
    return int(tail) if tail.isascii() and tail.isdigit() and len(tail) < 19 else 0


def transition(run: Run, to: RunStatus) -> None:
    """Move ``run`` to ``to`` or raise IllegalTransition naming both states."""
    check_transition(run, to)
    run.status = to


def check_transition(run: Run, to: RunStatus) -> None:
    """Raise IllegalTransition naming both states unless ``run`` may move to ``to``."""
    if to not in LEGAL[run.status]:
        raise IllegalTransition(
            f"run {run.run_id} cannot go from {run.status.value} to {to.value}",
            hint=f"legal next states: {', '.join(s.value for s in LEGAL[run.status]) or 'none'}")
