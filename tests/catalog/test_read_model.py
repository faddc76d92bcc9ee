"""Every entry is a read model of the event log and the project's files (issue 11, item 6), on
SQLite and PostgreSQL: a store rebuilt from another's log, with the same files synced, holds
the same catalog; every one of many generated entries is found at rank 1 by its exact name."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from andon.events.catalog import CatalogEntryRemoved
from andon.registry.entries import Entry
from andon.registry.stored import declared_event, entry_of_row, row_of
from andon.store import catalog
from andon.store.sql import Store
from tests.catalog.conftest import SearchFactory, backend

NOW = datetime(2026, 3, 1, tzinfo=UTC)
FILES = [Entry("dataset", "orders", "sales@example.com", "every order", ("sales",)),
         Entry("pipeline", "clean_orders", "data@example.com", "cleans them",
               upstream=("raw",), downstream=("orders",), where="pipelines.py:4"),
         Entry("model", "churn", "ml@example.com", "who leaves", ("ml",), "ml",
               (("code", "https://git.example.com/churn"),), where="catalog.toml:1",
               declared=True)]


def _catalog(store: Store) -> list[dict[str, object]]:
    with store.read() as conn:
        rows = [dict(r) for r in conn.execute(catalog.catalog.select()).mappings()]
    return sorted(({k: v for k, v in r.items() if k != "doc"} for r in rows),
                  key=lambda r: (r["kind"], r["name"], r["origin"]))


def _declare(store: Store, entry: Entry, by: str = "api") -> None:
    store.append([declared_event(entry, NOW, by)])


def test_a_store_rebuilt_from_the_log_holds_the_same_catalog(store_url: str,
                                                              postgres_server: object) -> None:
    first = Store(store_url)
    try:
        first.sync_catalog(row_of(e) for e in FILES)
        _declare(first, Entry("service", "checkout", "web@example.com", "takes orders"))
        _declare(first, Entry("service", "checkout", "web@example.com", "takes payments too",
                              lifecycle="beta"))  # again: replaces it
        _declare(first, Entry("library", "old_client", "web@example.com"))
        first.append([CatalogEntryRemoved(at=NOW, kind="library", entry="old_client")])
        # the files take over a name declared through the API: it stays, shadowed
        _declare(first, Entry("model", "ranker", "ml@example.com", "api's ranker"))
        files = [*FILES, Entry("model", "ranker", "ml@example.com", "the file's ranker",
                               where="catalog.toml:9", declared=True)]
        first.sync_catalog(row_of(e) for e in files)
        again = Store(_another(store_url, postgres_server))
        try:
            again.append(list(first.iter_events()))
            again.sync_catalog(row_of(e) for e in files)
            assert _catalog(again) == _catalog(first)
            with again.read() as conn:
                shown = {(e.kind, e.name): e for e in map(entry_of_row,
                                                          catalog.entry_rows(conn))}
            assert set(shown) == {("dataset", "orders"), ("pipeline", "clean_orders"),
                                  ("model", "churn"), ("service", "checkout"),
                                  ("model", "ranker")}
            assert shown[("service", "checkout")].description == "takes payments too"
            assert shown[("model", "ranker")].description == "the file's ranker"
            assert shown[("pipeline", "clean_orders")] == FILES[1]
            assert shown[("model", "churn")] == FILES[2]
            # the files let the name go: the API's entry is back, in both
            for store in (first, again):
                store.sync_catalog(row_of(e) for e in FILES)
                with store.read() as conn:
                    row = catalog.entry_row(conn, "model", "ranker")
                assert row is not None and row["description"] == "api's ranker"
        finally:
            again.close()
    finally:
        first.close()


def _another(url: str, server: object) -> str:
    """An empty store beside the one at ``url``, of the same backend."""
    if url.startswith("sqlite:///"):
        return url.replace("andon.db", "again.db")
    return server.create_schema()  # type: ignore[attr-defined,no-any-return]


def test_a_sync_rewrites_only_what_changed(catalog_store: Store) -> None:
    assert catalog_store.sync_catalog(row_of(e) for e in FILES) == 3
    assert catalog_store.sync_catalog(row_of(e) for e in FILES) == 0
    changed = [FILES[0], FILES[1], Entry("model", "churn", "ml@example.com", "who stays",
                                         declared=True)]
    assert catalog_store.sync_catalog(row_of(e) for e in changed) == 2  # out, and in again
    assert catalog_store.sync_catalog(row_of(e) for e in changed[:2]) == 1


def test_every_generated_entry_is_found_first_by_its_exact_name(make_search: SearchFactory
                                                                 ) -> None:
    rng = random.Random(11)
    syllables = ["ka", "lo", "mi", "nu", "pe", "ra", "so", "ti", "va", "ze"]
    entries, seen = [], set()
    while len(entries) < 400:
        name = "_".join("".join(rng.choices(syllables, k=rng.randint(1, 3)))
                        for _ in range(rng.randint(1, 3)))
        kind = rng.choice(("dataset", "model", "service", "library"))
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        # descriptions made of other names' words: full text competes with every exact match
        entries.append(Entry(kind, name, f"{rng.choice(syllables)}@example.com",
                             " ".join(rng.choices(syllables, k=6)) + " " + name.replace("_", " "),
                             tuple(rng.sample(syllables, 2))))
    search = make_search(entries)
    for entry in entries:
        for query in (entry.name, entry.name.upper()):
            found = search.search(query, limit=5).hits
            assert found and found[0].entry.name == entry.name, (query, found[:2])
            assert {(h.entry.kind, h.entry.name) for h in found[:sum(
                e.name == entry.name for e in entries)]} >= {(entry.kind, entry.name)}


def test_a_first_sync_of_many_entries_is_searchable(catalog_store: Store) -> None:
    """Past 2,000 rows PostgreSQL's first sync copies them in and makes its indexes once: every
    row is there, with its document, and the indexes are back."""
    entries = [Entry("dataset", f"table_{n:05d}_{'xyzw'[n % 4]}", "o@example.com",
                     f"rows of batch {n}", (f"t{n % 7}",), declared=True) for n in range(2500)]
    search = backend(catalog_store, entries)
    for n in range(0, 2500, 97):
        assert search.search(entries[n].name).hits[0].entry == entries[n]
    assert search.search("tabel_00417_y").hits[0].entry.name == "table_00417_y"  # a typo
    assert {h.entry.name for h in search.search("batch 1234").hits} == {"table_01234_z"}
    more = Entry("model", "late_model", "ml@example.com", "synced afterwards", declared=True)
    assert catalog_store.sync_catalog(row_of(e) for e in [*entries, more]) == 1
    assert backend(catalog_store, [*entries, more]).search("late_model").hits[0].entry == more
