"""Check a simulation trace against the invariants of DESIGN.md section 4, from the trace alone
(plus the scenario for pool capacities and deadlines):

- no work starts before its inputs exist (the version it read was made by then);
- no pool is ever over capacity;
- no run reads a partition known to be bad while its cord is pulled (event-driven policies);
- the metrics recomputed from the trace equal the reported ones.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from andon.events.codec import parse_time
from andon.model.status import RunStatus
from andon.sim.metrics import compute_metrics, tainted_runs
from andon.sim.scenario import Scenario

RECOMPUTABLE = ("deliverables", "deadline_misses", "weighted_tardiness_minutes",
                "max_lateness_minutes", "slot_seconds_waiting", "polling_checks", "wasted_runs",
                "runs", "utilisation")


def check_trace(scenario: Scenario, trace: list[dict[str, Any]], metrics: dict[str, Any] | None,
                horizon: datetime, cords: bool, bounded: bool = True) -> list[str]:
    """Every violated invariant, described; an empty list means the trace is sound."""
    problems: list[str] = []
    made: dict[tuple[str, str, int], datetime] = {}
    for r in trace:
        if r["type"] == "arrival":
            made[(r["asset"], r["partition"], r.get("version", 1))] = parse_time(r["at"])
        elif r["type"] == "run" and r["status"] == RunStatus.SUCCEEDED:
            for o in r.get("outputs", []):
                made[(o["asset"], o["partition"], o["version"])] = parse_time(r["end"])
    runs = [r for r in trace if r["type"] == "run"]
    for r in runs:
        if r["status"] != RunStatus.SUCCEEDED:
            continue
        start = parse_time(r["work_start"])
        if parse_time(r["acquired"]) > start or start > parse_time(r["end"]):
            problems.append(f"run {r['pipeline']} {r['partition']}: acquired <= work_start <= end "
                            "does not hold")
        for i in r["inputs"]:
            at = made.get((i["asset"], i["partition"], i.get("version", 1)))
            if at is None or at > start:
                problems.append(f"run {r['pipeline']} {r['partition']} started work at "
                                f"{r['work_start']} before its input {i['asset']} {i['partition']} "
                                f"v{i.get('version')} existed")
    if bounded:
        for pool, cap in ((p.name, p.capacity) for p in scenario.graph.pools.values()):
            changes = []
            for r in runs:
                if r["pool"] == pool:
                    changes.append((parse_time(r["acquired"]), 1, r["slots"]))
                    changes.append((parse_time(r["end"]), 0, -r["slots"]))
            used = 0
            for at, _order, delta in sorted(changes):
                used += delta
                if used > cap:
                    problems.append(f"pool {pool} holds {used} slots > capacity {cap} at {at}")
                    break
    if cords:
        incidents = [r for r in trace if r["type"] == "incident"]
        _bad, tainted = tainted_runs(trace)
        for r in tainted:
            start = parse_time(r["work_start"])
            for inc in incidents:
                if parse_time(inc["detected"]) <= start < parse_time(inc["resolved"]):
                    problems.append(f"run {r['pipeline']} {r['partition']} read bad data at "
                                    f"{r['work_start']} while the cord on {inc['asset']} "
                                    f"{inc['partition']} was pulled")
    if metrics is not None:
        again = compute_metrics(scenario, trace, horizon)
        for name in RECOMPUTABLE:
            if again[name] != metrics.get(name):
                problems.append(f"metric {name}: reported {metrics.get(name)}, trace gives "
                                f"{again[name]}")
    return problems
