"""The search backends under test: every search test of this folder that takes ``make_search``
runs on SQLite (the in-memory FTS5 index over a real store file) and on the suite's real
PostgreSQL (full text in the database), through the same contract."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from andon.registry.entries import Entry
from andon.registry.pgsearch import PgSearch
from andon.registry.search import Searcher, SearchIndex
from andon.registry.stored import entry_of_row, row_of
from andon.store import catalog
from andon.store.sql import Store

SearchFactory = Callable[[Iterable[Entry]], Searcher]


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'andon.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def catalog_store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    yield store
    store.close()


def backend(store: Store, entries: Iterable[Entry]) -> Searcher:
    """The search of ``store``'s dialect over ``entries``, written to its catalog table as
    ``andon.live.catalog.Catalog`` writes them."""
    store.sync_catalog(row_of(e) for e in entries)
    if store.dialect == "postgresql":
        return PgSearch(store)
    with store.read() as conn:
        return SearchIndex([entry_of_row(r) for r in catalog.entry_rows(conn)])


@pytest.fixture
def make_search(catalog_store: Store) -> SearchFactory:
    return lambda entries: backend(catalog_store, entries)
