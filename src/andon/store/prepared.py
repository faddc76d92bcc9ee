"""Statements of the append path, compiled once per dialect and set of parameters and run on the
connection's own DBAPI cursor.

The read models are written inside every append transaction, about ten statements a run.
Through SQLAlchemy's ``Connection.execute`` each costs a cache-key walk of the statement, the
compiled cache's look-up, an execution context and a result object: some 0.1 ms of Python a
statement, more than SQLite takes to run it. A ``Prepared`` statement does that work once
(``stmt.compile`` for the connection's dialect and the keys given) and then hands the SQL text
and the parameters to the DBAPI cursor of the same connection, so it runs in the same
transaction as everything else of the append. The parameters are built by the compiled form
itself (``construct_params``: literal values of the statement, escaped names) and passed through
the types' bind processors when there are any, so the values reaching the driver are those
``execute`` would have sent. A statement whose SQL is only known at execution (an ``IN`` over
an expanding parameter) is run through ``execute`` instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.expression import ClauseElement, Executable


class _Key:
    """Stands for the parameter ``key`` in a probe of ``construct_params`` (see ``_recipe``)."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


def _recipe(compiled: Compiled, keys: tuple[str, ...],
            defaults: tuple[tuple[str, Any], ...]) -> dict[str, tuple[bool, Any]] | None:
    """Where each bind of ``compiled`` takes its value from, for rows of exactly ``keys``:
    ``(True, key)`` (the row's value) or ``(False, value)`` (a literal of the statement or a
    column's scalar default). Found by SQLAlchemy's own ``construct_params`` on a probe row, so
    it resolves keys, escaped names and literals as ``construct_params`` would on each row, once.
    None when a value is only known per execution (a callable bind)."""
    if any(getattr(b, "callable", None) is not None for b in getattr(compiled, "bind_names", {})):
        return None
    probe: dict[str, Any] = {**dict(defaults), **{k: _Key(k) for k in keys}}
    return {name: (True, v.key) if isinstance(v, _Key) else (False, v)
            for name, v in (compiled.construct_params(probe) or {}).items()}


@dataclass(frozen=True, slots=True)
class _Form:
    """One compiled form: its SQL and how to turn a row of parameters into the driver's."""

    compiled: Compiled
    sql: str
    order: tuple[str, ...] | None  # bind names in order (a positional paramstyle), else None
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    defaults: tuple[tuple[str, Any], ...]  # the columns' scalar defaults the SQL still binds
    direct: bool  # False: the SQL needs what only ``execute`` does: use Connection.execute
    # each bind's source, in the driver's order (positional) or by name: ``_recipe``
    plan: tuple[tuple[str, bool, Any], ...] | None = None

    def driver_params(self, params: dict[str, Any]) -> Any:
        if self.plan is not None:  # the append's path: no construct_params per row
            if self.order is not None and not self.processors:
                return [params[v] if by_key else v for _, by_key, v in self.plan]
            values = {name: params[v] if by_key else v for name, by_key, v in self.plan}
        else:
            if self.defaults:
                params = {**dict(self.defaults), **params}
            values = dict(self.compiled.construct_params(params) or {})
        for name, process in self.processors:
            values[name] = process(values[name])
        if self.order is None:
            return values
        return [values[name] for name in self.order]

    @classmethod
    def make(cls, compiled: Compiled, order: tuple[str, ...] | None,
             processors: tuple[tuple[str, Callable[[Any], Any]], ...],
             defaults: tuple[tuple[str, Any], ...], direct: bool,
             keys: tuple[str, ...]) -> _Form:
        recipe = _recipe(compiled, keys, defaults) if direct else None
        plan = None
        if recipe is not None:
            names = order if order is not None else tuple(recipe)
            plan = tuple((n, *recipe[n]) for n in names)
        return cls(compiled, compiled.string, order, processors, defaults, direct, plan)


class Prepared:
    """``stmt``, run through the DBAPI cursor of a SQLAlchemy connection. Thread-safe (a form
    compiled twice by two threads at once is the same form)."""

    def __init__(self, stmt: Executable) -> None:
        self.stmt = stmt
        self._clause = cast(ClauseElement, stmt)  # every DML and SELECT is both
        self._forms: dict[tuple[str, tuple[str, ...]], _Form] = {}

    def _form(self, conn: Connection, keys: tuple[str, ...]) -> _Form:
        form = self._forms.get((conn.dialect.name, keys))
        if form is None:
            compiled = self._clause.compile(dialect=conn.dialect, column_keys=list(keys))
            processors = getattr(compiled, "_bind_processors", {}) or {}
            expanding = bool(getattr(compiled, "post_compile_params", None)
                             or getattr(compiled, "literal_execute_params", None))
            order = getattr(compiled, "positiontup", None) if conn.dialect.positional else None
            # a column left out of an INSERT whose default SQLAlchemy computes in Python: a
            # scalar is bound here; anything else (a callable, an ``onupdate``) needs ``execute``
            prefetch = list(getattr(compiled, "insert_prefetch", ()))
            scalar = all(getattr(c.default, "is_scalar", False) for c in prefetch) and not (
                getattr(compiled, "update_prefetch", ()) or getattr(compiled, "returning", None))
            defaults = tuple((c.key, c.default.arg) for c in prefetch) if scalar else ()
            form = _Form.make(compiled, tuple(order) if order is not None else None,
                              tuple(processors.items()), defaults, not expanding and scalar, keys)
            self._forms[(conn.dialect.name, keys)] = form
        return form

    def _cursor(self, conn: Connection, params: dict[str, Any]) -> Any:
        form = self._form(conn, tuple(params))
        if not form.direct:
            return conn.execute(self.stmt, params).cursor
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(form.sql, form.driver_params(params))
        return cursor

    def run(self, conn: Connection, params: dict[str, Any]) -> int:
        """Execute a write with ``params``; the number of rows it changed."""
        cursor = self._cursor(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, conn: Connection, params: dict[str, Any]) -> tuple[Any, ...] | None:
        """Execute a query with ``params``; its first row (a plain tuple in the statement's
        column order) or None."""
        cursor = self._cursor(conn, params)
        try:
            row = cursor.fetchone()
            return None if row is None else tuple(row)
        finally:
            cursor.close()

    def many(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        """Execute once per row in one driver call; the rows are grouped by their keys (a form
        each), in order within a group. Only for statements whose rows do not depend on each
        other's effects in a way their order across groups would change."""
        groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in rows:
            groups.setdefault(tuple(row), []).append(row)
        for keys, group in groups.items():
            form = self._form(conn, keys)
            if not form.direct:
                conn.execute(self.stmt, group)
                continue
            cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            cursor.executemany(form.sql, [form.driver_params(p) for p in group])
            cursor.close()
