"""What the read models say about checks owed: the current version of each partition of the
checked data sets (its data not swept away), and which check verdicts of the log are recorded.

The check runner (``andon.checks.runner``) hears only of versions made while ``andon up`` runs;
its start-up step (``andon.checks.backlog``) asks these two questions to find versions nobody
checked. Functions over a connection; the Store's reader is their door (``Store.read()``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, select

from andon.store.schema import events, partitions, tombstones

IDS_PER_QUERY = 500  # ids per IN (...): far below every backend's parameter limit


@dataclass(frozen=True, slots=True)
class CurrentVersion:
    """The current version of one partition and where its data is."""

    asset: str
    partition: str
    version: int
    location: str


def current_versions(conn: Connection, assets: Sequence[str]) -> list[CurrentVersion]:
    """The current version of every partition of ``assets`` whose data a sweep has not deleted
    (a tombstone for that very version), oldest first by asset and key."""
    if not assets:
        return []
    swept = exists().where(and_(tombstones.c.asset == partitions.c.asset,
                                tombstones.c.partition == partitions.c.partition,
                                tombstones.c.version == partitions.c.version))
    rows = conn.execute(select(partitions.c.asset, partitions.c.partition, partitions.c.version,
                               partitions.c.location)
                        .where(partitions.c.asset.in_(list(assets)), ~swept)
                        .order_by(partitions.c.asset, partitions.c.partition))
    return [CurrentVersion(r.asset, r.partition, r.version, r.location) for r in rows]


def recorded_types(conn: Connection, event_ids: Iterable[str]) -> dict[str, str]:
    """Those of ``event_ids`` in the log, each with its event type (``check.failed``...)."""
    wanted = list(dict.fromkeys(event_ids))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), IDS_PER_QUERY):
        found.update((r.id, r.type) for r in conn.execute(
            select(events.c.id, events.c.type).where(
                events.c.id.in_(wanted[start:start + IDS_PER_QUERY]))))
    return found
