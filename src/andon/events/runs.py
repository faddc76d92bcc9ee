"""The events of a partition's data and its runs: announced, requested, queued, started, ended;
checks, notifications and deliverables' states. Part of the vocabulary of ``andon.events``, which
imports this module on the first use of one of its names."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from andon.events import Event, Frame, OutputWritten, PartitionRef

__all__ = [  # the names andon.events resolves to this module
    "PartitionAvailable", "RunRequested", "RunCancelRequested", "RunQueued", "RunStarted",
    "RunLaunched", "RunSucceeded", "RunFailed", "RunCancelled", "DeliverablePlanned",
    "DeliverableAtRisk", "DeliverableMissed", "DeliverableRecovered", "CheckPassed",
    "CheckFailed", "NotificationSent", "NotificationFailed", "RUN_ENDED",
]

@dataclass(frozen=True, kw_only=True)
class PartitionAvailable(Event):
    """A source partition exists (announced by notify, the API or a file landing). Re-announcing
    identical data (same fingerprint) does not create a new version. ``version`` is the one the
    engine gave the data as it recorded the event (the current one again for identical data; 0
    in an event recorded without the engine)."""

    name: ClassVar[str] = "partition.available"
    asset: str
    partition: str
    origin: str = "notify"  # notify | api | file
    location: str = ""
    size_bytes: int = 0
    fingerprint: str = ""
    version: int = 0


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
    code_version: str = ""  # the definitions' content hash the run was started from
    commit: str = ""  # the project's git commit then ("" outside a git checkout)


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
    partition written, ``versions`` the version the engine gave each of them as it recorded the
    event (empty in an event recorded without the engine); ``metrics`` (name -> finite number)
    and ``params`` (name -> text) what the pipeline logged with ``ctx.log_metric`` and
    ``ctx.log_params`` (empty when it logged none, and in a log written before they were
    recorded); ``profiles`` the profile the run wrote of each profiled output (data set ->
    ``{"path": relative to the project, "rows", "columns"}``, ``andon.executors.profiling``)."""

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
    versions: tuple[PartitionRef, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class RunFailed(Event):
    """A run failed: a non-zero exit, an exception (``error_type``, ``error_message``), a timeout,
    or its process was lost (``error_type`` = ``ProcessLost``). ``frames`` are the exception's
    traceback frames in the project's own code, innermost last (empty when there was no
    exception, none was in the project's code, or in a log written before they were recorded)."""

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
    frames: tuple[Frame, ...] = ()


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


@dataclass(frozen=True, kw_only=True)
class _DeliverableState(Event):
    """The plan's view of one deliverable (a partition of a pipeline with a deadline): ``due`` is
    when it must exist, ``predicted_finish`` when the plan expects it (None: not without a
    person), ``reason`` what it waits for, ``owner`` who should hear about it."""

    pipeline: str
    partition: str
    due: datetime
    predicted_finish: datetime | None = None
    reason: str = ""
    owner: str = ""


@dataclass(frozen=True, kw_only=True)
class DeliverablePlanned(_DeliverableState):
    """The plan as first made for a deliverable: its predicted start and finish the first time
    the live plan saw it undelivered, kept as the baseline later predictions and the actual run
    are compared with (recorded once; id ``planned:PIPELINE:PARTITION``, so a scheduler that
    plans it again after a restart records nothing). ``policy`` made the plan."""

    name: ClassVar[str] = "deliverable.planned"
    predicted_start: datetime | None = None
    policy: str = ""


@dataclass(frozen=True, kw_only=True)
class DeliverableAtRisk(_DeliverableState):
    """A deliverable's predicted finish passed its due time (recorded once, when the plan turns;
    id ``at_risk:PIPELINE:PARTITION:N``, the N-th time it did)."""

    name: ClassVar[str] = "deliverable.at_risk"


@dataclass(frozen=True, kw_only=True)
class DeliverableMissed(_DeliverableState):
    """Deliverable ``pipeline`` ``partition`` was not delivered by ``due``: recorded once, when
    the plan first sees it overdue (id ``missed:PIPELINE:PARTITION``)."""

    name: ClassVar[str] = "deliverable.missed"


@dataclass(frozen=True, kw_only=True)
class DeliverableRecovered(_DeliverableState):
    """A deliverable that was at risk is back on plan (predicted, or delivered, by its due time);
    id ``recovered:PIPELINE:PARTITION:N`` for the N-th at-risk event."""

    name: ClassVar[str] = "deliverable.recovered"


@dataclass(frozen=True, kw_only=True)
class _CheckResult(Event):
    """The outcome of one data quality check on one version of a partition: ``numbers`` are the
    measurements (row count, null fraction, z-score, ...) for charts, ``message`` says why."""

    asset: str
    partition: str
    version: int
    check: str
    blocking: bool = True
    numbers: dict[str, float] = field(default_factory=dict)
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class CheckPassed(_CheckResult):
    """A data quality check passed on a new version of a partition."""

    name: ClassVar[str] = "check.passed"


@dataclass(frozen=True, kw_only=True)
class CheckFailed(_CheckResult):
    """A data quality check failed (or raised) on a new version of a partition; a ``blocking``
    one pulls the andon cord on that partition, a warning one only notifies."""

    name: ClassVar[str] = "check.failed"


@dataclass(frozen=True, kw_only=True)
class NotificationSent(Event):
    """A notification about event ``about_id`` (of type ``about``) reached ``recipient`` (an
    e-mail address or a webhook name, never a secret) over ``channel`` (webhook | email) on
    attempt ``attempt``."""

    name: ClassVar[str] = "notification.sent"
    about: str
    about_id: str
    channel: str
    recipient: str
    attempt: int = 1


@dataclass(frozen=True, kw_only=True)
class NotificationFailed(Event):
    """An attempt to deliver a notification failed (``error``); ``retry_in_seconds`` says when
    the next attempt is due, or is None when andon gave up."""

    name: ClassVar[str] = "notification.failed"
    about: str
    about_id: str
    channel: str
    recipient: str
    attempt: int = 1
    error: str = ""
    retry_in_seconds: float | None = None


RUN_ENDED = (RunSucceeded, RunFailed, RunCancelled)
