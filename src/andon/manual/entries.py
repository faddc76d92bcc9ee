"""The manual's entries: the occurrences of problems grouped by signature, with what was done.

Pure: ``fold`` takes the stored facts (``andon.store.manual`` reads them) and the grouping rules,
and gives the entries; the same facts and rules give the same manual in any process.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How a problem manifested, in the order the manual lists them: a run that failed for good
# (retries spent), a run andon lost track of, a failing data check, an andon cord, a missed
# deadline.
KINDS = ("failure", "lost", "check", "cord", "deadline")


@dataclass(frozen=True)
class Occurrence:
    """One time a problem showed: ``kind`` (one of KINDS) of ``pipeline`` (the producer, for a
    check or a cord on a source: "") on ``asset`` ``partition``; ``run_id`` for failures,
    ``cord_id`` for cords, ``check`` for checks; ``at`` when andon recorded it (ISO UTC);
    ``began`` when the problem began (the run's start, the partition's version made, the due
    time), so that ``at - began`` is the time to detect; ``recovered`` when the partition was
    made good again (a later success, a check passing, the cord's recovery, the late delivery;
    "" while not) and ``recovered_by`` the run that did it, when a run did;
    ``code_version``/``commit`` of the failing run; ``regression``: it came after a resolution,
    from code as new as the fix's or newer."""

    kind: str
    entry: str  # the signature id: the manual entry it belongs to
    pipeline: str
    asset: str
    partition: str
    at: str
    began: str = ""
    recovered: str = ""
    recovered_by: str = ""  # the run that made the partition good again (a retry, a re-run)
    run_id: str = ""
    cord_id: str = ""
    check: str = ""
    error_type: str = ""
    message: str = ""  # as it was (the title holds the masked one)
    code_version: str = ""
    commit: str = ""
    regression: bool = False
    seq: int = 0

    @property
    def ttd_seconds(self) -> float | None:
        """Time to detect: from when the problem began to when andon recorded it."""
        return _seconds(self.began, self.at)

    @property
    def ttr_seconds(self) -> float | None:
        """Time to resolve: from when andon recorded it to when it was made good (None: not
        yet)."""
        return _seconds(self.at, self.recovered)


def _seconds(start: str, end: str) -> float | None:
    """Seconds from ``start`` to ``end`` (ISO times); None when either is unknown or they run
    backwards (the clocks of two machines)."""
    if not start or not end:
        return None
    from andon.events.codec import parse_time  # here: `andon --help` needs only KINDS

    span = (parse_time(end) - parse_time(start)).total_seconds()
    return span if span >= 0 else None


@dataclass(frozen=True)
class Resolution:
    """How a problem was fixed: ``note`` (a manual resolution's or a cord's resolve note),
    ``link``, ``commit`` of the fix, ``by``, ``at``; ``code_version`` in force then; ``cord_id``
    when it is a cord's resolve note."""

    entry: str
    note: str
    at: str
    link: str = ""
    commit: str = ""
    by: str = ""
    code_version: str = ""
    cord_id: str = ""


@dataclass
class ManualEntry:
    """One problem of the manual: signature ``id`` and ``title`` (the exception and the masked
    message, a rule's fingerprint, the check or cord that showed it), ``kind``, the
    ``pipelines`` and ``assets`` it touched, every ``occurrences`` (oldest first), its
    ``resolutions`` (oldest first), the ``partitions`` affected and the ``consumers`` reached
    downstream (transitively, pipelines and external consumers); ``regression``: its latest
    occurrence came back after the latest resolution from code as new as the fix's."""

    id: str
    kind: str
    title: str
    pipelines: tuple[str, ...] = ()
    assets: tuple[str, ...] = ()
    occurrences: list[Occurrence] = field(default_factory=list)
    resolutions: list[Resolution] = field(default_factory=list)
    partitions: tuple[str, ...] = ()  # "asset partition" (or "pipeline partition"), sorted
    consumers: tuple[str, ...] = ()
    regression: bool = False
    error_type: str = ""
    file: str = ""  # the innermost frame in the project's code, for failures
    function: str = ""
    fingerprint: str = ""  # the rule's name when a rule grouped it

    @property
    def first_seen(self) -> str:
        return self.occurrences[0].at if self.occurrences else ""

    @property
    def last_seen(self) -> str:
        return self.occurrences[-1].at if self.occurrences else ""


@dataclass(frozen=True)
class Hint:
    """What the manual knows of a failed run's problem: entry ``entry`` was ``seen`` times since
    ``since``; ``fix`` its latest resolution (None: never resolved); ``regression``: this run's
    failure came back after that fix from code as new. ``text``: "seen N times since DATE; last
    fixed by: NOTE (LINK)"."""

    entry: str
    title: str
    seen: int
    since: str
    fix: Resolution | None = None
    regression: bool = False

    @property
    def text(self) -> str:
        said = f"seen {self.seen} time{'s' if self.seen != 1 else ''} since {self.since[:10]}"
        if self.fix is not None:
            said += f"; last fixed by: {self.fix.note}"
            if self.fix.link:
                said += f" ({self.fix.link})"
        if self.regression:
            said += " [regression]"
        return said

    def to_json(self) -> dict[str, Any]:
        """The hint as a run's JSON carries it (``hint``)."""
        fix = None if self.fix is None else dict(
            note=self.fix.note, link=self.fix.link, commit=self.fix.commit, by=self.fix.by,
            at=self.fix.at)
        return dict(entry=self.entry, title=self.title, seen=self.seen, since=self.since,
                    text=self.text, regression=self.regression, fix=fix)


@dataclass(frozen=True)
class ReviewRow:
    """An entry seen in the review's window: ``count`` occurrences there, ``label`` frequent
    (≥ 3 in the window: a candidate for automation), rare, or new (first seen in the window)."""

    entry: str
    kind: str
    title: str
    count: int
    label: str
    pipelines: tuple[str, ...] = ()
    last_seen: str = ""


@dataclass(frozen=True)
class Review:
    """The review of the last ``days`` days up to ``until``: the entries seen, most frequent
    first; the reactive share of the time (``reactive_share``, 0..1) and its two parts:
    ``incident_share`` (the time incidents were open, weighted by the pipelines they halted, of
    all pipelines' time) and ``compute_share`` (the compute of runs that failed or re-made
    something, of all compute); ``flagged`` when the share is above ``threshold`` (10 %)."""

    days: int
    since: str
    until: str
    rows: tuple[ReviewRow, ...]
    reactive_share: float
    incident_share: float
    compute_share: float
    threshold: float = 0.10

    @property
    def flagged(self) -> bool:
        return self.reactive_share > self.threshold
