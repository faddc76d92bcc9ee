"""``[audit]`` in andon.toml: the thresholds and the cost rates of the waste audit
(``andon.audit``), checked when the project loads (a bad value: ``ConfigError`` naming the key,
exit 2). One door: every reader of these settings goes through ``audit_settings``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from andon.model.errors import ConfigError

CURRENCY_MAX = 8  # "USD", "EUR", "€": a label, not an amount
RATE_MAX = 1e6  # a cost rate past this (per hour, per GB) is a typo, not a price
DAYS_MAX = 3660  # ten years: a window past this reads the whole log anyway


@dataclass(frozen=True)
class AuditSettings:
    """What the audit judges by. Days are whole days; rates are per CPU hour, per GB-month
    stored and per GB transferred, in ``currency``."""

    unused_days: int = 30  # unused_data, fossil_artifact, dead_pipeline: no read/run for this long
    window_days: int = 30  # startup_delay, batch_should_stream, noisy_alert, idle_capacity
    startup_share: float = 0.5  # startup_delay: start-up over work time at or above this
    min_runs: int = 5  # the least runs (or alerts) a per-pipeline judgement needs
    short_run_seconds: float = 60.0  # batch_should_stream: a run's work at most this long ...
    frequent_minutes: float = 15.0  # ... started at most this many minutes after the previous
    precision: float = 0.5  # noisy_alert: the share of true alerts below which a source is noisy
    idle_share: float = 0.1  # idle_capacity: a pool busy less than this share of its slot time
    cpu_hour: float = 0.0
    gb_month: float = 0.0
    gb_transferred: float = 0.0
    currency: str = "USD"


_INTS = {"unused_days": (1, DAYS_MAX), "window_days": (1, DAYS_MAX), "min_runs": (1, 1_000_000)}
_FLOATS = {"startup_share": (0.0, 1000.0), "short_run_seconds": (0.0, 86_400.0),
           "frequent_minutes": (0.0, 10_080.0), "precision": (0.0, 1.0),
           "idle_share": (0.0, 1.0), "cpu_hour": (0.0, RATE_MAX), "gb_month": (0.0, RATE_MAX),
           "gb_transferred": (0.0, RATE_MAX)}
KEYS = tuple(f.name for f in fields(AuditSettings))


def audit_settings(config: Mapping[str, Any], root: Path) -> AuditSettings:
    """``[audit]`` of a loaded andon.toml (``config``) of the project at ``root``, checked;
    the defaults when there is none. Raises ConfigError naming the key and its bounds."""
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
        low, high = _INTS.get(key) or _FLOATS[key]
        whole = key in _INTS
        if isinstance(value, bool) or not isinstance(value, int if whole else (int, float)) \
                or not low <= value <= high:
            raise ConfigError(f"[audit] {key} = {str(value)[:40]!r} must be "
                              f"{'a whole number' if whole else 'a number'} from {low:g} to "
                              f"{high:g}", where=where, hint=f"fix {key} in [audit]")
        values[key] = int(value) if whole else float(value)
    return AuditSettings(**values)
