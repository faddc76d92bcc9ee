"""The catalog of a project (``andon.registry``) as the CLI and the API ask for it: its entries
and search index, built once, the checks on a request, and each entry's page with the
relations the store knows (``andon.registry.views``)."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from andon.events.codec import parse_time
from andon.model.errors import BadRequest, NotFound
from andon.model.graph import Graph
from andon.model.limits import MAX_NAME
from andon.model.timefmt import hours_minutes
from andon.planner.views import PlanView
from andon.registry.browse import Shelf, check_kind
from andon.registry.declared import load_declared
from andon.registry.entries import Entry, catalog
from andon.registry.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY, Found, SearchIndex
from andon.registry.views import STALE_DAYS, Consumers, DeclaredConsumer, EntryView, Freshness
from andon.store import access, relations
from andon.store.sql import Store

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
VERSIONS_SHOWN = 50  # a model's newest versions on its page
RUNS_SHOWN = 10  # a pipeline's newest runs on its page


class Catalog:
    """The catalog of ``graph`` and the project's ``catalog.toml``; its entries and index are a
    read model of the definitions and that file, built in memory when first asked for; the
    relations the runs show come from ``store``."""

    def __init__(self, graph: Graph, project_dir: Path, store: Store) -> None:
        self.graph = graph
        self.project_dir = project_dir
        self.store = store
        self._entries: dict[tuple[str, str], Entry] | None = None
        self._index: SearchIndex | None = None
        self._shelf: Shelf | None = None  # facets and listings, built with the index
        self._building = threading.Lock()

    def entries(self) -> dict[tuple[str, str], Entry]:
        """Every entry by (kind, name), loaded at the first call (later calls wait for it);
        ConfigError when the catalog is wrong (``andon.registry.declared``)."""
        with self._building:
            if self._entries is None:
                declared = load_declared(self.project_dir, self.graph)
                self._entries = {e.key: e for e in catalog(self.graph, declared)}
            return self._entries

    def index(self) -> SearchIndex:
        """The search index, built at the first call (later calls wait for it)."""
        entries = self.entries()
        with self._building:
            if self._index is None:
                items = list(entries.values())
                self._index, self._shelf = SearchIndex(items), Shelf(items)
            return self._index

    def shelf(self) -> Shelf:
        """The catalog's facets and filtered listings (``andon.registry.browse``; its
        ``browse`` checks its filters), built with the index."""
        self.index()
        assert self._shelf is not None
        return self._shelf

    def search(self, query: str, kind: str | None = None, owner: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Found:
        """The catalog's best ``limit`` entries for ``query`` (``andon.registry.search``), of
        ``kind``, owned by ``owner``. BadRequest naming the field: an empty or over-long query
        or owner, an unknown kind, a limit outside 1..MAX_LIMIT."""
        if not query.strip() or len(query) > MAX_QUERY:
            raise BadRequest(f"field 'q' must be 1 to {MAX_QUERY} characters", where="q",
                             hint="search for a name, a word of a description, a tag or an owner")
        check_kind(kind, "leave it out to search every kind")
        if owner is not None and not 0 < len(owner) <= MAX_QUERY:
            raise BadRequest(f"field 'owner' must be 1 to {MAX_QUERY} characters", where="owner",
                             hint="name the owner exactly, e.g. ops@example.com")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"field 'limit' must be between 1 and {MAX_LIMIT}", where="limit",
                             hint=f"leave it out for {DEFAULT_LIMIT} results")
        return self.index().search(query, kind, owner, limit)

    def entry(self, kind: str, name: str) -> Entry:
        """The entry ``name`` of ``kind``: BadRequest naming the field for an unknown kind;
        NotFound with the closest name of that kind ("did you mean") for an unknown name."""
        check_kind(kind, "name one of them, e.g. /catalog/dataset/orders")
        found = self.entries().get((kind, name))
        if found is not None:
            return found
        close = None
        shown = _CONTROL.sub("", name[:MAX_NAME])  # what a person could have meant to type
        if shown.strip():
            near = self.index().search(shown, kind, limit=1)
            close = near.suggestion or (near.hits[0].entry.name if near.hits else None)
        raise NotFound(f"no {kind} named {shown!r} in the catalog",
                       hint=f"did you mean {close!r}?" if close else
                       f"search for it: /api/v1/search?kind={kind}&q=...")

    def view(self, kind: str, name: str, now: datetime, plan: PlanView | None = None
             ) -> EntryView:
        """The page of entry ``name`` of ``kind`` (see ``entry`` for the errors) as of ``now``
        (the service's clock: a declared consumer's staleness); ``plan`` gives a data set's
        next delivery."""
        e = self.entry(kind, name)
        view = EntryView(
            e.kind, e.name, e.owner, e.team, e.description, list(e.tags), dict(e.links),
            e.lifecycle, e.since.isoformat() if e.since else None, e.access, e.url(),
            e.producer, list(e.upstream), list(e.downstream), list(e.uses), list(e.models),
            list(e.used_by))
        with self.store.read() as conn:
            if kind == "dataset":
                return _with(view, consumers=self._consumers(conn, e, now),
                             freshness=None if e.declared else self._freshness(conn, e, plan))
            if kind == "model":
                total, versions = (relations.model_versions(conn, e.producer, VERSIONS_SHOWN)
                                   if e.producer else (0, []))
                return _with(view, versions=versions, version_count=total)
        if kind == "pipeline":
            return _with(view, runs=self.store.runs(name, limit=RUNS_SHOWN))
        return view

    def _consumers(self, conn: Connection, e: Entry, now: datetime) -> Consumers:
        observed = relations.observed_reads(conn, e.name)
        last = {o.pipeline: o.last_at for o in observed}
        first: list[str | None] = []  # when the data set first had data, looked up once
        cut = now - timedelta(days=STALE_DAYS)
        declared = []
        for pipeline in e.downstream:
            since = last.get(pipeline)
            if since is None:
                if not first:
                    first.append(relations.first_data_at(conn, e.name))
                since = first[0]
            stale = since is not None and parse_time(since) <= cut
            declared.append(DeclaredConsumer(pipeline, last.get(pipeline), stale))
        return Consumers(declared, observed, access.consumer_rows(conn, [e.name]))

    def _freshness(self, conn: Connection, e: Entry, plan: PlanView | None
                   ) -> Freshness:
        newest, made_at = relations.newest_partition(conn, e.name)
        asset = self.graph.assets[e.name]
        arrival = hours_minutes(asset.expected_arrival) if asset.expected_arrival else ""
        coming = next((d for d in plan.deliverables if d.pipeline == e.producer
                       and not d.delivered_at), None) if plan and e.producer else None
        if coming is None:
            return Freshness(newest, made_at, None, None, None, False, "", arrival)
        return Freshness(newest, made_at, coming.partition, coming.due, coming.predicted_finish,
                         coming.at_risk, coming.reason, arrival)


def _with(view: EntryView, **values: object) -> EntryView:
    return replace(view, **values)  # type: ignore[arg-type]
