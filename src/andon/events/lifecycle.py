"""The events of agreed deletions (``andon deprecate``, ``andon sweep``).

A data set or pipeline is deprecated with a date (``lifecycle.deprecated``, its notice: the
event's ``at``); deprecating it again with another date is a new notice that replaces the old.
A sweep that finds a read of the data after the notice records ``lifecycle.deletion_blocked``
(once per read: the id carries the read's time) and tells the owner. Each file a sweep removes
is first recorded as ``lifecycle.data_deleted`` (its tombstone) and then deleted; an object
whose data is all gone is ``lifecycle.deleted``. Times are ISO-8601 UTC; dates YYYY-MM-DD."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from andon.events import Event


def deprecated_event_id(kind: str, name: str, delete_after: str) -> str:
    """One notice per object and date: the same deprecation sent twice is recorded once."""
    return f"deprecated:{kind}:{name}:{delete_after}"


@dataclass(frozen=True, kw_only=True)
class ObjectDeprecated(Event):
    """``kind`` (dataset or pipeline) ``object`` is deprecated by ``by`` because of ``reason``,
    to be deleted after ``delete_after`` (a date); ``replacement``: what to use instead ("" for
    none). ``assets``: the data sets whose data goes (the data set itself, or the pipeline's
    outputs); ``readers``: the pipelines seen reading them and those declaring them as inputs,
    and ``consumers`` the registered consumers, when the notice went out (who was told)."""

    name: ClassVar[str] = "lifecycle.deprecated"
    kind: str
    object: str
    delete_after: str
    reason: str
    replacement: str = ""
    by: str = ""
    owner: str = ""
    assets: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeletionBlocked(Event):
    """A sweep could not delete ``kind`` ``object``: pipeline ``reader`` read ``asset`` at
    ``read_at``, after the notice of ``noticed_at``. Told to the owner (``owner``)."""

    name: ClassVar[str] = "lifecycle.deletion_blocked"
    kind: str
    object: str
    asset: str
    reader: str
    read_at: str
    noticed_at: str
    owner: str = ""


@dataclass(frozen=True, kw_only=True)
class DeprecatedRead(Event):
    """Run ``run_id`` of pipeline ``reader`` started reading data set ``asset`` of deprecated
    ``kind`` ``object`` (``frozen``: its date ``delete_after`` had passed). The read works; it
    warns the reader's and the data's owners that it blocks the deletion. Derived by the engine
    as the run starts; id ``deprecated-read:RUN_ID:ASSET``."""

    name: ClassVar[str] = "lifecycle.deprecated_read"
    asset: str
    reader: str
    run_id: str
    kind: str
    object: str
    delete_after: str
    frozen: bool = False
    owner: str = ""


@dataclass(frozen=True, kw_only=True)
class DataDeleted(Event):
    """The tombstone of one file (or folder) of data: version ``version`` of partition
    ``partition`` of ``asset`` at ``location`` (``size_bytes``), removed by ``by`` under
    ``rule`` (``retention 90d``, ``keep_last 3`` or ``deprecated``) because of ``reason``.
    Recorded before the file is removed: a sweep that stops in between removes it on its next
    pass."""

    name: ClassVar[str] = "lifecycle.data_deleted"
    asset: str
    partition: str
    version: int
    location: str
    size_bytes: int = 0
    rule: str
    reason: str = ""
    by: str = ""


@dataclass(frozen=True, kw_only=True)
class ObjectDeleted(Event):
    """Every file of deprecated ``kind`` ``object`` is gone (``files`` of them, ``size_bytes``):
    its lifecycle ends, with who (``by``) and why (``reason``, the deprecation's)."""

    name: ClassVar[str] = "lifecycle.deleted"
    kind: str
    object: str
    files: int = 0
    size_bytes: int = 0
    reason: str = ""
    by: str = ""


LIFECYCLE_EVENTS = (ObjectDeprecated, DeletionBlocked, DeprecatedRead, DataDeleted,
                    ObjectDeleted)
