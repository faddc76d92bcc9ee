"""Frozen pipelines inside the pure core: a pipeline deprecated (or the producer of a data set
deprecated) is frozen once its ``delete_after`` date has passed, and the engine neither queues
nor starts a run of it from then on. ``apply`` folds ``lifecycle.deprecated`` into the book (a
later notice replaces an earlier one); ``frozen`` answers at ``now``. No clock, no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from andon.events import Event
from andon.events.lifecycle import ObjectDeprecated
from andon.model.graph import Graph
from andon.model.lifecycle import passed_at


@dataclass(slots=True)
class LifecycleBook:
    """pipeline -> the moment it freezes (the latest notice about it or its outputs decides)."""

    freezes: dict[str, datetime] = field(default_factory=dict)
    by_object: dict[tuple[str, str], tuple[str, datetime]] = field(default_factory=dict)


def apply(graph: Graph, book: LifecycleBook, event: Event) -> None:
    """Fold a deprecation in; other events leave the book alone."""
    if not isinstance(event, ObjectDeprecated):
        return
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
