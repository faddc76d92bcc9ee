"""The service's catalog (``andon.live.catalog.Catalog``): built in the background, a search
before the first build waits for it (never an empty answer by accident), a search during a
rebuild answers from the index before, and an entry declared meanwhile is in the new one."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from andon.live import catalog as live
from andon.live.catalog import Catalog
from andon.project.load import load_project
from andon.registry.search import Found
from andon.store.sql import Store
from tests.cli.test_search import CATALOG, PIPELINES
from tests.conftest import ProjectFactory

GUARD = 30.0  # seconds: a failure guard, never a measure of speed
NOW = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture
def made(make_project: ProjectFactory) -> Iterator[tuple[Catalog, Path]]:
    root = make_project(PIPELINES)
    (root / "catalog.toml").write_text(CATALOG)
    store = Store(f"sqlite:///{root / 'andon.db'}")
    yield Catalog(load_project(root).graph, root, store), root
    store.close()


def _in_thread(fn: Any, *args: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(fn(*args)), daemon=True)
    thread.start()
    return thread, out


def _names(found: Found) -> list[str]:
    return [h.entry.name for h in found.hits]


def _held(monkeypatch: pytest.MonkeyPatch, name: str) -> tuple[threading.Event, threading.Event]:
    """Make ``andon.live.catalog.NAME`` wait for the first returned event before it runs; the
    second is set once it waits."""
    go, reached = threading.Event(), threading.Event()
    real = getattr(live, name)

    def held(*args: Any) -> Any:
        reached.set()
        assert go.wait(GUARD)
        return real(*args)

    monkeypatch.setattr(live, name, held)
    return go, reached


def test_a_search_before_the_first_build_waits_for_it(made: tuple[Catalog, Path],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    cat, _root = made
    go, _ = _held(monkeypatch, "load_declared")
    builder = cat.start()
    searching, out = _in_thread(cat.search, "churn")
    searching.join(0.2)
    assert searching.is_alive()  # waiting, not answering from nothing
    go.set()
    searching.join(GUARD)
    builder.join(GUARD)
    assert _names(out[0]) == ["churn"]


def test_a_search_during_a_rebuild_answers_from_the_index_before(
        made: tuple[Catalog, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cat, root = made
    assert _names(cat.search("checkout")) == ["checkout"]
    (root / "catalog.toml").write_text(CATALOG.replace("checkout", "payments"))
    go, _ = _held(monkeypatch, "load_declared")
    rebuilding, _ = _in_thread(cat.rebuild)
    searching, out = _in_thread(cat.search, "checkout")
    searching.join(GUARD)
    assert not searching.is_alive() and _names(out[0]) == ["checkout"]
    go.set()
    rebuilding.join(GUARD)
    assert _names(cat.search("payments")) == ["payments"]
    assert "checkout" not in _names(cat.search("checkout"))


def test_an_entry_declared_during_a_rebuild_is_in_the_new_index(
        made: tuple[Catalog, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    cat, _root = made
    cat.search("churn")
    go, reached = _held(monkeypatch, "SearchIndex")
    rebuilding, _ = _in_thread(cat.rebuild)
    assert reached.wait(GUARD)  # the rebuild has read the store: the entry below is new to it
    event = cat.declare({"kind": "library", "name": "pdlib", "owner": "py@example.com"}, NOW,
                        "test")
    cat.store.append([event])
    cat.refresh((event.kind, event.entry))
    assert _names(cat.search("pdlib")) == ["pdlib"]  # the index before has it at once
    go.set()
    rebuilding.join(GUARD)
    assert _names(cat.search("pdlib")) == ["pdlib"]  # and the new one too
