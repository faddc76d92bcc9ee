"""Entry point of the lab: simulate a scenario under a policy; compare policies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from andon.model.dispatch import DEFAULT_POLICY, Policy
from andon.sim.metrics import compute_metrics
from andon.sim.policies import ALL_POLICIES, BASELINES, EVENT_POLICIES
from andon.sim.scenario import Scenario
from andon.sim.simulator import EngineSim, SimResult, horizon


def simulate(scenario: Scenario, policy: str) -> tuple[dict[str, Any], SimResult]:
    """Run ``scenario`` under ``policy``; return (metrics, result with the trace)."""
    if policy in BASELINES:
        from andon.sim.baselines import CronSim

        result = CronSim(scenario, poke=policy == "cron-poke").run()
    elif policy in EVENT_POLICIES:
        result = EngineSim(scenario, policy).run()
    elif policy == Policy.CPSAT:
        from andon.planner.cpsat import available

        if available():
            sim = EngineSim(scenario, Policy.CPSAT)
            result = sim.run()
            result.notes.extend(sim.policy.notes)  # the times it fell back
        else:
            result = EngineSim(scenario, DEFAULT_POLICY).run()
            result.notes.append("OR-Tools is not installed (pip install 'andon[opt]'): "
                                f"{Policy.CPSAT} fell back to the {DEFAULT_POLICY} heuristic")
    else:
        raise ValueError(f"unknown policy {policy!r}; known: {', '.join(ALL_POLICIES)}")
    metrics = compute_metrics(scenario, result.trace, horizon(scenario), result.replan_ms)
    metrics = {"scenario": scenario.name, "policy": policy, **metrics}
    if result.notes:
        metrics["notes"] = result.notes
    return metrics, result


def write_trace(result: SimResult, path: Path) -> None:
    with path.open("w") as fh:
        for record in result.trace:
            fh.write(json.dumps(record, separators=(",", ":")) + "\n")
