"""Pulling and resolving cords from the outside (validated against the read models), and the
queries on the cords: each as an incident with its timeline (``andon.cord.views``), what they
halt and their suspect outputs."""

from __future__ import annotations

from datetime import datetime

from andon.cord.views import CordDetail, Halt, Halted, HaltingCord, Incident, Row, SuspectOutput
from andon.engine.cords import OPEN, CordStatus, cord_id_for
from andon.events import CordPulled, CordResolved
from andon.model.errors import AndonError, Conflict, NotFound
from andon.store.sql import Store


class MissingReason(AndonError):
    """A cord was pulled or resolved without saying why."""

    http_status = 422


def pull_event(store: Store, asset: str, partition: str, reason: str, now: datetime,
               by: str = "", detected_at: datetime | None = None) -> CordPulled:
    """The event pulling a cord on the current version of an existing partition (asset and key
    already validated). Its id ``ASSET:PARTITION:N`` counts the cords ever pulled there."""
    if not reason.strip():
        raise MissingReason("a cord needs a reason", hint='say what is wrong: --reason "..."')
    versions = store.partition_versions(asset, partition)
    current = versions[-1] if versions else None
    if current is None:
        raise NotFound(f"partition {partition} of {asset!r} has not been made or announced",
                       hint="a cord flags data that exists; see `andon status` or "
                            f"GET /api/v1/partitions?asset={asset}")
    there = store.cords(asset=asset, partition=partition)
    for row in there:
        if row["status"] in OPEN:
            raise Conflict(f"{asset} {partition} is already under open cord {row['cord_id']} "
                           f"({row['reason']})",
                           hint=f"resolve it with `andon cord resolve {row['cord_id']}` first")
    cord_id = cord_id_for(asset, partition, len(there) + 1)
    return CordPulled(id=f"cord:{cord_id}", at=now, cord_id=cord_id, asset=asset,
                      partition=partition, version=int(current["version"]), reason=reason.strip(),
                      by=by, detected_at=detected_at)


def resolve_event(store: Store, cord_id: str, note: str, now: datetime, by: str = "",
                  manual_fix: bool = False) -> CordResolved:
    """The event resolving a pulled cord (refused for an unknown cord, or one already resolved)."""
    row = cord_row(store, cord_id)
    if not note.strip():
        raise MissingReason("resolving a cord needs a note", hint='say what was fixed: --note "..."')
    if row["status"] == CordStatus.RESOLVING:
        raise Conflict(f"cord {cord_id} is already resolved; its partition is being re-made",
                       hint="wait for the re-make: if it fails, the cord is pulled again and can "
                            "be resolved again")
    if row["status"] not in OPEN:
        raise Conflict(f"cord {cord_id} was already resolved ({row['status']} at "
                       f"{row['remade_at'] or row['resolved_at']})",
                       hint=f"pull a new cord with `andon cord pull {row['asset']} "
                            f"{row['partition']}` if the data is bad again")
    return CordResolved(id=f"resolved:{cord_id}:{row['resolutions'] + 1}", at=now,
                        cord_id=cord_id, note=note.strip(), by=by, manual_fix=manual_fix)


def cord_row(store: Store, cord_id: str) -> Row:
    """The read-model row of one cord; NotFound (with how to list them) for an unknown id."""
    rows = store.cords(cord_id=cord_id)
    if not rows:
        raise NotFound(f"no cord with id {cord_id!r}",
                       hint="list cords with `andon cord list --all` (ids look like "
                            "ASSET:PARTITION:N)")
    return rows[0]


def cords(store: Store, everything: bool = False, *, open_first: bool = False,
          limit: int | None = None, offset: int = 0) -> list[Incident]:
    """Open cords (every cord with ``everything``), newest first, as incidents; with
    ``open_first`` the open ones before the others; ``limit`` of them from ``offset``."""
    rows = store.cords(status=() if everything else OPEN, first=OPEN if open_first else (),
                       limit=limit, offset=offset)
    return [Incident.of(r) for r in rows]


def outputs(store: Store, cord_id: str) -> list[SuspectOutput]:
    """The suspect outputs of a cord, by asset, partition and version (none: an unknown id)."""
    return [SuspectOutput.of(r) for r in store.cord_outputs(cord_id)]


def cord(store: Store, cord_id: str) -> CordDetail:
    """One cord as an incident, with what it halts now and its suspect outputs."""
    return CordDetail(Incident.of(cord_row(store, cord_id)),
                      tuple(Halt(h["pipeline"], h["partition"]) for h in store.halts(cord_id)),
                      tuple(outputs(store, cord_id)))


def halted(store: Store) -> list[Halted]:
    """Every halted (pipeline, partition) with the cords that halt it and why."""
    out: dict[tuple[str, str], list[HaltingCord]] = {}
    for h in store.halts():
        out.setdefault((h["pipeline"], h["partition"]), []).append(HaltingCord.of(h))
    return [Halted(pipeline, partition, tuple(by)) for (pipeline, partition), by in out.items()]
