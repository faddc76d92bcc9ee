"""The catalog of a project (``andon.registry``) as the CLI and the API ask for it: its search,
built in the background and swapped in whole, the checks on a search request, and the entries
declared through the API (checked here, recorded as events by the caller).

The catalog is a read model of the definitions, ``catalog.toml`` and the event log: a build
reads the project's files, writes their entries to the store's ``catalog`` table
(``andon.store.catalog.sync``: the files are not events), and makes the search backend of the
store's dialect over that table (``andon.registry.search.SearchIndex`` in memory for SQLite,
``andon.registry.pgsearch.PgSearch`` in the database for PostgreSQL). A search before the first
build waits for it; a search during a later build answers from the one before."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from andon.events.catalog import (
    CatalogEntryDeclared,
    CatalogEntryDeprecated,
    CatalogEntryRemoved,
)
from andon.events.codec import parse_time
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.model.graph import Graph
from andon.model.limits import MAX_NAME
from andon.model.timefmt import hours_minutes
from andon.planner.views import PlanView
from andon.registry.browse import Shelf, check_kind
from andon.registry.declared import CONTROL, EntryProblem, entry_of, load_declared
from andon.registry.entries import DECLARED_KINDS, Entry, catalog
from andon.registry.pgsearch import PgSearch
from andon.registry.search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_QUERY,
    Found,
    Searcher,
    SearchIndex,
)
from andon.registry.stored import declared_event, entry_of_row, is_api, row_of
from andon.registry.views import STALE_DAYS, Consumers, DeclaredConsumer, EntryView, Freshness
from andon.store import access, models, relations
from andon.store import catalog as rows
from andon.store.sql import Store

log = logging.getLogger(__name__)
Key = tuple[str, str]
VERSIONS_SHOWN = 50  # a model's newest versions on its page
RUNS_SHOWN = 10  # a pipeline's newest runs on its page


class Catalog:
    """The catalog of ``graph``, the project's ``catalog.toml`` and the entries declared through
    the API into ``store``; the relations the runs show come from ``store`` too. Thread-safe."""

    def __init__(self, graph: Graph, project_dir: Path, store: Store) -> None:
        self.graph = graph
        self.project_dir = project_dir
        self.store = store
        self._searcher: Searcher | None = None
        self._building = threading.Lock()  # one build at a time; held until the first is done
        self._swap = threading.Lock()  # a build's swap against an entry kept in step
        self._touched: set[Key] | None = None  # entries kept in step during a build
        self._files: dict[Key, str] = {}  # the project files' entries: where each is declared
        self._entries: dict[Key, Entry] = {}  # every entry, the files' and the API's
        self._shelf: Shelf | None = None  # facets and listings: made again after a change
        self._datasets: dict[str, Entry] | None = None  # the data sets by name: likewise
        self._thread: threading.Thread | None = None  # the background build of ``start``

    # -- the search, built in the background -----------------------------------------------------

    def start(self, then: Callable[[], object] | None = None,
              declared: Sequence[Entry] | None = None) -> threading.Thread:
        """Build the search on a thread of its own (``andon up``): searches wait for it; ``then``
        runs once it is built (``andon up`` records the deprecations it found). ``declared``:
        the entries of ``catalog.toml`` when the caller has read them already (else read)."""
        self._building.acquire()  # before the thread runs: a search now waits, never builds twice

        def first() -> None:
            built = False
            try:
                self._build(declared)
                built = True
            except Exception:  # a search builds it again, and says why
                log.exception("building the catalog's search failed")
            finally:
                self._building.release()
            if built and then is not None:
                try:
                    then()
                except Exception:
                    log.exception("recording the catalog's deprecations failed")

        thread = threading.Thread(target=first, name="andon-catalog", daemon=True)
        self._thread = thread
        thread.start()
        return thread

    def wait(self) -> None:
        """Wait for the build ``start`` began, if any (before the store is closed: a query on a
        SQLite connection closed under it crashes the process)."""
        if self._thread is not None:
            self._thread.join()

    def rebuild(self) -> None:
        """Build the search again (the project's files changed) and swap it in whole; searches
        meanwhile answer from the one before."""
        with self._building:
            self._build()

    def searcher(self) -> Searcher:
        """The search backend, built at the first call (or waited for, when ``start`` builds)."""
        found = self._searcher
        if found is not None:
            return found
        with self._building:
            if self._searcher is None:
                self._build()
            assert self._searcher is not None
            return self._searcher

    def _build(self, declared: Sequence[Entry] | None = None) -> None:
        """Read the project's files (``declared``: catalog.toml's entries, when read already),
        sync them to the store, make the backend and swap it in; the entries kept in step
        meanwhile are read again into the new one."""
        with self._swap:
            self._touched = set()
        collecting = gc.isenabled()
        # a build makes millions of objects that all live on: the collector's full passes over
        # them, triggered by the allocations alone, took a third of it at 100,000 entries
        gc.disable()
        try:
            if declared is None:
                declared = load_declared(self.project_dir, self.graph)
            project = catalog(self.graph, declared)
            self.store.sync_catalog(row_of(e) for e in project)
            with self.store.read() as conn:
                declared = [entry_of_row(r) for r in rows.entry_rows(conn, rows.API)]
            searcher: Searcher = (PgSearch(self.store) if self.store.dialect == "postgresql"
                                  else SearchIndex([*project, *declared]))
            with self._swap:
                self._files = {e.key: e.where or "the definitions" for e in project}
                self._entries = {e.key: e for e in (*project, *declared)}
                self._searcher, self._shelf, self._datasets = searcher, None, None
                for key in self._touched:
                    self._put(searcher, key)
        finally:
            if collecting:
                gc.enable()
            with self._swap:
                self._touched = None

    def _stored(self, key: Key) -> Entry | None:
        with self.store.read() as conn:
            row = rows.entry_row(conn, *key)
        return None if row is None else entry_of_row(row)

    def _put(self, searcher: Searcher, key: Key) -> None:
        """Read entry ``key`` from the store into ``searcher`` and the entries (under _swap)."""
        entry = self._stored(key)
        searcher.put(key, entry)
        if entry is None:
            self._entries.pop(key, None)
        else:
            self._entries[key] = entry
        self._shelf = self._datasets = None

    def refresh(self, key: Key) -> None:
        """Keep the search in step with the store's entry ``key`` (after an event on it was
        committed): read from the store, so that whatever order two calls come in, the last
        word is the store's."""
        searcher = self.searcher()
        with self._swap:
            if self._touched is not None:
                self._touched.add(key)
            self._put(self._searcher or searcher, key)

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
        return self.searcher().search(query, kind, owner, limit)

    # -- the entries, their listings and pages ---------------------------------------------------

    def entries(self) -> Mapping[Key, Entry]:
        """Every entry by (kind, name): the project's files' and the API's (once built)."""
        self.searcher()
        return self._entries

    def datasets(self) -> Mapping[str, Entry]:
        """Every data set of the catalog by name (made again after the entries changed)."""
        entries = self.entries()
        with self._swap:
            if self._datasets is None:
                self._datasets = {name: e for (kind, name), e in entries.items()
                                  if kind == "dataset"}
            return self._datasets

    def shelf(self) -> Shelf:
        """The catalog's facets and filtered listings (``andon.registry.browse``; its
        ``browse`` checks its filters), made again after the entries changed."""
        entries = self.entries()
        with self._swap:
            if self._shelf is None:
                self._shelf = Shelf(list(entries.values()))
            return self._shelf

    def entry(self, kind: str, name: str) -> Entry:
        """The entry ``name`` of ``kind``: BadRequest naming the field for an unknown kind;
        NotFound with the closest name of that kind ("did you mean") for an unknown name."""
        check_kind(kind, "name one of them, e.g. /catalog/dataset/orders")
        found = self.entries().get((kind, name))
        if found is not None:
            return found
        close = None
        shown = CONTROL.sub("", name[:MAX_NAME])  # what a person could have meant to type
        if shown.strip():
            near = self.searcher().search(shown, kind, None, 1)
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
                history = models.promotions_of(conn, name)
                stack = models.serving_stack(history)
                held = models.held_of(conn, name, history) if e.gate is not None else []
                return _with(view, versions=versions, version_count=total, deploy=e.deploy,
                             serving=stack[-1] if stack else 0, promotions=history,
                             gate=e.gate, held=held)
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


    def deprecations(self, now: datetime, key: Key | None = None
                     ) -> list[CatalogEntryDeprecated]:
        """The event saying each deprecated entry (or only ``key``) is deprecated, with the id
        derived from its kind, name and date: recording them again records nothing new, so its
        consumers are told once (at the first start that sees it, or as the API declares it)."""
        entries = self.entries()
        chosen = entries.values() if key is None else [e for e in [entries.get(key)] if e]
        return [CatalogEntryDeprecated(id=f"catalog-deprecated:{e.kind}:{e.name}:{e.since}",
                                       at=now, kind=e.kind, entry=e.name,
                                       since=e.since.isoformat(), owner=e.owner)
                for e in chosen if e.lifecycle == "deprecated" and e.since is not None]

    # -- entries declared through the API ----------------------------------------------------------

    def declare(self, table: Mapping[str, Any], now: datetime, by: str) -> CatalogEntryDeclared:
        """The event declaring the entry ``table`` describes (the fields of a ``catalog.toml``
        table), checked as that table is (BadRequest naming the field); Conflict when the
        project's files declare that kind and name (declaring an API entry again replaces
        it)."""
        for field in ("deploy", "gate"):  # not kept: the API's row has no room for them
            if table.get(field) is not None:
                raise BadRequest(f"a model declared through the API has no {field} policy",
                                 where=field, hint="declare the model and its deploy policy in "
                                 "catalog.toml or with andon.model(...), beside its "
                                 "pipeline")
        try:
            entry = entry_of({k: v for k, v in table.items() if v is not None}, 0, "api")
        except EntryProblem as bad:
            raise BadRequest(bad.what, where=bad.field, hint=bad.fix) from None
        self.searcher()  # the project's files are read at the first build
        where = self._files.get(entry.key)
        if where is not None:
            raise Conflict(f"{entry.kind} {entry.name!r} is declared by the project ({where})",
                           hint="change it there, or give this entry another name")
        return declared_event(entry, now, by)

    def remove(self, kind: str, name: str, now: datetime, by: str) -> CatalogEntryRemoved:
        """The event taking out the entry ``kind`` ``name`` declared through the API: NotFound
        for none, Conflict for an entry of the project's files (removed there)."""
        if kind not in DECLARED_KINDS:
            raise BadRequest(f"kind must be one of {', '.join(DECLARED_KINDS)}", where="kind",
                             hint="pipelines and the definitions' data sets leave the catalog "
                                  "with their definition")
        self.searcher()
        where = self._files.get((kind, name))
        if where is not None:
            raise Conflict(f"{kind} {name!r} is declared by the project ({where})",
                           hint="remove it there: the catalog follows the project's files")
        with self.store.read() as conn:
            row = rows.entry_row(conn, kind, name)
        if row is None or not is_api(row):
            raise NotFound(f"no {kind} named {name[:100]!r} was declared through the API",
                           hint=f"`andon search {name[:100]} --kind {kind}` finds it by a "
                                "close name")
        return CatalogEntryRemoved(at=now, kind=kind, entry=name, by=by)


def answer(event: CatalogEntryDeclared | CatalogEntryRemoved) -> dict[str, str]:
    """What the API and the CLI answer a declaration or a removal with."""
    return {"kind": event.kind, "name": event.entry, "id": event.id,
            "url": Entry(event.kind, event.entry, declared=True).url()}


def _with(view: EntryView, **values: object) -> EntryView:
    return replace(view, **values)  # type: ignore[arg-type]
