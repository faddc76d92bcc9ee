"""The catalog of a project (``andon.registry``) as the CLI and the API ask for it: the search
index, built once, and the checks on a search request."""

from __future__ import annotations

import threading
from pathlib import Path

from andon.model.errors import BadRequest
from andon.model.graph import Graph
from andon.registry.browse import Shelf, check_kind
from andon.registry.declared import load_declared
from andon.registry.entries import catalog
from andon.registry.search import DEFAULT_LIMIT, MAX_LIMIT, MAX_QUERY, Found, SearchIndex


class Catalog:
    """The catalog of ``graph`` and the project's ``catalog.toml``; its index is a read model
    of the definitions and that file, built in memory at the first search."""

    def __init__(self, graph: Graph, project_dir: Path) -> None:
        self.graph = graph
        self.project_dir = project_dir
        self._index: SearchIndex | None = None
        self._shelf: Shelf | None = None  # facets and listings, built with the index
        self._building = threading.Lock()

    def index(self) -> SearchIndex:
        """The search index, built at the first call (later calls wait for it)."""
        with self._building:
            if self._index is None:
                declared = load_declared(self.project_dir, self.graph)
                entries = catalog(self.graph, declared)
                self._index, self._shelf = SearchIndex(entries), Shelf(entries)
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
        check_kind(kind)
        if owner is not None and not 0 < len(owner) <= MAX_QUERY:
            raise BadRequest(f"field 'owner' must be 1 to {MAX_QUERY} characters", where="owner",
                             hint="name the owner exactly, e.g. ops@example.com")
        if not 1 <= limit <= MAX_LIMIT:
            raise BadRequest(f"field 'limit' must be between 1 and {MAX_LIMIT}", where="limit",
                             hint=f"leave it out for {DEFAULT_LIMIT} results")
        return self.index().search(query, kind, owner, limit)
