"""Keep the access read models (``access_requests``, ``consumers``) in step with the log, inside
the append transaction; and answer the queries on them.

They record what the engine decided (``andon.engine.access``): a request moves only as the
engine's table (``RequestStatus.may_become``) lets it, applied to the stored row, so a log
appended without the engine (the store's tests do) ends in the same rows."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from andon.engine.access import RequestStatus
from andon.events import Event
from andon.events.access import (
    AccessApproved,
    AccessExpired,
    AccessRejected,
    AccessRequested,
    ConsumerSubscribed,
    ConsumerUnsubscribed,
)
from andon.events.codec import format_time
from andon.store.schema import access_requests, consumers

MAX_LISTED = 1000  # requests one query answers


def project_access(conn: Connection, event: Event, seq: int) -> None:
    """Update the access read models for one newly stored access event."""
    t = access_requests
    if isinstance(event, AccessRequested):
        if conn.execute(select(t.c.seq).where(t.c.request_id == event.request_id)).first():
            return  # asked for already (the engine ignores it too)
        conn.execute(insert(t).values(
            request_id=event.request_id, asset=event.asset, requester=event.requester,
            reason=event.reason, until=event.until, answers=json.dumps(event.answers),
            contact=event.contact, status=RequestStatus.REQUESTED.value,
            requested_at=format_time(event.at), seq=seq))
    elif isinstance(event, (AccessApproved, AccessRejected, AccessExpired)):
        row = conn.execute(select(t.c.status).where(t.c.request_id == event.request_id)).first()
        to = (RequestStatus.APPROVED if isinstance(event, AccessApproved) else
              RequestStatus.REJECTED if isinstance(event, AccessRejected) else
              RequestStatus.EXPIRED)
        if row is None or not RequestStatus(row.status).may_become(to):
            return
        values: dict[str, Any] = {"status": to.value}
        if isinstance(event, AccessExpired):
            values["expired_at"] = format_time(event.at)
        else:
            values.update(decided_at=format_time(event.at), decided_by=event.by,
                          decision_note=event.note if isinstance(event, AccessApproved)
                          else event.reason)
        if isinstance(event, AccessApproved):
            values["until"] = event.until
        conn.execute(update(t).where(t.c.request_id == event.request_id).values(**values))
    elif isinstance(event, ConsumerSubscribed):
        c = consumers
        conn.execute(delete(c).where(c.c.asset == event.asset, c.c.consumer == event.consumer))
        conn.execute(insert(c).values(
            asset=event.asset, consumer=event.consumer, until=event.until,
            request_id=event.request_id, subscribed_at=format_time(event.at),
            subscribed_by=event.by, seq=seq))
    elif isinstance(event, ConsumerUnsubscribed):
        c = consumers
        conn.execute(delete(c).where(c.c.asset == event.asset, c.c.consumer == event.consumer))


# -- queries -------------------------------------------------------------------------------------

def request_rows(conn: Connection, request_id: str | None = None, asset: str | None = None,
                 status: str | None = None, limit: int = MAX_LISTED) -> list[dict[str, Any]]:
    """Access requests, newest first (one, of one data set, of one status)."""
    t = access_requests
    q = select(t).order_by(t.c.seq.desc()).limit(limit)
    if request_id is not None:
        q = q.where(t.c.request_id == request_id)
    if asset is not None:
        q = q.where(t.c.asset == asset)
    if status is not None:
        q = q.where(t.c.status == status)
    out = []
    for row in conn.execute(q):
        data = dict(row._mapping)
        data["answers"] = json.loads(data["answers"] or "{}")
        data.pop("seq")
        out.append(data)
    return out


def request_count(conn: Connection, asset: str) -> int:
    """How many requests were ever asked for on ``asset`` (the next one's number is one more)."""
    t = access_requests
    return len(conn.execute(select(t.c.request_id).where(t.c.asset == asset)).all())


def consumer_rows(conn: Connection, assets: list[str] | None = None) -> list[dict[str, Any]]:
    """Registered consumers (of ``assets``; None: of every data set), by data set and name."""
    c = consumers
    q = select(c.c.asset, c.c.consumer, c.c.until, c.c.request_id, c.c.subscribed_at,
               c.c.subscribed_by).order_by(c.c.asset, c.c.consumer)
    if assets is not None:
        q = q.where(c.c.asset.in_(assets))
    return [dict(r._mapping) for r in conn.execute(q)]
