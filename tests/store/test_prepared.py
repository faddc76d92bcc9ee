"""``andon.store.prepared``: a statement run on the DBAPI cursor writes and reads what
``Connection.execute`` would, on SQLite and PostgreSQL, in the append's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select, update

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
