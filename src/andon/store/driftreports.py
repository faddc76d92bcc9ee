"""The drift reports kept per partition and reference (``drift_reports``, migration 10): a
cache that ``andon.live.drift`` fills as it computes reports (and ``andon.live.driftkeeper`` as
runs write profiles), never a projection of the log: every row is derivable again from the
profile files, and the table is safe to empty.

A row is keyed by (asset, partition, reference digest) and holds the run whose profile it was
computed from; a row of another run (the partition was written again) is stale and replaced.
Each row carries the SHA-256 of its key and body, checked on reading: a row edited by hand or
half-written is not returned (the caller computes the report again). Functions over a
connection; the Store's reader and ``Store.keep_drift_reports`` are their doors."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, and_, delete, insert, select

from andon.store.schema import drift_reports

_CHUNK = 500  # partitions per IN (...) list


@dataclass(frozen=True, slots=True)
class KeptReport:
    """One kept report: its key, the run it was computed from, whether it holds p-values
    (``tested``), its JSON ``body`` (read by ``andon.live.driftcache``) and when it was made."""

    asset: str
    partition: str
    reference: str
    run_id: str
    tested: bool
    body: str
    at: str

    @property
    def digest(self) -> str:
        return digest_of(self.asset, self.partition, self.reference, self.run_id, self.tested,
                         self.body)


def digest_of(asset: str, partition: str, reference: str, run_id: str, tested: bool,
              body: str) -> str:
    """The SHA-256 a row carries (the fields joined by NUL, which none of them holds)."""
    text = "\0".join((asset, partition, reference, run_id, "1" if tested else "0", body))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def kept(conn: Connection, asset: str, partitions: Sequence[str]) -> dict[tuple[str, str],
                                                                          KeptReport]:
    """The kept reports of ``partitions`` of ``asset`` by (partition, reference digest); rows
    whose digest does not match their content are left out."""
    t = drift_reports
    out: dict[tuple[str, str], KeptReport] = {}
    keys = list(dict.fromkeys(partitions))
    for i in range(0, len(keys), _CHUNK):
        q = select(t.c.partition, t.c.reference, t.c.run_id, t.c.tested, t.c.body, t.c.digest,
                   t.c.at).where(and_(t.c.asset == asset, t.c.partition.in_(keys[i:i + _CHUNK])))
        for r in conn.execute(q):
            row = KeptReport(asset, r.partition, r.reference, r.run_id, bool(r.tested), r.body,
                             r.at)
            if row.digest == r.digest:
                out[(r.partition, r.reference)] = row
    return out


def keep(conn: Connection, rows: Sequence[KeptReport]) -> int:
    """Write ``rows``, each replacing the row of its key, and drop the rows of their partitions
    that another run computed (stale: the partition was written again). Run inside the store's
    write transaction (its lock serializes concurrent keepers)."""
    t = drift_reports
    rows = list({(r.asset, r.partition, r.reference): r for r in rows}.values())
    for row in rows:
        conn.execute(delete(t).where(and_(
            t.c.asset == row.asset, t.c.partition == row.partition,
            (t.c.reference == row.reference) | (t.c.run_id != row.run_id))))
    if rows:
        conn.execute(insert(t), [{"asset": r.asset, "partition": r.partition,
                                  "reference": r.reference, "run_id": r.run_id,
                                  "tested": int(r.tested), "body": r.body, "digest": r.digest,
                                  "at": r.at} for r in rows])
    return len(rows)
