"""Engine-state snapshots in the store (the ``snapshots`` table, migration 12).

A snapshot is the rows of one ``seq`` (the last event of the log the state holds): the ``state``
row (the engine state in memory and the planner's summaries) and one ``day:YYYY-MM-DD`` row per
settled day the state let go of (``andon.engine.archive``). All rows of a snapshot are written in
one transaction, so a process killed while writing one leaves either all of it or none. Each row
carries the SHA-256 of its body and is checked on reading; a snapshot with a row missing or
damaged is not used (the caller falls back to an older one, or replays the log). The days a
snapshot still lets go of and a newer one did not change are copied forward inside the database,
never through memory. The newest two snapshots are kept, older ones deleted.

A cache of the log, never a projection of it: every row is derivable again, and the table is
safe to empty. Bodies are bytes (zlib-compressed JSON, made by ``andon.live.snapshots``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from sqlalchemy import and_, delete, func, insert, literal, select

from andon.store.schema import snapshots
from andon.store.sql import Store

STATE = "state"
DAY = "day:"


@dataclass(frozen=True, slots=True)
class Row:
    """One row read back: its snapshot's ``seq``, its ``part`` and its checked ``body``."""

    seq: int
    part: str
    body: bytes


def sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def write(store: Store, seq: int, fmt: int, digest: str, state: bytes,
          days: Mapping[str, bytes], carried: Iterable[str], from_seq: int, at: str) -> None:
    """Write the snapshot of ``seq``: its ``state`` body, the ``days`` let go of since the last
    one (day -> body) and, copied from the snapshot of ``from_seq``, the rows of the ``carried``
    days it let go of before. One transaction; older snapshots than ``from_seq`` are deleted."""
    t = snapshots
    bodies = {STATE: state, **{DAY + day: body for day, body in days.items()}}
    # the write door of the store (the write lock of every process); a store module's own use
    with store._write() as conn:
        conn.execute(delete(t).where(t.c.seq == seq))  # a retry of the same seq replaces it
        conn.execute(insert(t), [
            {"seq": seq, "part": part, "body": body, "format": fmt, "digest": digest,
             "sha256": sha256(body), "at": at} for part, body in bodies.items()])
        parts = [DAY + d for d in carried if d not in days]
        for i in range(0, len(parts), 500):
            conn.execute(insert(t).from_select(
                ["seq", "part", "format", "digest", "body", "sha256", "at"],
                select(literal(seq), t.c.part, t.c.format, t.c.digest, t.c.body, t.c.sha256,
                       literal(at)).where(and_(t.c.seq == from_seq,
                                               t.c.part.in_(parts[i:i + 500])))))
        conn.execute(delete(t).where(t.c.seq < min(from_seq or seq, seq)))


def states(store: Store, fmt: int, digest: str) -> Iterator[Row]:
    """The ``state`` rows of the snapshots made with this format and digest, newest first; a
    row whose body does not match its SHA-256 is left out."""
    t = snapshots
    q = select(t.c.seq, t.c.body, t.c.sha256).where(and_(
        t.c.part == STATE, t.c.format == fmt, t.c.digest == digest)).order_by(t.c.seq.desc())
    with store.read() as conn:
        found = list(conn.execute(q))
    for seq, body, digest_ in found:
        body = bytes(body)
        if sha256(body) == digest_:
            yield Row(int(seq), STATE, body)


def days(store: Store, seq: int, wanted: Iterable[str]) -> dict[str, bytes]:
    """The bodies of the ``wanted`` days of the snapshot of ``seq`` (day -> body); a day whose
    row is missing or damaged is left out (the caller tells)."""
    t = snapshots
    parts = [DAY + d for d in wanted]
    out: dict[str, bytes] = {}
    with store.read() as conn:
        for i in range(0, len(parts), 500):
            q = select(t.c.part, t.c.body, t.c.sha256).where(and_(
                t.c.seq == seq, t.c.part.in_(parts[i:i + 500])))
            for part, body, digest_ in conn.execute(q):
                body = bytes(body)
                if sha256(body) == digest_:
                    out[part[len(DAY):]] = body
    return out


def stored_days(store: Store, seq: int) -> set[str]:
    """The days the snapshot of ``seq`` holds intact rows for (each body read and checked
    against its SHA-256, a few at a time)."""
    t = snapshots
    with store.read() as conn:
        parts = list(conn.execute(select(t.c.part).where(and_(
            t.c.seq == seq, t.c.part.like(DAY + "%")))).scalars())
    out: set[str] = set()
    for i in range(0, len(parts), 50):
        out.update(days(store, seq, [p[len(DAY):] for p in parts[i:i + 50]]))
    return out


def count(store: Store) -> dict[int, int]:
    """Rows per snapshot seq (for tests and ``andon`` diagnostics)."""
    t = snapshots
    with store.read() as conn:
        return {int(s): int(n) for s, n in conn.execute(
            select(t.c.seq, func.count()).group_by(t.c.seq))}
