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

import difflib
import gc
import logging
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from andon.events.catalog import CatalogEntryDeclared, CatalogEntryRemoved
from andon.model.errors import BadRequest, Conflict, NotFound
from andon.model.graph import Graph
from andon.registry.declared import EntryProblem, entry_of, load_declared
from andon.registry.entries import DECLARED_KINDS, KINDS, Entry, catalog
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
from andon.store import catalog as rows
from andon.store.sql import Store

log = logging.getLogger(__name__)
Key = tuple[str, str]


class Catalog:
    """The catalog of ``graph``, the project's ``catalog.toml`` and the entries declared through
    the API into ``store``. Thread-safe."""

    def __init__(self, graph: Graph, project_dir: Path, store: Store) -> None:
        self.graph = graph
        self.project_dir = project_dir
        self.store = store
        self._searcher: Searcher | None = None
        self._building = threading.Lock()  # one build at a time; held until the first is done
        self._swap = threading.Lock()  # a build's swap against an entry kept in step
        self._touched: set[Key] | None = None  # entries kept in step during a build
        self._files: dict[Key, str] = {}  # the project files' entries: where each is declared
        self._thread: threading.Thread | None = None  # the background build of ``start``

    # -- the search, built in the background -----------------------------------------------------

    def start(self) -> threading.Thread:
        """Build the search on a thread of its own (``andon up``): searches wait for it."""
        self._building.acquire()  # before the thread runs: a search now waits, never builds twice

        def first() -> None:
            try:
                self._build()
            except Exception:  # a search builds it again, and says why
                log.exception("building the catalog's search failed")
            finally:
                self._building.release()

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

    def _build(self) -> None:
        """Read the project's files, sync them to the store, make the backend and swap it in;
        the entries kept in step meanwhile are read again into the new one."""
        with self._swap:
            self._touched = set()
        collecting = gc.isenabled()
        # a build makes millions of objects that all live on: the collector's full passes over
        # them, triggered by the allocations alone, took a third of it at 100,000 entries
        gc.disable()
        try:
            project = catalog(self.graph, load_declared(self.project_dir, self.graph))
            self.store.sync_catalog(row_of(e) for e in project)
            searcher: Searcher
            if self.store.dialect == "postgresql":
                searcher = PgSearch(self.store)
            else:
                with self.store.read() as conn:
                    declared = [entry_of_row(r) for r in rows.entry_rows(conn, rows.API)]
                searcher = SearchIndex([*project, *declared])
            with self._swap:
                self._files = {e.key: e.where or "the definitions" for e in project}
                self._searcher = searcher
                for key in self._touched:
                    searcher.put(key, self._stored(key))
        finally:
            if collecting:
                gc.enable()
            with self._swap:
                self._touched = None

    def _stored(self, key: Key) -> Entry | None:
        with self.store.read() as conn:
            row = rows.entry_row(conn, *key)
        return None if row is None else entry_of_row(row)

    def refresh(self, key: Key) -> None:
        """Keep the search in step with the store's entry ``key`` (after an event on it was
        committed): read from the store, so that whatever order two calls come in, the last
        word is the store's."""
        searcher = self.searcher()
        with self._swap:
            if self._touched is not None:
                self._touched.add(key)
            searcher = self._searcher or searcher
            searcher.put(key, self._stored(key))

    def search(self, query: str, kind: str | None = None, owner: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Found:
        """The catalog's best ``limit`` entries for ``query`` (``andon.registry.search``), of
        ``kind``, owned by ``owner``. BadRequest naming the field: an empty or over-long query
        or owner, an unknown kind, a limit outside 1..MAX_LIMIT."""
        if not query.strip() or len(query) > MAX_QUERY:
            raise BadRequest(f"field 'q' must be 1 to {MAX_QUERY} characters", where="q",
                             hint="search for a name, a word of a description, a tag or an owner")
        if kind is not None and kind not in KINDS:
            close = difflib.get_close_matches(kind, KINDS, 1)
            raise BadRequest(f"field 'kind' must be one of {', '.join(KINDS)}, not {kind[:40]!r}",
                             where="kind", hint=f"did you mean {close[0]!r}?" if close else
                             "leave it out to search every kind")
        if owner is not None and not 0 < len(owner) <= MAX_QUERY:
            raise BadRequest(f"field 'owner' must be 1 to {MAX_QUERY} characters", where="owner",
                             hint="name the owner exactly, e.g. ops@example.com")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"field 'limit' must be between 1 and {MAX_LIMIT}", where="limit",
                             hint=f"leave it out for {DEFAULT_LIMIT} results")
        return self.searcher().search(query, kind, owner, limit)

    # -- entries declared through the API ----------------------------------------------------------

    def declare(self, table: Mapping[str, Any], now: datetime, by: str) -> CatalogEntryDeclared:
        """The event declaring the entry ``table`` describes (the fields of a ``catalog.toml``
        table), checked as that table is (BadRequest naming the field); Conflict when the
        project's files declare that kind and name (declaring an API entry again replaces
        it)."""
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
