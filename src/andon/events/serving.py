"""The events of a cord on a model version that a promotion settles.

A cord pulled on the artifact of the version of a model that serves halts the pipelines that
read it through ``andon.serving`` (and what they feed). A promotion of another version (a
rollback, or a new version) lets them go: the engine records that as one derived event.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from andon.events import Event, PipelinePartition


@dataclass(frozen=True, kw_only=True)
class CordServingMoved(Event):
    """Model ``model`` serves version ``version`` now (promotion ``promotion``, an event id), no
    longer the bad version under cord ``cord_id``: the cord lets go of the partitions that read
    the model only as its serving version (``released``, they read the new one now), and those
    of them that had read the bad version (``rerun``) are re-made. The cord stays open on the
    bad partition itself (and on what reads that partition directly). Id
    ``serving:CORD_ID:PROMOTION``: derived by the engine, recorded once."""

    name: ClassVar[str] = "cord.serving_moved"
    cord_id: str
    model: str
    version: int
    promotion: str
    released: tuple[PipelinePartition, ...] = ()
    rerun: tuple[PipelinePartition, ...] = ()


SERVING_EVENTS = (CordServingMoved,)
