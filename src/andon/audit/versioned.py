"""``fossil_artifact`` beyond model versions: the versioned outputs, data sets declared
``keep_last=`` (``andon.project.retention``; ``AuditSettings.keep_last``), whose older versions
still hold files of their own that no run read in ``unused_days``.

A version is a fossil when it is not the current version of its partition, is past the data
set's newest ``keep_last`` versions (counted as ``andon sweep`` counts them: across partitions,
newest made first — within them it is the retention the project agreed, not waste), holds a
location no kept or current version uses (deleting it frees bytes; a version overwritten in
place holds nothing of its own), has no tombstone (the sweep removed it already), was made
before the window and no run read it since (``runs.inputs`` name the version read)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from andon.project.waste import AuditSettings
from andon.store.lifecycle import (
    StoredVersion,
    current_versions,
    partitions_read_since,
    tombstone_rows,
    versions,
)

GB = 1e9
Add = Callable[..., None]  # _Audit.add: kind, object, evidence, owner, action, cost, url, **numbers


def fossils(stored: list[StoredVersion], keep_last: int, current: dict[tuple[str, str], int],
            gone: set[tuple[str, str, int]], read: dict[tuple[str, str, int], str],
            since: str) -> list[StoredVersion]:
    """The fossil versions of one data set's ``stored`` versions (see the module)."""
    live = [v for v in stored if (v.asset, v.partition, v.version) not in gone]
    newest_first = sorted(live, key=lambda v: (v.at, v.partition, v.version), reverse=True)
    beyond = [v for v in newest_first[keep_last:]
              if v.version != current.get((v.asset, v.partition))]
    leaving = {id(v) for v in beyond}
    kept = {v.location for v in newest_first if id(v) not in leaving}
    return [v for v in beyond if v.location not in kept and v.at < since
            and (v.asset, v.partition, v.version) not in read]


def versioned(conn: Any, cfg: AuditSettings, since: str, add: Add,
              owner: Callable[[str], str], storage: Callable[[int], float]) -> None:
    """A ``fossil_artifact`` finding per ``keep_last`` data set holding fossil versions, with
    their count, bytes and storage cost (``since``: the start of the ``unused_days`` window)."""
    if not cfg.keep_last:
        return
    assets = sorted(cfg.keep_last)
    by_asset: dict[str, list[StoredVersion]] = defaultdict(list)
    for v in versions(conn, assets):
        by_asset[v.asset].append(v)
    if not by_asset:
        return
    current = current_versions(conn, list(by_asset))
    gone = {(t.asset, t.partition, t.version) for t in tombstone_rows(conn, list(by_asset))}
    read = partitions_read_since(conn, since)
    for asset, stored in sorted(by_asset.items()):
        keep = cfg.keep_last[asset]
        old = fossils(stored, keep, current, gone, read, since)
        if not old:
            continue
        size = sum(v.size_bytes for v in old)
        add("fossil_artifact", asset,
            f"{len(old)} of {len(stored)} versions past its keep_last {keep}, in files of their "
            f"own, not read by any run since {since[:10]}; {size / GB:.3f} GB",
            owner(asset), "delete them: andon sweep --apply (or let it run: [sweep] every)",
            storage(size), f"/assets/{quote(asset, safe='')}", versions=len(stored),
            fossil_versions=len(old), fossil_bytes=size, keep_last=keep)
