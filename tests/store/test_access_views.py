"""The access read models on every backend (SQLite, PostgreSQL): a log appended without the
engine ends in the rows the engine's rules give (a request decided once; a consumer replaced by
a new registration and gone when dropped)."""

from __future__ import annotations

from andon.events.access import (
    AccessApproved,
    AccessExpired,
    AccessRejected,
    AccessRequested,
    ConsumerSubscribed,
    ConsumerUnsubscribed,
)
from andon.store import access as queries
from andon.store.sql import Store
from tests.conftest import utc

AT = utc(2026, 3, 1, 9)


def _rows(store: Store, **filters: str) -> list[dict[str, object]]:
    with store.read() as conn:
        return queries.request_rows(conn, **filters)  # type: ignore[arg-type]


def test_requests_move_as_the_engine_moves_them(store: Store) -> None:
    asked = [AccessRequested(id=f"access:raw:{n}", at=AT, request_id=f"raw:{n}", asset="raw",
                             requester="ana", reason="study", until="2026-03-10",
                             answers={"purpose": "p", "rows": n}) for n in (1, 2)]
    store.append(asked)
    store.append([AccessApproved(id="a1", at=AT, request_id="raw:1", asset="raw",
                                 requester="ana", by="ops", until="2026-03-10", note="ok"),
                  AccessRejected(id="r1", at=AT, request_id="raw:1", asset="raw",
                                 requester="ana", by="eve", reason="late"),  # decided already
                  AccessExpired(id="e2", at=AT, request_id="raw:2", asset="raw",
                                requester="ana", until="2026-03-10")])  # never approved
    rows = {r["request_id"]: r for r in _rows(store)}
    assert (rows["raw:1"]["status"], rows["raw:1"]["decided_by"]) == ("approved", "ops")
    assert rows["raw:1"]["answers"] == {"purpose": "p", "rows": 1}
    assert rows["raw:2"]["status"] == "requested"
    assert [r["request_id"] for r in _rows(store, status="requested")] == ["raw:2"]
    with store.read() as conn:
        assert queries.request_count(conn, "raw") == 2


def test_consumers_are_registered_replaced_and_dropped(store: Store) -> None:
    store.append([ConsumerSubscribed(id="s1", at=AT, asset="raw", consumer="ana",
                                     until="2026-03-10"),
                  ConsumerSubscribed(id="s2", at=AT, asset="raw", consumer="ana",
                                     until="2026-04-10", request_id="raw:1"),
                  ConsumerSubscribed(id="s3", at=AT, asset="clean", consumer="bo",
                                     until="2026-04-10")])
    assert store.consumers_of(["raw", "clean", "none"]) == {"raw": ["ana"], "clean": ["bo"]}
    with store.read() as conn:
        (row,) = queries.consumer_rows(conn, ["raw"])
    assert (row["until"], row["request_id"]) == ("2026-04-10", "raw:1")
    store.append([ConsumerUnsubscribed(id="u1", at=AT, asset="raw", consumer="ana",
                                       reason="expired")])
    assert store.consumers_of(["raw", "clean"]) == {"clean": ["bo"]}
