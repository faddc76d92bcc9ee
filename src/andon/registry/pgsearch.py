"""The catalog's search on PostgreSQL: the store's ``catalog`` table is the index (a weighted
tsvector per entry under a GIN index, an index on the lower-case names for exact and prefix
matches, and pg_trgm's trigram GIN index for names a typo away), ranked by the contract of
``andon.registry.search``: an exact name, then prefixes (shorter first), then full text
(``ts_rank_cd`` with the name weighted most, a deprecated entry's score halved), and when
nothing matches, the names a typo away (pg_trgm's similar names, difflib decides, as on SQLite)
with a suggestion. Without pg_trgm only names that start with the query's first two letters are
looked at for a typo (with it too, for a query shorter than 8 characters)."""

from __future__ import annotations

from andon.registry.entries import Entry
from andon.registry.search import (
    DEFAULT_LIMIT,
    EXACT,
    PREFIX,
    WEIGHTS,
    Found,
    closest,
    normal,
    query_words,
    ranked,
    text_score,
)
from andon.registry.stored import entry_of_row
from andon.store import catalog
from andon.store.sql import Store

# ts_rank_cd's weights of the document's parts D (description), C (owner and team), B (tags) and
# A (name), in the proportions of the SQLite index's bm25 weights
PG_WEIGHTS = tuple(w / WEIGHTS[0] for w in (WEIGHTS[1], WEIGHTS[3], WEIGHTS[2], WEIGHTS[0]))
RANK_SCALE = 10.0  # ts_rank_cd's ranks (about 0.1 to 1) to the size of bm25's


class PgSearch:
    """Searches the catalog of a PostgreSQL store (a ``andon.registry.search.Searcher``):
    nothing to build or keep in step, every search asks the database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.read() as conn:
            self.trigrams = catalog.trigram_schema(conn)  # None: the server has no pg_trgm

    def put(self, key: tuple[str, str], entry: Entry | None) -> None:
        """Nothing to do: the store's table is the index."""

    def search(self, query: str, kind: str | None = None, owner: str | None = None,
               limit: int = DEFAULT_LIMIT) -> Found:
        q, owner = normal(query), normal(owner) if owner else None
        if not q or limit <= 0:
            return Found([], None)
        scored: dict[tuple[str, str], tuple[Entry, float]] = {}
        tsquery = " & ".join(f"'{w}'" + (":*" if prefix else "")
                             for w, prefix in query_words(q))
        with self.store.read() as conn:
            for row in catalog.matches(conn, q, tsquery, PG_WEIGHTS, kind, owner, limit):
                entry, lname, rank = entry_of_row(row), row["lname"], row["rank"]
                score = (text_score(rank * RANK_SCALE) if rank is not None else EXACT
                         if lname == q else PREFIX + 100.0 / len(lname))
                if score > scored.get(entry.key, (entry, 0.0))[1]:
                    scored[entry.key] = (entry, score)
            fuzzy = not scored
            if fuzzy:
                rows = {(r["kind"], r["name"]): r for r in catalog.close_names(
                    conn, q, self.trigrams, kind, owner)}
                near = closest(q, ((key, key[1].lower()) for key in rows))
                scored = {key: (entry_of_row(rows[key]), s) for key, s in near.items()}
        return ranked(scored.values(), limit, fuzzy)
