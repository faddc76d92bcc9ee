"""The states of a run: the vocabulary the engine decides in, the store records and the planner,
the API and the pages read (the legal moves between them are the engine's, ``engine.runs``)."""

from __future__ import annotations

import enum


class RunStatus(str, enum.Enum):
    """A run's state. Its ``value`` is how the store, the API and the pages spell it (format a
    member through ``value``: in an f-string the member reads ``RunStatus.QUEUED``)."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def ended(self) -> bool:
        return self in (RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.CANCELLED)


# a run in these states may still start, write to its log or end
ACTIVE_STATUSES = frozenset({RunStatus.QUEUED, RunStatus.RUNNING})

# the error type of a run whose process andon lost track of (it died, or its scheduler stopped)
LOST_ERROR = "ProcessLost"
