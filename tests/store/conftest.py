"""The store under test: every contract test runs against a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from andon.store.sql import Store

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty store of each backend: a file in ``tmp_path`` or a fresh PG database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'andon.db'}"
    return str(request.getfixturevalue("postgres_database"))


@pytest.fixture
def open_store(store_url: str) -> Iterator[Callable[[], Store]]:
    """Open (another) store on the same database; all are closed at the end of the test."""
    opened: list[Store] = []

    def make() -> Store:
        opened.append(Store(store_url))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: Callable[[], Store]) -> Store:
    return open_store()
