"""The scheduler lab on the shared scenarios: every policy, every trace checked from the trace
alone, common random numbers, and clear errors for invalid scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from andon.sim.check import check_trace
from andon.sim.policies import ALL_POLICIES
from andon.sim.run import simulate
from andon.sim.scenario import ScenarioError, load_scenario, parse_scenario
from andon.sim.simulator import horizon
from andon.sim.wfcommons import convert

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
SCENARIOS = sorted((SHARED / "scenarios").glob("*.json"))
ANDON = str(Path(sys.executable).with_name("andon"))


def test_the_shared_scenarios_are_beside_the_checkout() -> None:
    """The lab runs on ../shared (read-only, beside the checkout in CI too): its absence must fail
    loudly rather than leave the parametrised tests with nothing to run."""
    assert len(SCENARIOS) >= 5, f"no scenarios in {SHARED / 'scenarios'}"
    assert list((SHARED / "traces/wfcommons-wfinstances").glob("*.json"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_policy_keeps_every_invariant(path: Path) -> None:
    scenario = load_scenario(path)
    arrivals = None
    for policy in ALL_POLICIES:
        metrics, result = simulate(scenario, policy)
        problems = check_trace(scenario, result.trace, metrics, horizon(scenario),
                               cords=policy not in ("cron", "cron-poke"),
                               bounded=policy != "bound")
        assert problems == [], (policy, problems[:5])
        if policy not in ("cron", "cron-poke"):
            assert metrics["polling_checks"] == 0 and metrics["slot_seconds_waiting"] == 0, policy
            assert all(r["acquired"] == r["work_start"] for r in result.trace if r["type"] == "run")
        # common random numbers: every policy sees the very same first arrivals
        first = sorted((r["asset"], r["partition"], r["at"]) for r in result.trace
                       if r["type"] == "arrival" and r.get("version", 1) == 1)
        arrivals = arrivals or first
        assert first == arrivals, policy


def test_the_bound_is_a_lower_bound_and_cron_polls() -> None:
    scenario = load_scenario(SHARED / "scenarios/late-upstream.json")
    results = {p: simulate(scenario, p)[0] for p in ("cron", "cron-poke", "fifo", "jit", "bound")}
    for policy, m in results.items():
        assert results["bound"]["weighted_tardiness_minutes"] <= m["weighted_tardiness_minutes"], policy
    assert results["cron"]["polling_checks"] > 0
    assert results["cron-poke"]["slot_seconds_waiting"] > 0  # a poking sensor holds its slot
    assert results["jit"]["deadline_misses"] <= results["cron"]["deadline_misses"]


def test_simulation_is_deterministic() -> None:
    scenario = load_scenario(SHARED / "scenarios/contention.json")
    first, _ = simulate(scenario, "jit")
    again, _ = simulate(scenario, "jit")
    keys = [k for k in first if not k.startswith("replan")]
    assert {k: first[k] for k in keys} == {k: again[k] for k in keys}


BASE = {"name": "t", "start": "2026-01-05T00:00:00Z", "days": 2, "seed": 1,
        "pools": {"default": 2},
        "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "1h"}}],
        "pipelines": [{"name": "a", "inputs": ["raw"], "outputs": ["A"], "pool": "default",
                       "duration": {"p50": "10m", "p90": "20m"}, "deadline": "3h"}]}


@pytest.mark.parametrize("change, field", [
    (lambda d: d["pipelines"][0].update(inputs=["nope"]), "unknown input 'nope'"),
    (lambda d: d["pipelines"][0]["duration"].update(p50="ten minutes"), "pipelines[0].duration.p50"),
    (lambda d: d["pipelines"][0].update(pool="gpu"), "pool 'gpu'"),
    (lambda d: d["pipelines"].append({"name": "b", "inputs": ["A"], "outputs": ["raw2"],
                                      "duration": {"p50": "1m"}}) or
     d["pipelines"][0].update(inputs=["raw", "raw2"]), "cycle"),
    (lambda d: d["pipelines"][0].update(deadline="6 hours"), "pipelines[0].deadline"),
    (lambda d: d.update(days="seven"), "days"),
])
def test_invalid_scenarios_name_the_field(change, field: str) -> None:  # type: ignore[no-untyped-def]
    data = json.loads(json.dumps(BASE))
    change(data)
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data, "bad.json")
    assert field in str(info.value)


def test_cli_simulate_compare_trace_and_errors(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    out = subprocess.run([ANDON, "simulate", str(SHARED / "scenarios/retail-week.json"),
                          "--policy", "edf", "--trace", str(trace), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    metrics = json.loads(out.stdout)
    assert metrics["policy"] == "edf" and metrics["deliverables"] == 35
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    assert {r["type"] for r in records} >= {"arrival", "run"}
    table = subprocess.run([ANDON, "simulate", str(SHARED / "scenarios/retail-week.json"),
                            "--compare"], capture_output=True, text=True, timeout=300)
    assert table.returncode == 0, table.stderr
    for policy in ALL_POLICIES:
        assert f"\n{policy} " in table.stdout
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**BASE, "pools": {}}))
    err = subprocess.run([ANDON, "simulate", str(bad)], capture_output=True, text=True, timeout=60)
    assert err.returncode == 2 and err.stderr.startswith("Error:") and "pool" in err.stderr


def test_wfcommons_traces_become_valid_scenarios(tmp_path: Path) -> None:
    source = SHARED / "traces/wfcommons-wfinstances/sarek-dirt02-001.json"
    data = convert(source, days=2)
    assert "WfCommons" in data["source"] and len(data["pipelines"]) == 26
    scenario = parse_scenario(data, "sarek")
    metrics, result = simulate(scenario, "jit")
    assert check_trace(scenario, result.trace, metrics, horizon(scenario), cords=True) == []
    out = tmp_path / "sarek.json"
    proc = subprocess.run([ANDON, "scenario", "from-trace", str(source), "-o", str(out)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert load_scenario(out).graph.pipelines
