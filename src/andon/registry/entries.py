"""The catalog's record, and the entries the project's graph gives without being asked: every
source and pipeline output as a data set, every pipeline as a pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

from andon.model.access import Access

if TYPE_CHECKING:  # only named: `andon --help` imports this module for its KINDS
    from andon.model.graph import Graph

KINDS = ("dataset", "pipeline", "model", "service", "library")
DECLARED_KINDS = ("dataset", "model", "service", "library")  # pipelines come from the graph only
DEPLOYS = ("manual", "auto")  # a model's deploy policy: who promotes its new versions
USED = ("service", "library")  # the kinds a pipeline's uses= names
MAX_GATE_PARTITIONS = 100  # shadow-scored partitions a gate may ask for


@dataclass(frozen=True)
class Gate:
    """What a ``deploy = "auto"`` model's new version must show before it is promoted: on the
    last ``partitions`` partitions scored in shadow by both it and the serving version, its
    realised ``metric`` (a metric of ``andon.performance``, ``higher`` is better unless the
    metric is an error such as rmse) at least the serving one's minus ``tolerance``; and, with
    ``drift``, the newest profiled partition of its training data sets not red against its own
    training reference."""

    metric: str
    tolerance: float = 0.0
    partitions: int = 3
    drift: bool = True


@dataclass(frozen=True)
class Entry:
    """One thing in the catalog, named uniquely within its ``kind``. ``links``: (label, URL)
    pairs (code, docs, dashboards); ``lifecycle`` with the ``since`` date it took effect (a
    deprecated entry's date is required); ``access``: how to get access (a link, a note and/or
    a form; None: not declared, and no access request can be made).
    ``producer``, ``upstream`` and ``downstream`` are what the graph knows (names of pipelines
    for a data set, of data sets for a pipeline; a model's producer is the pipeline that declares
    it in ``models=``). ``uses`` and ``models``: the services and libraries a pipeline declares it
    uses and the models it makes; ``used_by``: the pipelines that declare a service or library in
    ``uses=``. ``where``: the file and line it comes from. ``deploy`` (a model's): ``manual``
    (a person promotes a version) or ``auto`` (every new version is promoted as its run
    succeeds)."""

    kind: str
    name: str
    owner: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    team: str = ""
    links: tuple[tuple[str, str], ...] = ()
    lifecycle: str = "active"
    since: date | None = None
    access: Access | None = None
    producer: str = ""
    upstream: tuple[str, ...] = ()
    downstream: tuple[str, ...] = ()
    uses: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    used_by: tuple[str, ...] = ()
    where: str = ""
    declared: bool = False  # from catalog.toml, not from the definitions
    deploy: str = "manual"
    gate: Gate | None = None  # a deploy = "auto" model's promotion gate (None: promote at once)

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def url(self) -> str:
        """The board page of the entry: ``/assets/{name}`` for a data set of the definitions,
        ``/catalog/{kind}/{name}`` for every other entry."""
        from urllib.parse import quote

        if self.kind == "dataset" and not self.declared:
            return f"/assets/{quote(self.name, safe='')}"
        return f"/catalog/{self.kind}/{quote(self.name, safe='')}"


def from_graph(graph: Graph) -> Iterator[Entry]:
    """The data sets (sources and pipeline outputs) and pipelines of ``graph``, with their
    relations."""
    for asset in graph.assets.values():
        producer = graph.producer.get(asset.name, "")
        yield Entry("dataset", asset.name, asset.owner, asset.description,
                    ("source",) if asset.source else (), producer=producer,
                    upstream=(producer,) if producer else (),
                    downstream=graph.consumers.get(asset.name, ()), where=asset.where,
                    access=asset.access)
    for pipe in graph.pipelines.values():
        yield Entry("pipeline", pipe.name, pipe.owner, pipe.description,
                    upstream=tuple(dict.fromkeys(i.asset for i in pipe.inputs)),
                    downstream=pipe.outputs, uses=pipe.uses, models=pipe.models,
                    where=pipe.where)


def catalog(graph: Graph, declared: Iterable[Entry]) -> list[Entry]:
    """Every entry: the graph's, then the declared ones (``andon.registry.declared`` has refused
    a declared name the graph already holds), a model with the pipeline that makes it and a
    service or library with the pipelines that use it."""
    makes = {m: p.name for p in graph.pipelines.values() for m in p.models}
    users: dict[str, list[str]] = {}
    for pipe in graph.pipelines.values():
        for name in pipe.uses:
            users.setdefault(name, []).append(pipe.name)
    related = []
    for entry in declared:
        if entry.kind == "model" and entry.name in makes:
            entry = replace(entry, producer=makes[entry.name], upstream=(makes[entry.name],))
        elif entry.kind in USED and entry.name in users:
            entry = replace(entry, used_by=tuple(users[entry.name]))
        related.append(entry)
    return [*from_graph(graph), *related]
