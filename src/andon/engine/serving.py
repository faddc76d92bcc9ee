"""The serving version of each model inside the pure core: which version serves, which
partition holds its artifact, who waits for one, and what a promotion does to a cord on the
version it replaces.

A model's versions are the successful runs of the pipeline that makes it (``models=``), in the
order the log has them; a version's artifact is what its run wrote (one ref per output). A
``model.promoted`` puts one into service. A pipeline that reads ``andon.serving(MODEL)`` reads
the artifact of the version serving when its run starts: ``refs`` gives the engine those refs,
appended after the run's mapped inputs (in the order of ``Graph.serving``), so they are in
``run.started``'s inputs and a cord's lineage finds the runs that read a version. None serving
yet: the run waits, indexed per model (``waiting``), and a promotion marks exactly those
partitions to look at again, so nothing scans all partitions per event.

A new serving version does not re-run what succeeded already (``same_inputs`` compares the
mapped inputs only); a cord may still ask for re-runs. A promotion away from a version whose
artifact is under an open cord owes one ``cord.serving_moved`` (id ``serving:CORD:PROMOTION``,
so a replay derives the same): applying it lets the cord go of the partitions that read the
model only through ``andon.serving`` and re-runs those that read the bad version. When nothing
but those (and the producer's own partition) is halted, the version is simply out of service:
the cord is owed ``cord.released`` instead (pulled -> released, id ``released:CORD``), and
recovers as its re-runs end. No clock, no I/O.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from andon.events import CordReleased, OutputWritten, PartitionRef, PipelinePartition
from andon.events.models import ModelPromoted
from andon.events.serving import CordServingMoved
from andon.model.status import RunStatus

if TYPE_CHECKING:
    from andon.engine.runs import Run
    from andon.engine.state import EngineState
    from andon.model.graph import Graph

Key = tuple[str, str]  # (pipeline or asset, partition)


@dataclass(frozen=True, slots=True)
class Version:
    """One version of a model: its number (the N-th successful run of its producer, as the log
    has them), its run and what that run wrote (data set -> the partition version)."""

    number: int
    run_id: str
    artifact: dict[str, PartitionRef]


@dataclass
class ServingBook:
    """Versions and serving version of the models read through ``andon.serving`` (empty for a
    project without such inputs)."""

    versions: dict[str, list[Version]] = field(default_factory=dict)  # model -> oldest first
    serving: dict[str, Version] = field(default_factory=dict)
    promoted: dict[str, set[str]] = field(default_factory=dict)  # model -> run ids ever promoted
    # model -> (pipeline, partition) waiting for a version of it to serve (set by ``decide``)
    waiting: dict[str, set[Key]] = field(default_factory=dict, compare=False)

    def version_of(self, model: str, run_id: str) -> Version | None:
        return next((v for v in reversed(self.versions.get(model, ())) if v.run_id == run_id),
                    None)


def run_succeeded(graph: Graph, state: EngineState, run: Run,
                  outputs: tuple[OutputWritten, ...]) -> None:
    """A run of a model's producer succeeded: a new version of each model it makes that a
    pipeline reads as serving (after its outputs were given their versions)."""
    for model, producer in graph.model_producer.items():
        if producer != run.pipeline:
            continue
        made = {}
        for out in outputs:
            part = state.partitions.get((out.asset, out.partition))
            if part is not None and part.run_id == run.run_id:
                made[out.asset] = PartitionRef(out.asset, out.partition, part.version)
        versions = state.serving.versions.setdefault(model, [])
        versions.append(Version(len(versions) + 1, run.run_id, made))


def promoted(graph: Graph, state: EngineState, event: ModelPromoted) -> None:
    """Version ``event.version`` serves now: the partitions waiting for one look again, and an
    open cord on the artifact of the version it replaces is owed a ``cord.serving_moved``."""
    book = state.serving
    if event.model not in graph.model_producer:
        return  # nobody reads it as serving
    found = book.version_of(event.model, event.run_id) or Version(event.version, event.run_id, {})
    previous = book.serving.get(event.model)
    book.serving[event.model] = found
    book.promoted.setdefault(event.model, set()).add(event.run_id)
    state.dirty.update(book.waiting.pop(event.model, ()))
    if previous is None or previous.run_id == found.run_id or not state.cords.bad:
        return
    for ref in previous.artifact.values():
        cord = state.cords.cords.get(state.cords.bad.get(ref, ""))
        if cord is None or not cord.status.open:
            continue
        keep = _through_mappings(graph, cord.asset, cord.partition)
        if cord.producer:
            keep.add(cord.producer_key)
        released = [k for k in cord.halts if k not in keep]
        if all(k == cord.producer_key for k in cord.halts if k in keep):
            # nothing reads the bad version but as the serving one: the version is out of
            # service, so the cord is settled (released; recovered once its re-runs are done)
            release = CordReleased(
                id=f"released:{cord.cord_id}", at=event.at, cord_id=cord.cord_id,
                version=cord.version, rerun=tuple(PipelinePartition(*k)
                                                  for k in sorted(cord.rerun)))
            state.cords.owed.setdefault(release.id, release)
            continue
        rerun = [k for k in released if k in cord.rerun]
        moved = CordServingMoved(
            id=f"serving:{cord.cord_id}:{event.id}", at=event.at, cord_id=cord.cord_id,
            model=event.model, version=found.number, promotion=event.id,
            released=tuple(PipelinePartition(*k) for k in released),
            rerun=tuple(PipelinePartition(*k) for k in rerun))
        state.cords.owed.setdefault(moved.id, moved)


def serving_moved(state: EngineState, event: CordServingMoved) -> None:
    """Let cord ``event.cord_id`` go of the partitions released and re-run those that read the
    bad version (a cord re-run: it does not depend on their inputs having changed)."""
    book = state.cords
    cord = book.cords.get(event.cord_id)
    if cord is None:
        return
    released = {(p.pipeline, p.partition) for p in event.released}
    cord.halts = tuple(k for k in cord.halts if k not in released)
    for key in released:
        cords = book.halted.get(key)
        if cords is not None:
            cords.discard(cord.cord_id)
            if not cords:
                del book.halted[key]
        state.dirty.add(key)
    for p in event.rerun:
        key = (p.pipeline, p.partition)
        cord.rerun.discard(key)
        active = state.runs.get(state.active.get(key, ""))
        if active is None or active.status is not RunStatus.QUEUED:  # a held run will do
            state.requests[key] = "cord"
        state.dirty.add(key)


def _through_mappings(graph: Graph, asset: str, partition: str) -> set[Key]:
    """The (pipeline, partition) downstream of one asset partition through the graph's
    mappings only (a serving input reaches nothing this way)."""
    found: set[Key] = set()
    todo = [(asset, partition)]
    while todo:
        name, key = todo.pop()
        nexts: list[Key] = []
        if name in graph.assets:
            with contextlib.suppress(ValueError):
                nexts = graph.consumer_keys(name, key)
        for pkey in nexts:
            pipe = graph.pipelines.get(pkey[0])
            if pipe is None or pkey in found:
                continue
            found.add(pkey)
            todo.extend((out, pkey[1]) for out in pipe.outputs)
    return found


def refs(graph: Graph, state: EngineState, pipeline: str, key: str
         ) -> list[PartitionRef] | None:
    """The artifacts of the serving versions partition ``key`` of ``pipeline`` reads, in the
    order of its serving inputs; None (and the partition noted as waiting) when a model has no
    version serving."""
    out = []
    for model, asset in graph.serving[pipeline]:
        version = state.serving.serving.get(model)
        ref = version.artifact.get(asset) if version is not None else None
        if ref is None:
            state.serving.waiting.setdefault(model, set()).add((pipeline, key))
            return None
        out.append(ref)
    return out


def wait(graph: Graph, state: EngineState, pipeline: str, key: str) -> None:
    """Partition ``key`` of ``pipeline`` is held (it would read bad data): a promotion of one of
    the models it reads as serving looks at it again."""
    for model, _ in graph.serving.get(pipeline, ()):
        state.serving.waiting.setdefault(model, set()).add((pipeline, key))


def same_inputs(graph: Graph, pipeline: str, old: tuple[PartitionRef, ...] | None,
                new: tuple[PartitionRef, ...]) -> bool:
    """Whether ``old`` (what a run read, or was queued with) and ``new`` (what it would read
    now) have the same mapped inputs: the serving artifacts at the end are left out, so that a
    new serving version does not re-run what succeeded."""
    if old is None:
        return False
    n = len(graph.serving.get(pipeline, ()))
    if not n:
        return old == new
    k = len(new) - n
    return old[:k] == new[:k] and len(old) in (k, k + n)


def read_versions(graph: Graph, state: EngineState, pipeline: str,
                  inputs: tuple[PartitionRef, ...]) -> dict[str, tuple[int, PartitionRef]]:
    """Model -> (version, artifact) for each serving input of a run that read ``inputs`` (its
    ``run.started`` inputs: the serving artifacts are the last ones); version 0 when the
    artifact is of no version the engine knows."""
    reads = graph.serving.get(pipeline, ())
    if not reads or len(inputs) < len(reads):
        return {}
    out = {}
    for (model, _), ref in zip(reads, inputs[len(inputs) - len(reads):]):
        number = next((v.number for v in reversed(state.serving.versions.get(model, ()))
                       if ref in v.artifact.values()), 0)
        out[model] = (number, ref)
    return out


def candidates(graph: Graph, state: EngineState, pipeline: str
               ) -> dict[str, tuple[int, PartitionRef]]:
    """Model -> (version, artifact) of each model ``pipeline`` reads as serving whose newest
    version is newer than the serving one and was never promoted (held back: to score in
    shadow)."""
    book = state.serving
    out = {}
    for model, asset in graph.serving.get(pipeline, ()):
        versions, serving = book.versions.get(model), book.serving.get(model)
        if not versions or serving is None:
            continue
        newest = versions[-1]
        ref = newest.artifact.get(asset)
        if ref is not None and newest.number > serving.number and \
                newest.run_id not in book.promoted.get(model, ()):
            out[model] = (newest.number, ref)
    return out
