"""Which partitions of a data set have a profile, and where it is: the current version of each
partition (the ``partitions`` read model) and what its run's ``run.succeeded`` recorded of it
(``profiles``, ``andon.executors.profiling``). No table of its own: the log is the one record,
read by event id (``ended:RUN_ID``), as for a model version's metrics. Functions over a
connection; the Store's reader is their door (``Store.read()``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, select

from andon.engine.runs import run_event_id
from andon.model.views import View
from andon.store.schema import events, partitions

_CHUNK = 500  # ids per IN (...) list


@dataclass(frozen=True, slots=True, eq=False)
class StoredProfile(View):
    """The profile of the current version of one partition: its run, when it was made, the
    profile file (relative to the project) and how many rows and columns it describes."""

    partition: str
    version: int
    run_id: str
    at: str
    path: str
    rows: int
    columns: int


def profiles_of(conn: Connection, asset: str, since: str | None = None,
                until: str | None = None, keys: list[str] | None = None) -> list[StoredProfile]:
    """The profiled current partitions of ``asset`` by key (from ``since`` to ``until``,
    inclusive, or only ``keys``); a partition whose run recorded no profile is left out."""
    t = partitions
    q = select(t.c.partition, t.c.version, t.c.run_id, t.c.at).where(t.c.asset == asset)
    if since is not None:
        q = q.where(t.c.partition >= since)
    if until is not None:
        q = q.where(t.c.partition <= until)
    if keys is not None:
        q = q.where(t.c.partition.in_(keys))
    rows = conn.execute(q.order_by(t.c.partition)).all()
    recorded = _recorded(conn, asset, [r.run_id for r in rows if r.run_id])
    out = []
    for r in rows:
        found = recorded.get(r.run_id)
        if found is not None:
            out.append(StoredProfile(r.partition, r.version, r.run_id, r.at, *found))
    return out


def _recorded(conn: Connection, asset: str, run_ids: list[str]
              ) -> dict[str, tuple[str, int, int]]:
    ids = {run_event_id("ended", r): r for r in run_ids}
    keys = list(ids)
    found: dict[str, tuple[str, int, int]] = {}
    for i in range(0, len(keys), _CHUNK):
        for row in conn.execute(select(events.c.id, events.c.payload).where(
                events.c.id.in_(keys[i:i + _CHUNK]))):
            entry = (json.loads(row.payload).get("profiles") or {}).get(asset)
            if isinstance(entry, dict) and isinstance(entry.get("path"), str):
                found[ids[row.id]] = (entry["path"], int(entry.get("rows") or 0),
                                      int(entry.get("columns") or 0))
    return found
