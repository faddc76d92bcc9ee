"""The operations manual's events: someone wrote down how a problem was fixed.

The manual's entries themselves are not events: they are derived from the events that tell of
problems (``run.failed``, ``check.failed``, ``cord.pulled``, ``deliverable.missed``), grouped by
signature (``andon.manual``), so that a change of the grouping rules regroups the whole history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from andon.events import Event


@dataclass(frozen=True, kw_only=True)
class ManualResolved(Event):
    """``by`` wrote down how the problem of manual entry ``entry`` (a signature id) was fixed:
    ``note``, with an optional ``link`` (an issue, a pull request) and the ``commit`` of the fix;
    ``code_version`` is the definitions' content hash in force when it was written. Id
    ``resolved:ENTRY:N`` for the N-th resolution of the entry."""

    name: ClassVar[str] = "manual.resolved"
    entry: str
    note: str
    link: str = ""
    commit: str = ""
    code_version: str = ""
    by: str = ""


MANUAL_EVENTS = (ManualResolved,)
