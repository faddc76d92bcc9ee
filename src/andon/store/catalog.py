"""The catalog's read model (table ``catalog``): every entry of the registry, one row each, and
the queries PostgreSQL answers a search with.

Two writers, one table. Entries declared through the API are events (``andon.events.catalog``),
projected here inside the append transaction, so a store rebuilt from the log has them. The
definitions' and ``catalog.toml``'s entries are not events: they are what the project's files
say now, written by ``sync`` when the service builds its search (at start-up), a whole set in
one transaction that rewrites only the rows that changed. A name the files hold wins: an API
entry of the same kind and name stays in the table, ``shadowed``, until the files let it go.
So the table is a function of the log and the files, whatever the order they came in."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    Float,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal_column,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy import update as sql_update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import ColumnElement

from andon.events.catalog import CatalogEntryDeclared, CatalogEntryRemoved
from andon.model.words import words
from andon.store.catalogtext import catalog_text_indexes
from andon.store.schema import catalog

API, FILE, DEFINITIONS = "api", "file", "definitions"  # where an entry comes from
ROW_FIELDS = ("kind", "name", "origin", "owner", "team", "description", "tags", "links",
              "lifecycle", "since", "access", "producer", "upstream", "downstream", "defined_in")
_TOP = chr(0x10FFFF)  # sorts after every character: the end of a prefix's range
_CHUNK = 2000  # rows per statement of a sync
_C = 'COLLATE "C"'
_EXACT_MOST = 5  # entries one name can have: one per kind
_SHORT = 8  # a query this long or longer keeps enough trigrams through one typo


_COLUMNS = (*ROW_FIELDS, "digest", "shadowed", "seq", "lname")
_WORDS = ("w_name", "w_tags", "w_people", "w_text")  # PostgreSQL's document, in words


def _doc(parts: Sequence[str]) -> str:
    """PostgreSQL's document of a row from its four texts (as words), weighted as the SQLite
    index's columns: name (A) most, then tags (B), owner and team (C), description (D)."""
    return " || ".join(f"setweight(to_tsvector('simple', {part}), '{weight}')"
                       for part, weight in zip(parts, "ABCD", strict=True))


# the inserts as the driver takes them (executemany of tuples: a fifth of SQLAlchemy's cost per
# row, which a sync of 100,000 rows feels)
_INSERT = {
    "sqlite": f"INSERT INTO catalog ({', '.join(_COLUMNS)}) "
              f"VALUES ({', '.join('?' * len(_COLUMNS))})",
    "postgresql": f"INSERT INTO catalog ({', '.join(_COLUMNS)}, doc) "
                  f"VALUES ({', '.join(['%s'] * len(_COLUMNS))}, {_doc(['%s'] * 4)})",
}


def _digest(row: Mapping[str, Any]) -> str:
    """What a row of the files holds, in 40 characters: a sync compares these, and rewrites
    only the rows whose digest changed (``repr``: ten times cheaper than JSON at 100,000)."""
    return hashlib.sha1(repr([row[f] for f in ROW_FIELDS]).encode()).hexdigest()


def _params(row: Mapping[str, Any], dialect: str, digest: str = "", shadowed: int = 0,
            seq: int = 0) -> tuple[Any, ...]:
    """``row`` (the ROW_FIELDS; lists as lists) as the parameters of an insert."""
    values = [(json.dumps(v) if v else "[]") if isinstance(v, (list, tuple)) else v
              for v in (row[f] for f in ROW_FIELDS)]
    values += [digest, shadowed, seq, row["name"].lower()]
    if dialect == "postgresql":
        # split into words here, as the queries are: the same words on both sides
        values += [words(row["name"]), words(" ".join(row["tags"])),
                   words(f"{row['owner']} {row['team']}"), words(row["description"])]
    return tuple(values)


def _insert(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    if conn.dialect.name == "postgresql" and len(rows) > _CHUNK:
        _copy(conn, rows)
        return
    for start in range(0, len(rows), _CHUNK):
        conn.exec_driver_sql(_INSERT[conn.dialect.name], list(rows[start:start + _CHUNK]))


def _copy(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Many rows into PostgreSQL: COPY into a table of the transaction, then one INSERT that
    makes every document (a third of the time of inserting them one by one)."""
    texts = [f"{c} bigint" if c in ("shadowed", "seq") else f"{c} text"
             for c in (*_COLUMNS, *_WORDS)]
    conn.exec_driver_sql(f"CREATE TEMP TABLE catalog_load ({', '.join(texts)}) ON COMMIT DROP")
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY catalog_load ({', '.join((*_COLUMNS, *_WORDS))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    conn.exec_driver_sql(f"INSERT INTO catalog ({', '.join(_COLUMNS)}, doc) "
                         f"SELECT {', '.join(_COLUMNS)}, {_doc(_WORDS)} FROM catalog_load")
    conn.exec_driver_sql("DROP TABLE catalog_load")


def _taken(kind: Any, name: Any) -> Any:
    """Whether the project's files hold an entry of ``kind`` ``name``."""
    other = catalog.alias("taken")
    return exists().where(other.c.kind == kind, other.c.name == name, other.c.origin != API)


def project_catalog(conn: Connection, event: CatalogEntryDeclared | CatalogEntryRemoved,
                    seq: int) -> None:
    """Update the catalog for one newly stored catalog event."""
    conn.execute(delete(catalog).where(catalog.c.kind == event.kind,
                                       catalog.c.name == event.entry, catalog.c.origin == API))
    if isinstance(event, CatalogEntryRemoved):
        return
    shadowed = conn.execute(select(_taken(event.kind, event.entry))).scalar()
    row = dict(kind=event.kind, name=event.entry, origin=API, owner=event.owner, team=event.team,
               description=event.description, tags=list(event.tags),
               links=[[link.label, link.url] for link in event.links],
               lifecycle=event.lifecycle, since=event.since, access=event.access, producer="",
               upstream=[], downstream=[], defined_in=f"api: declared by {event.by or '?'}")
    _insert(conn, [_params(row, conn.dialect.name, shadowed=int(bool(shadowed)), seq=seq)])


def sync(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Make the rows of the project's files (origin ``definitions`` or ``file``) exactly
    ``rows`` (each with the ROW_FIELDS), rewriting only those that changed, and mark the API's
    entries the files hold now as shadowed (and the others not). The number of rows written
    or deleted."""
    want = {(row["kind"], row["name"], row["origin"]): (_digest(row), row) for row in rows}
    have = {(k, n, o): d for k, n, o, d in conn.execute(
        select(catalog.c.kind, catalog.c.name, catalog.c.origin, catalog.c.digest).where(
            catalog.c.origin != API))}
    gone = [dict(b_kind=k, b_name=n, b_origin=o) for (k, n, o), d in have.items()
            if want.get((k, n, o), ("", None))[0] != d]
    new = [_params(row, conn.dialect.name, digest=digest)
           for key, (digest, row) in want.items() if have.get(key) != digest]
    if gone:
        conn.execute(delete(catalog).where(
            catalog.c.kind == bindparam("b_kind"), catalog.c.name == bindparam("b_name"),
            catalog.c.origin == bindparam("b_origin")), gone)
    if conn.dialect.name == "postgresql" and not have and len(new) > _CHUNK:
        # the first sync: GIN indexes made once over every row take a fraction of the time of
        # GIN inserts row by row (no search is answered before the first build)
        made = catalog_text_indexes(trigram_schema(conn))
        for name in made:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        _insert(conn, new)
        for name, how in made.items():
            conn.exec_driver_sql(f"CREATE INDEX {name} ON catalog {how}")
    else:
        _insert(conn, new)
    if gone or new:
        taken = _taken(catalog.c.kind, catalog.c.name).correlate(catalog)
        conn.execute(sql_update(catalog).where(catalog.c.origin == API).values(
            shadowed=case((taken, 1), else_=0)))
    return len(gone) + len(new)


_VISIBLE = catalog.c.shadowed == 0


def entry_rows(conn: Connection, origin: str | None = None) -> list[RowMapping]:
    """The catalog's entries (of one ``origin``), the shadowed ones left out."""
    q = select(*_columns()).where(_VISIBLE)
    if origin is not None:
        q = q.where(catalog.c.origin == origin)
    return list(conn.execute(q.order_by(catalog.c.kind, catalog.c.name)).mappings())


def entry_row(conn: Connection, kind: str, name: str) -> RowMapping | None:
    """The entry ``kind`` ``name`` the catalog shows, or None."""
    return conn.execute(select(*_columns()).where(
        _VISIBLE, catalog.c.kind == kind, catalog.c.name == name)).mappings().first()


def _columns() -> list[Any]:
    return [catalog.c[f] for f in ROW_FIELDS]


# -- PostgreSQL's search (andon.registry.pgsearch ranks what these find) --------------------------

def trigram_schema(conn: Connection) -> str | None:
    """The schema of the pg_trgm extension when the database has it (for names a typo away),
    if the catalog's trigram index uses it."""
    return conn.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm' "
        "AND EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'catalog_trgm' AND "
        "schemaname = current_schema())").scalar()


def _filtered(q: Any, kind: str | None, owner: str | None) -> Any:
    q = q.where(_VISIBLE)
    if kind:
        q = q.where(catalog.c.kind == kind)
    if owner:
        q = q.where(func.lower(catalog.c.owner) == owner.strip().lower())
    return q


def matches(conn: Connection, q: str, query: str, weights: Sequence[float], kind: str | None,
            owner: str | None, limit: int) -> list[RowMapping]:
    """In one statement (a search is one round trip): the entries named ``q`` (lower case) and
    those whose name starts with it, exact first then shorter first (``rank`` None), and
    unless ``query`` is empty the ``2 * limit`` whose document matches it (a tsquery of the
    'simple' configuration), best first, with their ``rank`` (ts_rank_cd with the column
    ``weights`` (D, C, B, A))."""
    lname: ColumnElement[str] = literal_column(f"lname {_C}")
    names = _filtered(select(*_columns(), catalog.c.lname, null().cast(Float).label("rank")).where(
        lname >= q, lname < q + _TOP), kind, owner).order_by(
        catalog.c.lname != q, func.length(catalog.c.lname), lname).limit(limit + _EXACT_MOST)
    if not query:
        return list(conn.execute(names).mappings())
    tsq = func.to_tsquery(literal_column("'simple'::regconfig"), query)
    listed = ", ".join(str(float(w)) for w in weights)
    array: ColumnElement[Any] = literal_column(f"ARRAY[{listed}]::float4[]")
    rank = func.ts_rank_cd(array, catalog.c.doc, tsq).cast(Float).label("rank")
    texts = _filtered(select(*_columns(), catalog.c.lname, rank).where(
        catalog.c.doc.op("@@")(tsq)), kind, owner).order_by(rank.desc()).limit(limit * 2)
    return list(conn.execute(union_all(names, texts)).mappings())


def close_names(conn: Connection, q: str, trigrams: str | None, kind: str | None,
                owner: str | None, limit: int = 50) -> list[RowMapping]:
    """Candidates for names a typo away from ``q``, in one statement: the most similar by
    pg_trgm (``%``: similar above its threshold, in schema ``trigrams``) and, for a short
    ``q`` (a short name with two letters swapped shares no trigram) or without pg_trgm, the
    names that start with its first two letters, nearest in length first."""
    lname: ColumnElement[str] = literal_column(f"lname {_C}")
    start = _filtered(select(*_columns()).where(lname >= q[:2], lname < q[:2] + _TOP), kind,
                      owner).order_by(func.abs(func.length(catalog.c.lname) - len(q))).limit(limit)
    if trigrams is None:
        return list(conn.execute(start).mappings())
    similar = _filtered(select(*_columns()).where(
        text(f"lname OPERATOR({trigrams}.%) :b_q")), kind, owner).order_by(
        text(f"{trigrams}.similarity(lname, :b_q) DESC")).limit(limit)
    if len(q) >= _SHORT:
        return list(conn.execute(similar, {"b_q": q}).mappings())
    return list(conn.execute(union_all(similar, start), {"b_q": q}).mappings())
