"""The source partitions ``andon.materialize`` announces: files given by the caller are copied to
the data set's location (the place ``andon notify`` expects them), a stand-in is written there
by the caller's function, and a source not named is announced where its file already is."""

from __future__ import annotations

import os
import shutil
import stat
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from andon.events import PartitionAvailable
from andon.executors.outputs import check_source, inside_roots, real_roots
from andon.live.service import Service
from andon.model.errors import BadRequest, NotFound, UnsafePath
from andon.model.graph import Graph
from andon.model.limits import name_problem
from andon.model.partitions import PartitionKeyError
from andon.model.words import did_you_mean
from andon.project.load import Project

# a file for every key, a file per key, or a function that writes a stand-in at the location
StandIn = Callable[[str, Path], object]
SourceSpec = str | Path | Mapping[str, str | Path] | StandIn
Placed = set[tuple[str, str]]


def check_names(graph: Graph, sources: Mapping[str, SourceSpec], keys: Sequence[str]) -> None:
    """Every key of ``sources`` names a source data set of the graph (BadRequest / NotFound
    naming it and the fix), and every value is a path, a mapping of ``keys`` (the partitions
    asked for) to paths or a callable."""
    for asset, spec in sources.items():
        problem = name_problem("asset", asset)
        if problem is not None:
            raise BadRequest(f"sources: {problem}", hint="name a source data set of the project")
        found = graph.assets.get(asset)
        if found is None:
            raise NotFound(f"sources: no data set named {asset!r}",
                           hint=did_you_mean(asset, graph.assets) + "sources: " + ", ".join(
                               sorted(a.name for a in graph.assets.values() if a.source)))
        if not found.source:
            raise BadRequest(f"sources: {asset!r} is made by pipeline "
                             f"{graph.producer.get(asset, '?')!r}, not announced from outside",
                             hint="give only source data sets; pipelines make the others")
        if not (isinstance(spec, (str, Path, Mapping)) or callable(spec)):
            raise BadRequest(f"sources: {asset!r} is given as {type(spec).__name__}",
                             hint="give a file path, {partition: path} or a function "
                                  "(partition, path) that writes a stand-in")
        if isinstance(spec, Mapping) and (extra := sorted(set(spec) - set(keys))):
            raise BadRequest(f"sources: {asset!r} has files for {', '.join(map(str, extra[:5]))}"
                             ", which is not among the partitions asked for",
                             hint="add it to the partitions, or leave its file out")


def _key(graph: Graph, asset: str, key: str) -> str:
    try:
        return graph.assets[asset].partitions.validate(key)
    except PartitionKeyError as exc:
        raise BadRequest(f"sources: {asset!r}: {exc}", hint="give keys the data set takes, like "
                         f"{graph.assets[asset].partitions.example!r}") from None


def placed(project: Project, sources: Mapping[str, SourceSpec], keys: Sequence[str]) -> Placed:
    """Put each given source partition at its location; the (asset, key) placed. A file is
    copied (a FIFO, a device or a folder is refused); a location that leads out of the
    project's roots through a symlink is refused before anything is written."""
    graph, roots = project.graph, real_roots(project.root, project.graph.data_roots)
    out: Placed = set()
    for asset, spec in sources.items():
        for raw in keys:
            if isinstance(spec, Mapping) and raw not in spec:
                continue
            key = _key(graph, asset, raw)
            dest = project.root / graph.assets[asset].location_of(key)
            check_source(dest, roots)  # whatever is there must not lead out
            dest.parent.mkdir(parents=True, exist_ok=True)
            if not inside_roots(dest.parent, roots):
                raise UnsafePath(f"sources: the location of {asset} {key} leads out of the "
                                 "project", where=str(dest),
                                 hint="remove the symlink on the way, or declare the folder in "
                                      "[project] data_roots")
            if isinstance(spec, Mapping):
                _copy(asset, key, Path(spec[raw]), dest)
            elif isinstance(spec, (str, Path)):
                _copy(asset, key, Path(spec), dest)
            else:
                spec(key, dest)
            out.add((asset, key))
    return out


def _copy(asset: str, key: str, source: Path, dest: Path) -> None:
    try:
        status = os.stat(source)
    except OSError as exc:
        raise BadRequest(f"sources: the file for {asset} {key} cannot be read: {exc.strerror}",
                         where=str(source), hint="give the path of an existing file") from None
    if not stat.S_ISREG(status.st_mode):
        raise UnsafePath(f"sources: the file for {asset} {key} is not a regular file",
                         where=str(source), hint="give a regular file (not a folder, FIFO or "
                                                 "device)")
    if dest.is_symlink():
        dest.unlink()  # a symlink inside the roots: replace it, never write through it
    shutil.copyfile(source, dest)


def announcements(project: Project, service: Service, given: Placed, keys: Sequence[str],
                  now: datetime) -> list[PartitionAvailable]:
    """The ``partition.available`` of every source partition for ``keys``: those ``given`` and
    those whose file is at their location already. A key a source's partitions do not take
    (an hourly source, a daily key) is skipped for it."""
    events = []
    for asset in sorted(a.name for a in project.graph.assets.values() if a.source):
        found = project.graph.assets[asset]
        for raw in keys:
            try:
                key = found.partitions.validate(raw)
            except PartitionKeyError:
                continue
            if (asset, key) in given or os.path.lexists(project.root / found.location_of(key)):
                events.append(service.notify(asset, key, now, origin="materialize"))
    return events
