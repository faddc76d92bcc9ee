"""How many Dask workers andon's queue needs: the target of an adaptive local cluster
(``dask_adaptive = {min = 0, max = N}``).

The runner hands over, after each commit, what its state and the planner's forecast say
(``demand_of``, on the runner's thread: a snapshot, no reference to the live state); the cluster's
``Adaptive`` asks ``workers_needed`` every interval with the time now, so work the forecast says
starts within ``HORIZON`` seconds gets its worker just in time, and nothing ready nor coming
means zero workers. Each worker holds ``share`` slots of every pool (``pool_shares``); a pool
needs ``ceil(slots wanted / share)`` workers, capped at what its capacity can use; the cluster
needs the most any pool needs. No ``distributed`` here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from andon.model.status import RunStatus

if TYPE_CHECKING:
    from andon.engine.state import EngineState
    from andon.planner.forecast import Forecast

HORIZON = 120.0  # seconds ahead: a worker takes a few seconds to start, a run may start early
LOOK = 3600.0  # deliverables predicted to start within this long have their paths walked


@dataclass(frozen=True)
class Demand:
    """Slots wanted per pool now (queued and running runs) and the work coming:
    ``(predicted start, pool, slots)``, epoch seconds."""

    now: Mapping[str, int] = field(default_factory=dict)
    coming: tuple[tuple[float, str, int], ...] = ()


def demand_of(state: EngineState, forecast: Forecast | None,
              pools: Mapping[str, tuple[str, int]]) -> Demand:
    """What ``state``'s queue and ``forecast`` ask of the cluster (``pools``: pipeline ->
    (pool, slots)). A queued run waiting for its retry back-off counts from its ``not_before``;
    the forecast's runs still waiting for their inputs count from their predicted start."""
    now: dict[str, int] = {}
    coming: list[tuple[float, str, int]] = []
    seen: set[tuple[str, str]] = set()
    for run_id in state.active.values():
        run = state.runs.get(run_id)
        if run is None or run.status not in (RunStatus.QUEUED, RunStatus.RUNNING):
            continue
        seen.add((run.pipeline, run.partition))
        if run.status is RunStatus.QUEUED and run.not_before is not None:
            coming.append((run.not_before.timestamp(), run.pool, run.slots))
        else:
            now[run.pool] = now.get(run.pool, 0) + run.slots
    if forecast is not None:
        for d in forecast.deliverables:
            if (d.delivered or d.predicted_start is None
                    or d.predicted_start > forecast.now + LOOK):
                continue
            for step in d.critical_path:  # upstream first; the deliverable itself last
                key = (step.name, step.partition)
                if (step.kind != "run" or step.state != "waiting" or step.start is None
                        or key in seen or step.name not in pools):
                    continue
                seen.add(key)
                pool, slots = pools[step.name]
                coming.append((step.start, pool, slots))
    return Demand(now, tuple(sorted(coming)))


def pool_shares(capacities: Mapping[str, int], workers: int) -> dict[str, int]:
    """The slots of each pool one worker of a local cluster declares: the capacity spread over
    ``workers`` (rounded up), so the cluster can hold every pool whole."""
    return {pool: max(1, math.ceil(cap / max(workers, 1))) for pool, cap in capacities.items()}


def workers_needed(demand: Demand, shares: Mapping[str, int], capacities: Mapping[str, int],
                   at: float, horizon: float = HORIZON) -> int:
    """Workers for ``demand`` at epoch ``at``: per pool, the slots wanted now and starting
    within ``horizon``, at most the pool's capacity, over the slots one worker holds."""
    wanted = dict(demand.now)
    for start, pool, slots in demand.coming:
        if start > at + horizon:
            break  # sorted by start
        wanted[pool] = wanted.get(pool, 0) + slots
    need = 0
    for pool, slots in wanted.items():
        share = shares.get(pool)
        if share is None or slots <= 0:
            continue  # a pool no worker of this cluster holds: adding workers cannot help
        need = max(need, math.ceil(min(slots, capacities.get(pool, slots)) / share))
    return need
