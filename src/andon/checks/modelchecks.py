"""Checks on a model: ``andon.check("churn")(andon.checks.performance("auc", min=0.7))`` or
``andon.check("churn")(andon.checks.drift())``, or a function of your own taking a
``ModelCheckContext``.

A check on a model judges the version that serves, each time something is measured about it:
a partition's realised performance (a run of the model's ``andon.performance`` pipeline) or a
partition's drift (a profiled data set the model trained on, against the version's training
reference). A check that does not apply to what was measured (a performance rule when drift
was measured) returns None and nothing is recorded. A failing ``blocking`` check pulls the
andon cord on the serving version (its artifact's partition): the pipelines that score with it
halt, and a rollback, or a new version promoted, lets them go on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from andon.checks.context import CheckResult

BANDS = ("green", "amber", "red")  # drift bands, in order of alarm (andon.drift.measures)


class ColumnDriftLike(Protocol):
    """One column's drift (``andon.live.drift.ColumnDrift``)."""

    @property
    def name(self) -> str: ...
    @property
    def psi(self) -> float: ...
    @property
    def band(self) -> str: ...


class DriftLike(Protocol):
    """A drift report of one partition against a reference (``andon.live.drift``)."""

    @property
    def columns(self) -> Sequence[ColumnDriftLike]: ...


@dataclass(frozen=True)
class ModelCheckContext:
    """What a check on ``model`` judges: ``version`` (the version serving) as measured on
    ``partition`` of ``measured`` (the performance pipeline, or the profiled data set):
    ``metrics``, the realised metrics of that partition (empty when drift was measured);
    ``drift``, the drift report of that partition against the version's training reference
    (None when performance was measured); ``now``, when the check runs."""

    model: str
    version: int
    measured: str
    partition: str
    now: datetime
    metrics: Mapping[str, float] = field(default_factory=dict)
    drift: DriftLike | None = None


ModelCheckFn = Callable[[ModelCheckContext], Any]


def _named(name: str, fn: Callable[[ModelCheckContext], CheckResult | None]) -> ModelCheckFn:
    fn.__name__ = fn.__qualname__ = name
    return fn


def performance(metric: str, min: float | None = None, max: float | None = None) -> ModelCheckFn:
    """Passes while the realised ``metric`` of each new partition is within ``[min, max]``
    (either may be left open); judged only when a partition's performance is measured."""
    if min is None and max is None:
        raise ValueError(f"performance({metric!r}) needs min= or max= (e.g. min=0.7)")
    for bound in (min, max):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))
                                  or not math.isfinite(bound)):
            raise ValueError(f"performance({metric!r}): {bound!r} is not a finite number")

    def judge(ctx: ModelCheckContext) -> CheckResult | None:
        value = ctx.metrics.get(metric)
        if value is None:
            return None
        low_ok = min is None or value >= min
        high_ok = max is None or value <= max
        bounds = f"[{'' if min is None else min}, {'' if max is None else max}]"
        verdict = "" if low_ok and high_ok else f", outside {bounds}"
        return CheckResult(low_ok and high_ok, {metric: value},
                           f"{metric} {value:.4g} on {ctx.measured} {ctx.partition} "
                           f"(version {ctx.version}){verdict}")

    return _named(f"performance_{metric}", judge)


def drift(max_band: str = "amber", columns: Sequence[str] | None = None) -> ModelCheckFn:
    """Passes while no column (of ``columns``; None: every profiled one) of a new partition
    drifted past ``max_band`` ("green" or "amber": the default lets amber pass and fails on
    red, PSI >= 0.25) against the serving version's training reference; judged only when a
    partition's drift is measured."""
    if max_band not in BANDS[:2]:
        raise ValueError(f"drift(max_band={max_band!r}): choose 'green' or 'amber' (red always "
                         "fails)")
    limit = BANDS.index(max_band)
    wanted = None if columns is None else set(columns)

    def judge(ctx: ModelCheckContext) -> CheckResult | None:
        if ctx.drift is None:
            return None
        cols = [c for c in ctx.drift.columns if wanted is None or c.name in wanted]
        bad = sorted((c for c in cols if BANDS.index(c.band) > limit), key=lambda c: -c.psi)
        numbers = {f"psi.{c.name}": c.psi for c in cols}
        if not bad:
            return CheckResult(True, numbers, f"no drift past {max_band} in {len(cols)} column(s) "
                               f"of {ctx.measured} {ctx.partition}")
        shown = ", ".join(f"{c.name} PSI {c.psi:.2f} ({c.band})" for c in bad[:5])
        return CheckResult(False, numbers,
                           f"{ctx.measured} {ctx.partition} drifted from the training data of "
                           f"version {ctx.version}: {shown}"
                           + (f" and {len(bad) - 5} more" if len(bad) > 5 else ""))

    return _named("drift", judge)
