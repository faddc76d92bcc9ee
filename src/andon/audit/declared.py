"""The kinds of waste that need a declaration: ``backup_not_drilled`` (``backup_of=`` and
``andon.restore_drill(...)``) and ``cross_region`` (``region=`` on data sets, ``[audit]
pool_regions``). Both judge the store's read models (``andon.store.audit``) against
``AuditSettings`` (``andon.project.waste``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from andon.events.codec import format_time, parse_time
from andon.model.graph import Graph
from andon.project.waste import AuditSettings
from andon.store import audit as facts

GB = 1e9
Add = Callable[..., None]  # _Audit.add: kind, object, evidence, owner, action, cost, url, **numbers


def _url(asset: str) -> str:
    return f"/assets/{quote(asset, safe='')}"


def _took(r: facts.RunFacts) -> float:
    """A drill's time: from its start to its end (start-up and work when it has no end)."""
    if r.started_at and r.ended_at:
        return (parse_time(r.ended_at) - parse_time(r.started_at)).total_seconds()
    return (r.startup_seconds or 0.0) + (r.work_seconds or 0.0)


def backups(conn: Any, cfg: AuditSettings, graph: Graph, now: datetime, add: Add,
            owner: Callable[[str], str], sizes: dict[str, int]) -> None:
    """A declared backup with no successful restore drill within its RTO in ``drill_days``."""
    if not cfg.backups:
        return
    since = format_time(now - timedelta(days=cfg.drill_days))
    ran = facts.drill_runs(conn, since, sorted(cfg.drills))
    for backup, of in sorted(cfg.backups.items()):
        drills = {p: rto for p, (b, rto) in cfg.drills.items() if b == backup}
        done = [r for r in ran if r.pipeline in drills]
        within = [r for r in done if _took(r) <= drills[r.pipeline]]
        if within:
            continue
        if not drills:
            why = "no restore drill declared (andon.restore_drill)"
        elif not done:
            why = f"no successful drill ({', '.join(sorted(drills))}) in {cfg.drill_days} days"
        else:
            last = max(done, key=lambda r: r.started_at)
            why = (f"the last drill ({last.pipeline}, {last.started_at[:10]}) took "
                   f"{_took(last):.0f} s, over its RTO of {drills[last.pipeline]:.0f} s")
        size = sizes.get(backup, 0)
        add("backup_not_drilled", backup, f"backup of {of}: {why}", owner(backup),
            "run its restore drill and keep it within the RTO (andon run DRILL), or declare one",
            size / GB * cfg.gb_month, _url(backup), backup_of=of, drills=sorted(drills),
            drill_runs=len(done), backup_bytes=size)


def regions(conn: Any, cfg: AuditSettings, since: str, add: Add,
            owner: Callable[[str], str]) -> None:
    """Runs in a pool of one region reading data declared in another, with the bytes read."""
    if not cfg.pool_regions or not cfg.regions:
        return
    moved: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    rows = facts.run_inputs(conn, since, sorted(cfg.pool_regions))
    sizes = facts.partition_sizes(conn, sorted(cfg.regions))
    for pipeline, pool, inputs in rows:
        here = cfg.pool_regions[pool]
        for asset, key in inputs:
            there = cfg.regions.get(asset)
            if there and there != here:
                entry = moved[(pipeline, asset)]
                entry[0] += 1
                entry[1] += sizes.get((asset, key), 0)
    pool_of = {p: pool for p, pool, _ in rows}
    for (pipeline, asset), (count, size) in sorted(moved.items()):
        here, there = cfg.pool_regions[pool_of[pipeline]], cfg.regions[asset]
        add("cross_region", f"{pipeline} reads {asset}",
            f"{count} runs in pool {pool_of[pipeline]} ({here}) read {asset} ({there}): "
            f"{size / GB:.3f} GB moved", owner(asset),
            f"run {pipeline} in a pool in {there}, or keep a copy of {asset} in {here}",
            size / GB * cfg.gb_transferred, _url(asset), pipeline=pipeline, asset=asset,
            runs=count, bytes_read=size, pool_region=here, data_region=there)
