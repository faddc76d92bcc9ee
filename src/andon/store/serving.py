"""What the store keeps of a cord that a promotion settled (``cord.serving_moved``): the
partitions it let go are no longer listed as halted by it. And the one question the automatic
promoter asks: is a version's artifact under an open cord? Functions over a connection."""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from andon.engine.cords import OPEN
from andon.events.serving import CordServingMoved
from andon.store.schema import cords, halts


def project_serving_moved(conn: Connection, event: CordServingMoved) -> None:
    """Drop the halts the cord let go of (the cord itself stays as it is)."""
    for p in event.released:
        conn.execute(delete(halts).where(halts.c.cord_id == event.cord_id,
                                         halts.c.pipeline == p.pipeline,
                                         halts.c.partition == p.partition))


def under_open_cord(conn: Connection, parts: list[tuple[str, str]]) -> bool:
    """Whether any of these (data set, partition) is under an open andon cord."""
    for asset, partition in parts:
        q = select(cords.c.cord_id).where(cords.c.asset == asset, cords.c.partition == partition,
                                          cords.c.status.in_(OPEN)).limit(1)
        if conn.execute(q).first() is not None:
            return True
    return False
