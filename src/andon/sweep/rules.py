"""The rules of agreed deletion, pure (no clock, no I/O: the caller passes ``now`` and the
facts). The benchmark's simulation (benchmarks/bench_sweep.py) calls these same functions.

- A deprecation's date must be at least ``notice_days`` ahead when it is announced
  (``deprecation_problem``).
- A deprecated object may be deleted once its date has passed, if the notice went out at least
  ``notice_days`` before that date and **no read of its data came after the notice**
  (``deletion_verdict``).
- Retention (``retained``): a version older than ``max_age`` — made, and last read, that long
  ago — goes, and so does a version of the data set past its newest ``keep_last`` (counted
  across partitions, newest made first: a model's last N versions); a version whose file a kept
  version also uses is kept (removing it would remove the kept data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

from andon.events.codec import format_time, parse_time
from andon.model.lifecycle import parse_day, passed_at
from andon.project.retention import Retention


@dataclass(frozen=True, slots=True)
class Notice:
    """The notice of a deprecation: ``kind`` ``object`` deleted after ``delete_after``
    (YYYY-MM-DD), announced at ``noticed_at``."""

    kind: str
    object: str
    delete_after: str
    noticed_at: datetime


@dataclass(frozen=True, slots=True)
class Read:
    """Pipeline (or registered consumer) ``reader`` read data set ``asset`` at ``at``."""

    asset: str
    reader: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a deprecated object may be deleted now; if not, why and what to do
    (``blocking``: the read after the notice that blocks it, if that is why)."""

    allowed: bool
    reason: str = ""
    fix: str = ""
    blocking: Read | None = None


def earliest_date(now: datetime, notice_days: int) -> str:
    """The first date a deprecation announced at ``now`` may name."""
    return (now + timedelta(days=notice_days)).date().isoformat()


def deprecation_problem(delete_after: str, now: datetime,
                        notice_days: int) -> tuple[str, str] | None:
    """Why ``delete_after`` cannot be a deprecation's date when announced at ``now`` (the
    reason and the fix), or None."""
    first = earliest_date(now, notice_days)
    try:
        day = parse_day(delete_after)
    except ValueError:
        return (f"{delete_after[:40]!r} is not a date YYYY-MM-DD",
                f"write e.g. --delete-after {first}")
    if passed_at(day) <= now:
        return (f"the date {day.isoformat()} is in the past",
                f"give a date at least {notice_days} days ahead, e.g. --delete-after {first}")
    if day.isoformat() < first:
        return (f"the date {day.isoformat()} leaves consumers less than {notice_days} days' "
                "notice ([sweep] notice_days)",
                f"give {first} or later")
    return None


def deletion_verdict(notice: Notice, reads: Iterable[Read], now: datetime,
                     notice_days: int) -> Verdict:
    """Whether ``notice``'s object may be deleted at ``now``, given the ``reads`` of its data
    (any time; those after the notice block it)."""
    due = passed_at(notice.delete_after)
    if now < due:
        return Verdict(False, f"its date {notice.delete_after} has not passed",
                       f"wait until {format_time(due)}")
    if notice.noticed_at + timedelta(days=notice_days) > due:
        return Verdict(False, f"its notice ({format_time(notice.noticed_at)}) went out less "
                       f"than {notice_days} days before its date {notice.delete_after}",
                       "deprecate it again with a date at least "
                       f"{notice_days} days ahead: --delete-after "
                       f"{earliest_date(now, notice_days)}")
    late = [r for r in reads if r.at > notice.noticed_at]
    if late:
        last = max(late, key=lambda r: (r.at, r.reader))
        return Verdict(False, f"{last.reader} read {last.asset} at {format_time(last.at)}, "
                       f"after the notice of {format_time(notice.noticed_at)}",
                       f"move {last.reader} off {last.asset} (or keep the data), then "
                       "deprecate it again with a new date: a read after the notice always "
                       "blocks deletion", last)
    return Verdict(True)


class VersionFacts(Protocol):
    """What a retention rule looks at for one version (a stored version, or a simulated one)."""

    @property
    def asset(self) -> str: ...
    @property
    def partition(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def at(self) -> str: ...
    @property
    def location(self) -> str: ...


V = TypeVar("V", bound=VersionFacts)


def retained(versions: Sequence[V], rule: Retention, now: datetime,
             last_read: Mapping[tuple[str, str, int], str]) -> list[tuple[V, str]]:
    """The versions of one data set ``rule`` deletes, each with the rule that deletes it.
    ``last_read``: (asset, partition, version) -> the last time a run read it."""
    cutoff = format_time(now - rule.max_age) if rule.max_age is not None else ""
    # keep_last counts the data set's versions across its partitions, newest made first: the
    # last N versions of a model, whichever partitions they were trained for
    newest_first = sorted(versions, key=lambda v: (v.at, v.partition, v.version), reverse=True)
    gone: list[tuple[V, str]] = []
    for i, v in enumerate(newest_first):
        if rule.keep_last is not None and i >= rule.keep_last:
            gone.append((v, f"keep_last {rule.keep_last}"))
        elif rule.max_age is not None and max(
                v.at, last_read.get((v.asset, v.partition, v.version), "")) < cutoff:
            gone.append((v, f"retention {rule.age}"))
    leaving = {id(v) for v, _ in gone}
    kept = {v.location for v in newest_first if id(v) not in leaving}
    going = [(v, why) for v, why in gone if v.location not in kept]
    return going


def reads_of(rows: Iterable[tuple[str, str, str]]) -> list[Read]:
    """``Read`` records of (asset, reader, ISO time) rows."""
    return [Read(asset, reader, parse_time(at)) for asset, reader, at in rows]
