"""The cord read models (``cords``, ``halts``, ``cord_outputs``) follow the log the engine writes,
on SQLite and PostgreSQL, and arrive in an older database by migration 2."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import inspect

from andon.engine.core import replay
from andon.events import CordPulled, OutputQuarantined
from andon.store import projection, schema
from andon.store.sql import Store
from tests.engine.cordlib import pull, resolve
from tests.engine.harness import Line, graph, pipe, source

DAY = "2026-01-05"


def _line() -> Line:
    g = graph([source("raw")], [pipe("clean", ["raw"], ["orders"]), pipe("report", ["orders"]),
                                pipe("mail", ["report"])])
    line = Line(g)
    line.notify("raw", DAY, fingerprint="v1")
    line.run_all()
    return line


def test_the_read_models_follow_a_cord_through_its_life(store: Store) -> None:
    line = _line()
    made_at = line.now
    cord_id, _ = pull(line, "orders", DAY)
    store.append(line.log)

    (row,) = store.cords()
    assert (row["cord_id"], row["status"], row["version"], row["producer"], row["halted"]) == \
        (cord_id, "pulled", 1, "clean", 3)
    assert row["produced_at"] is not None and row["pulled_at"] >= row["produced_at"]
    assert [(h["pipeline"], h["reason"]) for h in store.halts()] == [
        ("clean", "bad rows"), ("report", "bad rows"), ("mail", "bad rows")]
    assert [(o["asset"], o["state"]) for o in store.cord_outputs(cord_id)] == [
        ("mail", "suspect"), ("report", "suspect")]

    mark = len(line.log)
    resolve(line, cord_id)
    store.append(line.log[mark:])
    assert store.cords(cord_id)[0]["status"] == "resolving"
    assert [h["pipeline"] for h in store.halts()] == ["report", "mail"]  # clean is re-making

    mark = len(line.log)
    line.run_all()
    store.append(line.log[mark:])
    (row,) = store.cords(cord_id)
    assert row["status"] == "recovered" and store.halts() == []
    assert row["remake_run_id"] == "clean:2026-01-05:2"
    assert row["remade_at"] and row["recovered_at"] and row["resolved_by"] == "test"
    assert made_at.isoformat()[:10] in row["produced_at"]


def test_a_manual_fix_gives_the_same_new_version_in_the_store_and_the_engine(store: Store) -> None:
    line = _line()
    cord_id, _ = pull(line, "orders", DAY)
    resolve(line, cord_id, manual_fix=True)
    store.append(line.log)

    (part,) = store.partitions("orders")
    assert part["version"] == line.version("orders", DAY) == 2
    assert part["origin"] == "manual_fix"
    assert [v["version"] for v in store.partition_versions("orders", DAY)] == [1, 2]
    assert replay(line.graph, [e for _, e in store.events()]).cords == line.state.cords


def test_a_pull_the_engine_ignores_leaves_no_row(store: Store) -> None:
    line = _line()
    cord_id, _ = pull(line, "orders", DAY)
    other = CordPulled(id="pull:orders:x", at=line.now, cord_id="orders:x", asset="orders",
                       partition=DAY, reason="a check failed")
    line.send(other)
    store.append(line.log)

    assert [r["cord_id"] for r in store.cords()] == [cord_id]
    assert other.cord_id not in line.state.cords.cords


def test_quarantine_records_update_the_output_rows(store: Store) -> None:
    line = _line()
    cord_id, _ = pull(line, "orders", DAY)
    store.append(line.log)
    store.append([OutputQuarantined(id="q", at=line.now, cord_id=cord_id, asset="report",
                                    partition=DAY, version=1, location="data/report/x",
                                    quarantine_path="/q/report")])
    states = {o["asset"]: (o["state"], o["quarantine_path"]) for o in store.cord_outputs(cord_id)}
    assert states == {"report": ("quarantined", "/q/report"), "mail": ("suspect", "")}


def test_cords_open_first_then_newest_a_page_at_a_time(store: Store) -> None:
    line = _line()
    for day in ("2026-01-06", "2026-01-07"):
        line.notify("raw", day, fingerprint="v1")
    line.run_all()
    old, _ = pull(line, "orders", DAY)
    resolve(line, old, manual_fix=True)
    still, _ = pull(line, "orders", "2026-01-06")
    new, _ = pull(line, "orders", "2026-01-07")
    resolve(line, new, manual_fix=True)
    store.append(line.log)

    def ids(**kw: object) -> list[str]:
        return [r["cord_id"] for r in store.cords(**kw)]  # type: ignore[arg-type]

    assert ids() == [new, still, old], "newest first"
    assert ids(first=("pulled", "resolving")) == [still, new, old]
    assert ids(first=("pulled", "resolving"), limit=2, offset=1) == [new, old]
    assert ids(first=("pulled", "resolving"), limit=2, offset=3) == []
    assert ids(status=("pulled",), limit=1) == [still]


def test_migration_2_adds_the_cord_tables_to_a_version_1_database(
        open_store: Callable[[], Store], store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as patch:
        patch.setattr(schema, "MIGRATIONS", schema.MIGRATIONS[:1])
        # the andon of a version 1 database: it kept no reads (migration 6) either
        patch.setattr(projection, "project_reads", lambda conn, event: None)
        patch.setattr(projection, "MANUAL_FACTS", ())  # nor problems (migration 7)
        old = open_store()
        old.append(_line().log)
        old.close()
    from sqlalchemy import create_engine

    engine = create_engine(store_url)
    try:
        assert "cords" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()

    new = open_store()

    assert new.schema_version() >= 2
    assert new.cords() == [] and new.count_events() > 0
