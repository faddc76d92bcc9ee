"""The model registry's events: which version of a model is serving.

A model's versions are not events of their own: they are the successful runs of the pipeline
that makes it (``run.succeeded``, with the metrics and parameters the run logged). What is
decided about them is: a person (``andon model promote`` / ``rollback``) or andon itself (a
model whose ``deploy`` policy is ``auto``) puts a version into service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from andon.events import Event


@dataclass(frozen=True, kw_only=True)
class ModelPromoted(Event):
    """Version ``version`` of model ``model`` (the ``version``-th successful run of its
    producer, run ``run_id``) is serving from now, put there by ``by`` (``andon`` for an
    automatic promotion) for ``reason``; ``previous`` is the version serving until then (0:
    none). ``rollback``: it was a rollback to the version serving before the current one. Id
    ``promoted:MODEL:VERSION`` for an automatic promotion (recorded once, whatever restarts)."""

    name: ClassVar[str] = "model.promoted"
    model: str
    version: int
    run_id: str
    by: str = ""
    reason: str = ""
    previous: int = 0
    rollback: bool = False


@dataclass(frozen=True, kw_only=True)
class ModelHeld(Event):
    """Version ``version`` of model ``model`` (deploy = "auto" with a gate) was not promoted:
    ``reason`` says why (``kind``: ``waiting`` for enough shadow-scored partitions, ``worse``
    than the version serving, ``serving``, or its data's ``drift`` is red); it stays a
    candidate and its owner is told. Id ``held:MODEL:VERSION:KIND``: told once per version and
    kind of reason."""

    name: ClassVar[str] = "model.held"
    model: str
    version: int
    serving: int = 0
    kind: str = ""
    reason: str = ""
    owner: str = ""  # the model's owner (who is told), as the catalog said then


MODEL_EVENTS = (ModelPromoted, ModelHeld)
