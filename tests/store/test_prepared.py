"""``andon.store.prepared``: a statement run on the DBAPI cursor writes and reads what
``Connection.execute`` would, on SQLite and PostgreSQL, in the append's transaction."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Select, Table, bindparam, select, update

from andon.store import manual, projection, relations
from andon.store.prepared import Prepared
from andon.store.schema import problems, runs
from andon.store.sql import Store

NEW_RUN = Prepared(runs.insert())
SET_RUN = Prepared(update(runs).where(runs.c.run_id == bindparam("b_run_id")))
RUN = Prepared(select(runs.c.run_id, runs.c.pool, runs.c.slots, runs.c.status).where(
    runs.c.run_id == bindparam("b_run_id")))
# an IN over a tuple is an expanding parameter: its SQL is only known at execution
OPEN_OF = Prepared(select(problems.c.seq).where(problems.c.kind.in_(("failure", "lost")),
                                                 problems.c.pipeline == bindparam("b_p")))


def _queued(run_id: str) -> dict[str, object]:
    return dict(run_id=run_id, pipeline="p", partition="2026-01-05", status="queued",
                queued_at="2026-01-05T00:00:00Z")


def test_insert_takes_the_columns_scalar_defaults_and_update_sets_only_what_is_given(
        store: Store) -> None:
    with store._write() as conn:
        NEW_RUN.run(conn, _queued("r1"))
        NEW_RUN.many(conn, [_queued("r2"), {**_queued("r3"), "pool": "gpu", "slots": 3}])
        assert SET_RUN.run(conn, dict(b_run_id="r2", status="running", pool="io")) == 1
        assert SET_RUN.run(conn, dict(b_run_id="nope", status="running")) == 0
        assert RUN.first(conn, dict(b_run_id="r1")) == ("r1", "", 1, "queued")
    with store.read() as conn:  # committed with the transaction, seen by another connection
        got = {r.run_id: (r.pool, r.slots, r.status, r.attempt, r.inputs)
               for r in conn.execute(select(runs))}
    assert got == {"r1": ("", 1, "queued", 1, "[]"), "r2": ("io", 1, "running", 1, "[]"),
                   "r3": ("gpu", 3, "queued", 1, "[]")}


def test_a_statement_whose_sql_depends_on_its_values_goes_through_execute(store: Store) -> None:
    with store._write() as conn:
        conn.execute(problems.insert(), [
            dict(seq=s, kind=k, pipeline="p", at="t", touched=s, began="")
            for s, k in ((1, "failure"), (2, "check"), (3, "lost"))])
        assert OPEN_OF.first(conn, dict(b_p="p")) in ((1,), (3,))
        assert OPEN_OF.first(conn, dict(b_p="q")) is None


def test_a_failed_statement_rolls_the_whole_append_back(store: Store) -> None:
    with pytest.raises(Exception, match="(?i)unique|duplicate"), store._write() as conn:
        NEW_RUN.run(conn, _queued("r1"))
        NEW_RUN.run(conn, _queued("r1"))
    with store.read() as conn:
        assert conn.execute(select(runs)).first() is None


def _reference(form: Any, row: dict[str, Any]) -> Any:
    """The driver's parameters as ``construct_params`` makes them for ``row`` (the path every row
    took before forms resolved their binds once)."""
    values = dict(form.compiled.construct_params({**dict(form.defaults), **row}) or {})
    for name, process in form.processors:
        values[name] = process(values[name])
    return values if form.order is None else [values[n] for n in form.order]


def _key_sets(stmt: Any, table: Table) -> list[tuple[str, ...]]:
    """Rows of the shapes the store passes: the ``b_`` binds of the statement's WHERE, and for
    a write every column, and the required ones alone."""
    where = tuple(sorted(n for n in stmt.compile().binds if n.startswith("b_")))
    if isinstance(stmt, Select):
        return [where]
    every = [c for c in table.columns if c is not table.autoincrement_column]
    required = tuple(c.key for c in every if not c.nullable and c.default is None)
    return [where + tuple(c.key for c in every), where + required]


def _value(table: Table, key: str, text: str) -> Any:
    """A value of the column ``key``'s type (its text for a ``b_`` bind)."""
    column = table.columns.get(key)
    kind = column.type.python_type if column is not None else str
    return {int: 7, float: 1.5}.get(kind, text)


def test_each_store_statement_binds_what_construct_params_would(store: Store) -> None:
    """The append's statements resolve their binds once per set of keys (``_recipe``): on this
    backend, the parameters reaching the driver are those of SQLAlchemy's ``construct_params``
    on every row, for each statement of the append path and each shape of row it takes."""
    prepared = [(name, p) for module in (projection, manual, relations)
                for name, p in vars(module).items() if isinstance(p, Prepared)]
    prepared += [("NEW_RUN", NEW_RUN), ("SET_RUN", SET_RUN), ("RUN", RUN)]
    assert len(prepared) >= 14
    checked = 0
    with store.read() as conn:
        for name, p in prepared:
            stmt: Any = p.stmt
            table = stmt.table if hasattr(stmt, "table") else stmt.get_final_froms()[0]
            for keys in _key_sets(stmt, table):
                form = p._form(conn, keys)
                if not form.direct:
                    continue
                row = {k: _value(table, k, f"{name}-{k}") for k in keys}
                assert form.plan is not None, name
                assert form.driver_params(row) == _reference(form, row), (name, keys)
                checked += 1
    assert checked >= 14
