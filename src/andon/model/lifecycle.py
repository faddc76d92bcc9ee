"""The lifecycle of a data set or pipeline, spelled once: the states an entry of the catalog
declares (``active``, ``beta``, ``deprecated``) and the states an agreed deletion moves through
(``active`` -> ``deprecated`` -> ``frozen`` -> ``deleted``).

A deprecation names a date, ``delete_after`` (YYYY-MM-DD): the object is *deprecated* (announced)
until that day has passed, *frozen* from the next midnight UTC (no new runs of it or of its
producer; reads still work but warn) and *deleted* once a sweep removed its data (a tombstone
keeps who, when and why). Pure: no clock, the caller passes ``now``."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

ACTIVE = "active"
BETA = "beta"
DEPRECATED = "deprecated"
FROZEN = "frozen"
DELETED = "deleted"

LIFECYCLES = (ACTIVE, BETA, DEPRECATED)  # what a catalog entry declares
STATES = (ACTIVE, DEPRECATED, FROZEN, DELETED)  # an object under an agreed deletion
OBJECT_KINDS = ("dataset", "pipeline")  # what ``andon deprecate`` takes
SWEEP_PIPELINE = "andon_sweep"  # the built-in pipeline a project with [sweep] every gets


def parse_day(text: str) -> date:
    """``YYYY-MM-DD`` as a date; ValueError for anything else."""
    if len(text) != 10:
        raise ValueError(f"{text[:40]!r} is not a date YYYY-MM-DD")
    return date.fromisoformat(text)


def passed_at(day: str | date) -> datetime:
    """The moment ``day`` has passed: the next midnight, UTC."""
    d = parse_day(day) if isinstance(day, str) else day
    return datetime.combine(d + timedelta(days=1), time(), UTC)


def state_at(delete_after: str, deleted: bool, now: datetime) -> str:
    """The state of a deprecated object at ``now``: deleted, frozen (its date has passed) or
    deprecated."""
    if deleted:
        return DELETED
    return FROZEN if now >= passed_at(delete_after) else DEPRECATED
