"""The benchmarks' bulk path into PostgreSQL: copy a whole SQLite store (log, read models and
every other table) into a fresh PostgreSQL store with ``COPY``.

A history is generated into SQLite through the store's own append path (``Store.append``: the
same projection code as ever, in-process and without a round trip per statement), then moved
across in one stream per table. On PostgreSQL the append path costs a network round trip for
each statement of each event's projection (~10 per run): 17 minutes for 1,000 pipelines x 30
days, hours for 10,000. This path is for the benchmarks only: ``andon`` itself never copies a
store (its log is its truth and grows only by ``Store.append``).

The target must be a migrated store (``Store(url)`` once) whose tables are empty but for
``schema_version``; the sequences behind auto-numbered keys (``events.seq``...) are moved past
the copied rows, so later appends continue the numbering.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Table, create_engine, select

ROWS_PER_READ = 20_000
SKIPPED = ("schema_version",)  # written by the migration of the target itself


def _serial(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns if c.autoincrement is True]


def copy_store(sqlite_url: str, postgres_url: str) -> dict[str, Any]:
    """Copy every table of the SQLite store at ``sqlite_url`` into the migrated, empty PostgreSQL
    store at ``postgres_url``; rows per table and seconds taken. Both must be at the same
    schema version. ValueError when a target table already holds rows."""
    from andon.store import schema
    from andon.store.sql import Store

    for url in (sqlite_url, postgres_url):  # both migrated to the newest schema
        Store(url).close()
    source = create_engine(sqlite_url)
    target = create_engine(postgres_url)
    counts: dict[str, int] = {}
    t0 = time.perf_counter()
    try:
        raw = target.raw_connection()
        try:
            cur = raw.cursor()
            for table in schema.metadata.sorted_tables:
                if table.name in SKIPPED:
                    continue
                cur.execute(f'SELECT 1 FROM "{table.name}" LIMIT 1')
                if cur.fetchone() is not None:
                    raise ValueError(f"the target table {table.name} is not empty")
                counts[table.name] = _copy_table(source, cur, table)
                for column in _serial(table):
                    cur.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                f"'{column}'), COALESCE(MAX(\"{column}\"), 0) + 1, false) "
                                f'FROM "{table.name}"')
            raw.commit()
        finally:
            raw.close()
    finally:
        source.dispose()
        target.dispose()
    return {"rows": counts, "copy_s": time.perf_counter() - t0}


def _copy_table(source: Any, cur: Any, table: Table) -> int:
    names = [c.name for c in table.columns]
    columns = ", ".join(f'"{n}"' for n in names)
    n = 0
    with source.connect() as conn, cur.copy(
            f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
        rows = conn.execution_options(yield_per=ROWS_PER_READ).execute(select(table))
        for row in rows:
            copy.write_row(tuple(row))
            n += 1
    return n
