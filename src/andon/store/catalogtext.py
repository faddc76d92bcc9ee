"""The catalog's search indexes on PostgreSQL: migration 5 makes them, and the catalog's first
large sync (``store/catalog.py``) drops and rebuilds the GIN ones around its bulk insert."""

from __future__ import annotations

import contextlib

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError


def catalog_text_indexes(trigrams: str | None) -> dict[str, str]:
    """PostgreSQL's GIN indexes of the catalog (name -> definition): the documents', and, with
    pg_trgm (in schema ``trigrams``), the names' trigrams. GIN, not GiST, for the trigrams: its
    % (similar above a threshold) took 8-14 ms at 100,000 names, GiST's <-> order 100."""
    made = {"catalog_doc": "USING gin (doc)"}
    if trigrams is not None:
        made["catalog_trgm"] = f"USING gin (lname {trigrams}.gin_trgm_ops)"
    return made


def catalog_search_indexes(conn: Connection) -> None:
    """Create the catalog's PostgreSQL indexes: a prefix index, and the GIN indexes of
    ``catalog_text_indexes`` (the trigrams' only when pg_trgm can be had)."""
    # prefixes by range on the C collation: an index a generic plan can use, whatever the locale
    conn.exec_driver_sql('CREATE INDEX catalog_prefix ON catalog ((lname COLLATE "C"))')
    # names a typo away: pg_trgm when the server has it (a trusted extension), else none
    with contextlib.suppress(DBAPIError), conn.begin_nested():
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    trigrams = conn.exec_driver_sql("SELECT extnamespace::regnamespace::text FROM pg_extension "
                                    "WHERE extname = 'pg_trgm'").scalar()
    for name, how in catalog_text_indexes(trigrams).items():
        conn.exec_driver_sql(f"CREATE INDEX {name} ON catalog {how}")
