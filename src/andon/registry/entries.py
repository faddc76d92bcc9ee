"""The catalog's record, and the entries the project's graph gives without being asked: every
source and pipeline output as a data set, every pipeline as a pipeline."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from andon.model.access import Access
from andon.model.graph import Graph

KINDS = ("dataset", "pipeline", "model", "service", "library")
DECLARED_KINDS = ("dataset", "model", "service", "library")  # pipelines come from the graph only
LIFECYCLES = ("active", "beta", "deprecated")


@dataclass(frozen=True)
class Entry:
    """One thing in the catalog, named uniquely within its ``kind``. ``links``: (label, URL)
    pairs (code, docs, dashboards); ``lifecycle`` with the ``since`` date it took effect (a
    deprecated entry's date is required); ``access``: how to get access (a link, a note and/or
    a form; None: not declared, and no access request can be made).
    ``producer``, ``upstream`` and ``downstream`` are what the graph knows (names of pipelines
    for a data set, of data sets for a pipeline). ``where``: the file and line it comes from."""

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
    where: str = ""
    declared: bool = False  # from catalog.toml, not from the definitions

    @property
    def key(self) -> tuple[str, str]:
        return (self.kind, self.name)

    def url(self) -> str:
        """The board page of the entry (data sets have one; the others get theirs later, so
        they point at the board's search for their name)."""
        from urllib.parse import quote

        if self.kind == "dataset" and not self.declared:
            return f"/assets/{quote(self.name, safe='')}"
        return f"/search?q={quote(self.name, safe='')}"


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
                    upstream=tuple(i.asset for i in pipe.inputs), downstream=pipe.outputs,
                    where=pipe.where)


def catalog(graph: Graph, declared: Iterable[Entry]) -> list[Entry]:
    """Every entry: the graph's, then the declared ones (``andon.registry.declared`` has refused
    a declared name the graph already holds)."""
    return [*from_graph(graph), *declared]
