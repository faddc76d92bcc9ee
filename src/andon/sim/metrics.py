"""Metrics of a simulation, computed from the trace and the scenario alone (DESIGN.md section 4).

The same function serves the simulator's report and the trace checker, so a metric can always be
recomputed from a written trace.
"""

from __future__ import annotations

import statistics
from datetime import datetime
from typing import Any

from andon.events.codec import parse_time
from andon.model.status import RunStatus
from andon.sim.scenario import Scenario

Version = tuple[str, str, int]


def tainted_runs(trace: list[dict[str, Any]]) -> tuple[set[Version], list[dict[str, Any]]]:
    """(bad partition versions, runs that read one). A partition named by an incident is bad in
    every version made before its resolution; whatever a run makes from bad input is bad too."""
    incidents = [r for r in trace if r["type"] == "incident"]
    bad: set[Version] = set()
    made: list[tuple[datetime, str, dict[str, Any]]] = []
    for r in trace:
        if r["type"] == "arrival":
            made.append((parse_time(r["at"]), "arrival", r))
        elif r["type"] == "run" and r["status"] == RunStatus.SUCCEEDED:
            made.append((parse_time(r["end"]), "run", r))
    made.sort(key=lambda x: x[0])
    tainted = []
    for at, kind, r in made:
        outs = ([(r["asset"], r["partition"], r.get("version", 1))] if kind == "arrival" else
                [(o["asset"], o["partition"], o["version"]) for o in r.get("outputs", [])])
        reads_bad = kind == "run" and any(
            (i["asset"], i["partition"], i.get("version", 0)) in bad for i in r["inputs"])
        if reads_bad:
            tainted.append(r)
        for asset, part, version in outs:
            named = any(i["asset"] == asset and i["partition"] == part and
                        at < parse_time(i["resolved"]) for i in incidents)
            if reads_bad or named:
                bad.add((asset, part, version))
    return bad, tainted


def _quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(int(q * len(ordered)), len(ordered) - 1)]


def compute_metrics(scenario: Scenario, trace: list[dict[str, Any]], horizon: datetime,
                    replan_ms: list[float] | None = None) -> dict[str, Any]:
    graph = scenario.graph
    bad, tainted = tainted_runs(trace)
    runs = [r for r in trace if r["type"] == "run"]
    good_finish: dict[tuple[str, str], datetime] = {}
    for r in runs:
        if r["status"] != RunStatus.SUCCEEDED:
            continue
        outs = [(o["asset"], o["partition"], o["version"]) for o in r.get("outputs", [])]
        if any(o in bad for o in outs):
            continue
        which = (r["pipeline"], r["partition"])
        end = parse_time(r["end"])
        if which not in good_finish or end < good_finish[which]:
            good_finish[which] = end
    deliverables = misses = 0
    tardiness = 0.0
    lateness: list[float] = []
    for name, pipe in graph.pipelines.items():
        if pipe.deadline is None:
            continue
        for key in scenario.keys:
            deliverables += 1
            due = pipe.partitions.end(key) + pipe.deadline
            finish = good_finish.get((name, key), horizon)
            late = (finish - due).total_seconds() / 60
            lateness.append(late)
            if late > 0 or (name, key) not in good_finish:
                misses += 1
            tardiness += pipe.priority * max(late, 0.0)
    waiting = sum((parse_time(r["work_start"]) - parse_time(r["acquired"])).total_seconds() *
                  r["slots"] for r in runs)
    busy = sum((parse_time(r["end"]) - parse_time(r["acquired"])).total_seconds() * r["slots"]
               for r in runs)
    times = [parse_time(r["at"]) for r in trace if r["type"] == "arrival"] + \
        [parse_time(r["end"]) for r in runs]
    span = (max(times) - min(times)).total_seconds() if times else 0.0
    capacity = sum(p.capacity for p in graph.pools.values())
    replan = replan_ms or []
    return {
        "deliverables": deliverables,
        "deadline_misses": misses,
        "weighted_tardiness_minutes": round(tardiness, 3),
        "max_lateness_minutes": round(max(lateness), 3) if lateness else 0.0,
        "slot_seconds_waiting": round(waiting, 3),
        "polling_checks": sum(1 for r in trace if r["type"] == "check"),
        "wasted_runs": len(tainted),
        "runs": len(runs),
        "utilisation": round(busy / (capacity * span), 4) if span and capacity else 0.0,
        "replan_ms_p50": round(statistics.median(replan), 4) if replan else 0.0,
        "replan_ms_p99": round(_quantile(replan, 0.99), 4),
    }
