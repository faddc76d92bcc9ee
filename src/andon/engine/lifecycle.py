"""Agreed deletions inside the pure core.

Frozen pipelines: a pipeline deprecated (or the producer of a data set deprecated) is frozen
once its ``delete_after`` date has passed, and the engine neither queues nor starts a run of it
from then on. ``apply`` folds ``lifecycle.deprecated`` into the book (a later notice replaces an
earlier one); ``frozen`` answers at ``now``.

The scheduled sweep: with ``[sweep] every`` (``graph.sweep_every``) the engine requests a run of
the built-in sweep pipeline once per period, the periods counted from the Unix epoch (so a
daily sweep is due at each midnight UTC, and at once on the first start). The request's id
names its period (``sweep-due:N``): replaying the log knows which periods were requested, and a
period the scheduler slept through is requested once, not once per missed period. No clock, no
I/O."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from andon.events import Event, RunRequested
from andon.events.lifecycle import DeprecatedRead, ObjectDeprecated
from andon.model.graph import Graph
from andon.model.lifecycle import SWEEP_PIPELINE, passed_at

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DUE_PREFIX = "sweep-due:"


@dataclass(slots=True)
class LifecycleBook:
    """pipeline -> the moment it freezes (the latest notice about it or its outputs decides)."""

    freezes: dict[str, datetime] = field(default_factory=dict)
    by_object: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)
    swept_period: int = -1  # the last period a scheduled sweep was requested for
    # data set -> the deprecation whose data it is: a run reading it warns (``deprecated_reads``)
    notices: dict[str, ObjectDeprecated] = field(default_factory=dict)


def apply(graph: Graph, book: LifecycleBook, event: Event) -> None:
    """Fold a deprecation, or a scheduled sweep's request, in; other events leave the book
    alone."""
    if isinstance(event, RunRequested) and event.id.startswith(DUE_PREFIX):
        period = event.id[len(DUE_PREFIX):]
        if period.isdigit():
            book.swept_period = max(book.swept_period, int(period))
        return
    if not isinstance(event, ObjectDeprecated):
        return
    for asset in event.assets:
        book.notices[asset] = event
    try:
        moment = passed_at(event.delete_after)
    except ValueError:
        return  # the service refuses such a date; a hand-made log's is ignored, not fatal
    if event.kind == "pipeline":
        pipeline = event.object
    else:
        pipeline = graph.producer.get(event.object, "")
    if not pipeline:
        return  # a source has no runs to stop
    book.by_object[(event.kind, event.object)] = (pipeline, moment)
    book.freezes = {}
    for pipe, when in book.by_object.values():
        book.freezes[pipe] = min(when, book.freezes.get(pipe, when))


def frozen(book: LifecycleBook, pipeline: str, now: datetime) -> bool:
    """Whether no new run of ``pipeline`` may start at ``now``."""
    when = book.freezes.get(pipeline)
    return when is not None and now >= when


def deprecated_reads(book: LifecycleBook, run_id: str, pipeline: str, assets: Iterable[str],
                     now: datetime) -> list[DeprecatedRead]:
    """The warnings owed as run ``run_id`` of ``pipeline`` starts reading ``assets``: one per
    deprecated data set among them."""
    out = []
    for asset in sorted(set(assets)):
        notice = book.notices.get(asset)
        if notice is None:
            continue
        try:
            frozen_now = now >= passed_at(notice.delete_after)
        except ValueError:
            frozen_now = False
        out.append(DeprecatedRead(
            id=f"deprecated-read:{run_id}:{asset}", at=now, asset=asset, reader=pipeline,
            run_id=run_id, kind=notice.kind, object=notice.object,
            delete_after=notice.delete_after, frozen=frozen_now, owner=notice.owner))
    return out


def _period(every: timedelta, now: datetime) -> int:
    return int((now - EPOCH) // every)


def sweep_due(graph: Graph, book: LifecycleBook, now: datetime) -> RunRequested | None:
    """The request of the scheduled sweep owed at ``now``, if one is."""
    every = graph.sweep_every
    if every is None or SWEEP_PIPELINE not in graph.pipelines:
        return None
    period = _period(every, now)
    if period <= book.swept_period:
        return None
    return RunRequested(id=f"{DUE_PREFIX}{period}", at=now, pipeline=SWEEP_PIPELINE,
                        partition="all", reason="schedule", requested_by="andon")


def next_sweep(graph: Graph, book: LifecycleBook, now: datetime) -> datetime | None:
    """When the next scheduled sweep is owed (``now`` when one is owed already)."""
    every = graph.sweep_every
    if every is None or SWEEP_PIPELINE not in graph.pipelines:
        return None
    period = _period(every, now)
    return now if period > book.swept_period else EPOCH + every * (period + 1)
