"""Scenario incidents pull and resolve andon cords on the virtual clock, through the same engine
code as live. For every event-driven policy on the incident scenarios: no downstream run of a bad
partition starts while its cord is pulled, every affected partition is re-made after the
resolution, and no run consumes bad data after the detection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from andon.events.codec import parse_time
from andon.sim.check import check_trace
from andon.sim.metrics import tainted_runs
from andon.sim.policies import EVENT_POLICIES
from andon.sim.run import simulate
from andon.sim.scenario import Scenario, load_scenario
from andon.sim.simulator import horizon

SCENARIOS = Path("/work/shared/scenarios")
FILES = ("incident.json", "retail-incident.json")
POLICIES = (*EVENT_POLICIES, "cpsat")

_loaded: dict[str, Scenario] = {}


def _scenario(name: str) -> Scenario:
    if not (SCENARIOS / name).exists():
        pytest.fail(f"scenario {SCENARIOS / name} is missing", pytrace=False)
    if name not in _loaded:
        _loaded[name] = load_scenario(str(SCENARIOS / name))
    return _loaded[name]


def _per_incident(trace: list[dict[str, Any]]) -> list[tuple[dict[str, Any], set[Any],
                                                              list[dict[str, Any]]]]:
    """(incident, the versions it made bad, the runs that read one) for each incident alone."""
    incidents = [r for r in trace if r["type"] == "incident"]
    others = [r for r in trace if r["type"] != "incident"]
    return [(inc, *tainted_runs([inc, *others])) for inc in incidents]


@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("name", FILES)
def test_incidents_halt_and_recover_through_the_cord(name: str, policy: str) -> None:
    scenario = _scenario(name)
    metrics, result = simulate(scenario, policy)
    trace = result.trace

    # no run reads a bad partition while its cord is pulled; the trace is sound
    assert check_trace(scenario, trace, metrics, horizon(scenario), cords=True,
                       bounded=policy != "bound") == []
    runs = [r for r in trace if r["type"] == "run"]
    for incident, bad, tainted in _per_incident(trace):
        detected = parse_time(incident["detected"])
        resolved = parse_time(incident["resolved"])
        # runs that consumed bad data after the detection: none
        late = [f"{r['pipeline']} {r['partition']} at {r['work_start']}" for r in tainted
                if parse_time(r["work_start"]) >= detected]
        assert late == [], f"{incident['asset']} {incident['partition']}: {late}"
        # every affected partition is re-made after the resolution, from good data
        affected = {(a, p) for a, p, _v in bad}
        assert (incident["asset"], incident["partition"]) in affected
        for asset, part in affected:
            versions = [(parse_time(r["end"]), o["version"]) for r in runs
                        if r["status"] == "succeeded" for o in r["outputs"]
                        if (o["asset"], o["partition"]) == (asset, part)]
            assert versions, f"{asset} {part} was never made"
            end, version = max(versions)
            assert end > resolved and (asset, part, version) not in bad, \
                f"{asset} {part}: latest version v{version} ({end}) is not a good re-make"
        # what was running on bad data at the detection was cancelled, not finished
        for r in runs:
            reads_bad = any((i["asset"], i["partition"], i.get("version", 0)) in bad
                            for i in r["inputs"])
            if reads_bad and parse_time(r["work_start"]) < detected < parse_time(r["end"]):
                assert r["status"] == "cancelled", r


def test_the_cord_saves_work_compared_with_the_cron_baseline() -> None:
    scenario = _scenario("incident.json")
    cron, _ = simulate(scenario, "cron")
    jit, _ = simulate(scenario, "jit")
    assert jit["wasted_runs"] < cron["wasted_runs"]
