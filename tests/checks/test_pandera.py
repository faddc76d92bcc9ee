"""The pandera adapter on real files (needs the ``quality`` extra, installed by ``make test``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from andon import checks
from andon.checks.context import CheckContext

pa = pytest.importorskip("pandera.pandas")


def context(path: Path) -> CheckContext:
    moment = datetime(2026, 1, 6, tzinfo=UTC)
    return CheckContext("orders", "2026-01-05", 1, path, path.parent, moment, moment)


SCHEMA = pa.DataFrameSchema({
    "id": pa.Column(int, unique=True),
    "amount": pa.Column(float, pa.Check.ge(0)),
})


def test_a_schema_that_holds_passes(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    path.write_text("id,amount\n1,2.5\n2,0.0\n")
    result = checks.pandera_schema(SCHEMA)(context(path))
    assert result.passed and result.numbers == {"rows": 2, "failures": 0}


def test_every_failure_is_counted(tmp_path: Path) -> None:
    path = tmp_path / "orders.jsonl"
    path.write_text('{"id": 1, "amount": -1.0}\n{"id": 1, "amount": 3.0}\n')
    check = checks.pandera_schema(SCHEMA, name="orders_schema")
    result = check(context(path))
    assert check.__name__ == "orders_schema"
    assert not result.passed and result.numbers["failures"] >= 3  # two duplicate ids, one negative
    assert "schema failure(s)" in result.message and "amount" in result.message
