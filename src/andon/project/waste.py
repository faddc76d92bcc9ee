"""``[audit]`` in andon.toml and the audit's declarations in the definitions: the thresholds and
cost rates of the waste audit (``andon.audit``), the regions of data sets (``region=`` on
``andon.source`` and ``@andon.pipeline``, its outputs) and of pools (``[audit] pool_regions``),
backups (``backup_of=``) and their restore drills (``andon.restore_drill``). Checked when the
project loads (``ConfigError`` naming the key, ``DefinitionError`` naming the file and line;
exit 2); the result is ``Project.audit``. One door: only ``audit_settings`` reads them."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from andon.model.durations import DurationFormatError, parse_duration
from andon.model.errors import ConfigError, DefinitionError
from andon.project.retention import Retention

if TYPE_CHECKING:
    from andon.project.dsl import Declaration

CURRENCY_MAX = 8  # "USD", "EUR", "€": a label, not an amount
RATE_MAX = 1e6  # a cost rate past this (per hour, per GB) is a typo, not a price
DAYS_MAX = 3660  # ten years: a window past this reads the whole log anyway
REGION = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # "eu-west-1", "us_central"
RTO_MAX_S = 30 * 86400.0  # a restore allowed to take a month is no objective


@dataclass(frozen=True)
class AuditSettings:
    """What the audit judges by. Days are whole days; rates are per CPU hour, per GB-month
    stored and per GB transferred, in ``currency``."""

    unused_days: int = 30  # unused_data, fossil_artifact, dead_pipeline: no read/run for this long
    window_days: int = 30  # startup_delay, batch_should_stream, noisy_alert, idle_capacity
    startup_share: float = 0.5  # startup_delay: start-up over work time at or above this ...
    min_startup_seconds: float = 10.0  # ... and at least this much start-up in all (else: noise)
    min_runs: int = 5  # the least runs (or alerts) a per-pipeline judgement needs
    short_run_seconds: float = 60.0  # batch_should_stream: a run's work at most this long ...
    frequent_minutes: float = 15.0  # ... started at most this many minutes after the previous
    unchanged_share: float = 0.5  # batch_should_stream: runs that re-made identical content
    precision: float = 0.5  # noisy_alert: the share of true alerts below which a source is noisy
    idle_share: float = 0.1  # idle_capacity: a pool busy less than this share of its slot time
    cpu_hour: float = 0.0
    gb_month: float = 0.0
    gb_transferred: float = 0.0
    currency: str = "USD"
    drill_days: int = 90  # backup_not_drilled: no successful drill within the RTO for this long
    pool_regions: Mapping[str, str] = field(default_factory=dict)  # pool -> region
    # declared in the definitions, not in [audit]:
    regions: Mapping[str, str] = field(default_factory=dict)  # data set -> region
    backups: Mapping[str, str] = field(default_factory=dict)  # backup data set -> what it backs up
    drills: Mapping[str, tuple[str, float]] = field(default_factory=dict)  # pipeline -> (backup, RTO s)
    # data set -> its keep_last (andon.project.retention, checked there): versioned outputs
    keep_last: Mapping[str, int] = field(default_factory=dict)
    retained: frozenset[str] = frozenset()  # data sets with any retention rule (the sweep's)
    # [project] end: an ended project is judged as of its last partition, not the clock's day
    project_end: date | None = None


_INTS = {"unused_days": (1, DAYS_MAX), "window_days": (1, DAYS_MAX), "min_runs": (1, 1_000_000),
         "drill_days": (1, DAYS_MAX)}
_FLOATS = {"startup_share": (0.0, 1000.0), "min_startup_seconds": (0.0, 31_622_400.0),
           "short_run_seconds": (0.0, 86_400.0),
           "frequent_minutes": (0.0, 10_080.0), "precision": (0.0, 1.0),
           "unchanged_share": (0.0, 1.0),
           "idle_share": (0.0, 1.0), "cpu_hour": (0.0, RATE_MAX), "gb_month": (0.0, RATE_MAX),
           "gb_transferred": (0.0, RATE_MAX)}
DECLARED = ("regions", "backups", "drills", "keep_last", "retained")
KEYS = tuple(f.name for f in fields(AuditSettings) if f.name not in (*DECLARED, "project_end"))


def audit_settings(config: Mapping[str, Any], root: Path,
                   declarations: Sequence[Declaration] = (),
                   end: date | None = None) -> AuditSettings:
    """``[audit]`` of a loaded andon.toml (``config``) of the project at ``root``, and the
    audit's ``declarations`` of its definitions, checked; the defaults when there is none.
    ``end``: the project's checked ``[project] end`` (its last day of partitions), if any.
    Raises ConfigError naming the key and its bounds, DefinitionError naming the declaration."""
    where = str(root / "andon.toml")
    table = config.get("audit", {})
    if not isinstance(table, Mapping):
        raise ConfigError("[audit] must be a table", where=where,
                          hint="write [audit] with keys such as unused_days = 30, cpu_hour = 0.05")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(f"[audit] has no key {unknown[0][:40]!r}", where=where,
                          hint="the keys are " + ", ".join(KEYS))
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key == "currency":
            if not isinstance(value, str) or not 1 <= len(value) <= CURRENCY_MAX \
                    or not value.isprintable():
                raise ConfigError(f"[audit] currency = {str(value)[:40]!r} must be a label of 1 "
                                  f"to {CURRENCY_MAX} characters", where=where,
                                  hint='write currency = "USD"')
            values[key] = value
            continue
        if key == "pool_regions":
            values[key] = _pool_regions(value, config, where)
            continue
        low, high = _INTS.get(key) or _FLOATS[key]
        whole = key in _INTS
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                or not low <= value <= high:
            raise ConfigError(f"[audit] {key} = {str(value)[:40]!r} must be "
                              f"{'a whole number' if whole else 'a number'} from {low:g} to "
                              f"{high:g}", where=where, hint=f"fix {key} in [audit]")
        values[key] = int(value) if whole else float(value)
    # a pool's own region ([pools] name = { slots, region }) unless [audit] pool_regions says
    pools = config.get("pools")
    said = {n: str(p["region"]) for n, p in (pools.items() if isinstance(pools, Mapping) else ())
            if isinstance(p, Mapping) and p.get("region")}
    if said:
        values["pool_regions"] = {**said, **values.get("pool_regions", {})}
    return AuditSettings(**values, **_declared(declarations), project_end=end)


def _pool_regions(value: Any, config: Mapping[str, Any], where: str) -> dict[str, str]:
    pools = config.get("pools", {"default": 0})
    known = sorted(pools) if isinstance(pools, Mapping) else []
    if not isinstance(value, Mapping):
        raise ConfigError("[audit] pool_regions must be a table: pool = region", where=where,
                          hint='write pool_regions = { default = "eu-west-1" }')
    for pool, region in value.items():
        if pool not in known:
            raise ConfigError(f"[audit] pool_regions names {str(pool)[:40]!r}, which is no pool",
                              where=where, hint="the pools are " + ", ".join(known))
        if not isinstance(region, str) or not REGION.fullmatch(region):
            raise ConfigError(f"[audit] pool_regions {pool} = {str(region)[:40]!r} is no region",
                              where=where, hint="a region is 1 to 64 letters, digits, _ . -, "
                              'e.g. "eu-west-1"')
    return dict(value)


def _declared(declarations: Sequence[Declaration]) -> dict[str, Any]:
    """The regions, backups and drills the definitions declare, checked."""
    regions: dict[str, str] = {}
    backups: dict[str, str] = {}
    drills: dict[str, tuple[str, float]] = {}
    made: dict[str, Declaration] = {}
    for d in declarations:
        if d.kind not in ("source", "pipeline"):
            continue
        outputs = [d.name] if d.kind == "source" else [str(o) for o in d.options["outputs"]]
        for out in outputs:
            made[out] = d
        region, backup_of = d.options.get("region", ""), d.options.get("backup_of", "")
        if region:
            if not isinstance(region, str) or not REGION.fullmatch(region):
                raise DefinitionError(f"{d.kind} {d.name!r}: region={str(region)[:40]!r} is no "
                                      "region", where=d.where, hint="a region is 1 to 64 letters, "
                                      'digits, _ . -, e.g. region="eu-west-1"')
            regions |= dict.fromkeys(outputs, region)
        if backup_of:
            backups |= dict.fromkeys(outputs, backup_of)
    for backup, of in backups.items():
        d = made[backup]
        if not isinstance(of, str) or of not in made or of == backup:
            raise DefinitionError(f"{d.kind} {d.name!r}: backup_of={str(of)[:40]!r} names no other "
                                  "data set", where=d.where,
                                  hint="name the source or pipeline output it backs up")
    for d in declarations:
        if d.kind != "drill":
            continue
        backup, rto = d.options["backup"], d.options["rto"]
        if backup not in backups:
            raise DefinitionError(f"restore_drill {d.name!r}: {str(backup)[:40]!r} is no declared "
                                  "backup", where=d.where, hint="declare the backup data set with "
                                  "backup_of=\"...\" and drill that")
        try:
            seconds = parse_duration(rto).total_seconds()
        except (DurationFormatError, TypeError):
            seconds = -1.0
        if not 0 < seconds <= RTO_MAX_S:
            raise DefinitionError(f"restore_drill {d.name!r}: rto={str(rto)[:40]!r} must be a "
                                  "duration of at most 30 days", where=d.where,
                                  hint='write rto="1h"')
        drills[d.name] = (backup, seconds)
    return {"regions": regions, "backups": backups, "drills": drills}


def with_retention(cfg: AuditSettings, retention: Mapping[str, Retention]) -> AuditSettings:
    """``cfg`` with the data sets declared ``keep_last=`` (``retention``: the sweep's checked
    rules, ``SweepPolicy.retention``): the versioned outputs ``fossil_artifact`` judges."""
    return replace(cfg, keep_last={a: r.keep_last for a, r in sorted(retention.items())
                                   if r.keep_last is not None},
                   retained=frozenset(retention))
