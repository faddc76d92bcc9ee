"""The CP-SAT planner with the real OR-Tools solver: known optimal orders on hand-made scenarios,
the invariants of DESIGN.md section 4 on every shared scenario, and the fallback to ``jit``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from andon.events.codec import parse_time
from andon.planner.cpsat import CpSat, Task, available, list_schedule
from andon.planner.policies import make_policy
from andon.sim.check import check_trace
from andon.sim.run import simulate
from andon.sim.scenario import Scenario, load_scenario, parse_scenario
from andon.sim.simulator import EngineSim, horizon

SCENARIOS = sorted((Path(__file__).resolve().parents[3] / "shared" / "scenarios").glob("*.json"))


def fixed(minutes: int) -> dict[str, str]:
    """A duration without noise (p50 = p90)."""
    return {"p50": f"{minutes}m", "p90": f"{minutes}m"}


def scenario(pools: dict[str, int], sources: dict[str, str], pipelines: list[dict[str, Any]]) -> Scenario:
    """One day; each source lands exactly ``after`` past the partition end."""
    return parse_scenario({
        "name": "toy", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1, "pools": pools,
        "sources": [{"name": n, "arrival": {"after": at}} for n, at in sources.items()],
        "pipelines": [{"slots": 1, "priority": 1, **p} for p in pipelines]}, "toy.json")


def runs(result_trace: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["pipeline"]: r for r in result_trace if r["type"] == "run"}


def clock(text: str) -> str:
    return parse_time(text).strftime("%H:%M")


def test_ortools_is_installed_for_the_tests() -> None:
    assert available()


def test_short_urgent_run_goes_before_a_long_unimportant_one() -> None:
    # The cpu pool is busy until 01:30; then a 2 h run without hurry and a 10 min run due 01:45
    # both wait for its one slot (queued in that order). A second pool works alongside.
    sc = scenario({"cpu": 1, "gpu": 1}, {"early": "30m", "a": "1h", "b": "1h"}, [
        {"name": "blocker", "inputs": ["early"], "outputs": ["x"], "pool": "cpu",
         "duration": fixed(60)},
        {"name": "long", "inputs": ["a"], "outputs": ["big"], "pool": "cpu", "duration": fixed(120),
         "deadline": "12h"},
        {"name": "short", "inputs": ["b"], "outputs": ["small"], "pool": "cpu", "priority": 5,
         "duration": fixed(10), "deadline": "1h45m"},
        {"name": "train", "inputs": ["a", "b"], "outputs": ["model"], "pool": "gpu",
         "duration": fixed(30), "deadline": "2h"},
    ])
    metrics, result = simulate(sc, "cpsat")
    got = runs(result.trace)
    assert clock(got["short"]["work_start"]) == "01:30"
    assert clock(got["long"]["work_start"]) == "01:40"
    assert clock(got["train"]["work_start"]) == "01:00"
    assert metrics["deadline_misses"] == 0 and metrics["weighted_tardiness_minutes"] == 0
    assert "notes" not in metrics  # OR-Tools ran: no fallback, no "not installed"
    fifo, _ = simulate(sc, "fifo")  # first come, first served gets it wrong
    assert fifo["deadline_misses"] == 1


def test_holds_a_slot_for_an_urgent_run_that_is_about_to_be_ready() -> None:
    # At 01:00 the gpu is free and a 2 h run without hurry may start; but ``feed`` (cpu, until
    # 01:20) makes the input of ``urgent``, which needs the gpu for 30 min by 01:55. Starting the
    # long run would make it 95 min late: the plan keeps the gpu free for it.
    sc = scenario({"cpu": 2, "gpu": 1}, {"a": "1h", "b": "1h"}, [
        {"name": "feed", "inputs": ["a"], "outputs": ["fed"], "pool": "cpu", "priority": 5,
         "duration": fixed(20)},
        {"name": "long", "inputs": ["b"], "outputs": ["big"], "pool": "gpu", "duration": fixed(120),
         "deadline": "10h"},
        {"name": "urgent", "inputs": ["fed"], "outputs": ["out"], "pool": "gpu", "priority": 5,
         "duration": fixed(30), "deadline": "1h55m"},
    ])
    metrics, result = simulate(sc, "cpsat")
    got = runs(result.trace)
    assert clock(got["urgent"]["work_start"]) == "01:20"
    assert clock(got["long"]["work_start"]) == "01:50"
    assert metrics["weighted_tardiness_minutes"] == 0
    assert metrics["slot_seconds_waiting"] == 0  # holding a slot back is not holding it idle
    fifo, _ = simulate(sc, "fifo")
    assert fifo["weighted_tardiness_minutes"] == pytest.approx(5 * 95)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_traces_keep_every_invariant(path: Path) -> None:
    sc = load_scenario(path)
    metrics, result = simulate(sc, "cpsat")
    # inputs before work, pools within capacity, no bad data read under a pulled cord, metrics
    # recomputable from the trace
    assert check_trace(sc, result.trace, metrics, horizon(sc), cords=True) == []
    assert metrics["polling_checks"] == 0 and metrics["slot_seconds_waiting"] == 0
    assert "notes" not in metrics


def test_no_plan_in_time_falls_back_to_jit_and_says_so() -> None:
    sc = load_scenario(next(p for p in SCENARIOS if p.stem == "contention"))
    sim = EngineSim(sc, "cpsat")
    assert isinstance(sim.policy, CpSat)
    sim.policy.time_limit = 0.0
    trace = sim.run().trace
    assert sim.policy.plans > 0 and sum(sim.policy.fallbacks.values()) == sim.policy.plans
    assert sim.policy.overrides == 0
    assert sim.policy.notes == [f"cpsat fell back to the jit heuristic {sim.policy.plans} time(s) in "
                                f"{sim.policy.plans} plans (solver status: {sim.policy.plans} unknown)"]
    jit = EngineSim(sc, "jit").run().trace
    assert trace == jit  # the fallback is exactly the heuristic


def test_a_plan_not_proven_optimal_leaves_the_order_to_jit_and_says_so() -> None:
    sc = load_scenario(next(p for p in SCENARIOS if p.stem == "contention"))
    sim = EngineSim(sc, "cpsat")
    assert isinstance(sim.policy, CpSat)
    sim.policy.work_limit = 1e-6  # enough to load the hint, too little to prove it optimal
    trace = sim.run().trace
    assert sim.policy.unproven > 0 and sim.policy.overrides == 0
    assert any(f"kept the jit heuristic's order {sim.policy.unproven} time(s)" in note
               for note in sim.policy.notes)
    assert trace == EngineSim(sc, "jit").run().trace


def test_an_infeasible_model_falls_back() -> None:
    sc = scenario({"cpu": 2}, {"a": "1h"}, [
        {"name": "p", "inputs": ["a"], "outputs": ["x"], "pool": "cpu", "duration": fixed(5)}])
    policy = make_policy("cpsat", sc.graph)
    assert isinstance(policy, CpSat)
    # three slots asked of a pool of two (the graph refuses such a pipeline; the model must cope)
    tasks = [Task("p", "2026-01-05", "cpu", 3, 5, run="r")]
    assert policy.solve(sc.graph, tasks, 0.0) is None
    assert dict(policy.fallbacks) == {"INFEASIBLE": 1}
    assert "1 infeasible" in policy.notes[0]


def test_contention_finds_the_same_plan_every_time() -> None:
    sc = load_scenario(next(p for p in SCENARIOS if p.stem == "contention"))
    traces = []
    for _ in range(2):
        sim = EngineSim(sc, "cpsat")
        assert isinstance(sim.policy, CpSat)
        sim.policy.time_limit = 10.0  # only the deterministic work limit stops the solver,
        # however busy the machine
        traces.append(sim.run().trace)
        assert sim.policy.overrides > 0  # the plan did change something
    assert traces[0] == traces[1]


def test_the_hint_respects_capacity_releases_and_precedence() -> None:
    sc = scenario({"cpu": 2, "gpu": 1}, {"a": "1h"}, [
        {"name": n, "inputs": ["a"], "outputs": [n], "pool": "cpu", "duration": fixed(5)}
        for n in ("p", "q")])
    tasks = [Task("p", "k", "cpu", 1, 10, running=True),  # busy until 10
             Task("p", "k", "cpu", 2, 5),  # needs the whole pool: from 10
             Task("q", "k", "cpu", 1, 3),  # fits beside the running one now, as in the engine
             Task("q", "k", "gpu", 1, 4, release=2),
             Task("q", "k", "gpu", 1, 4, preds=[1]),  # after task 1 ends (15)
             Task("q", "k", "cpu", 1, 1)]  # the pool is full until 3, then 10, then 15
    assert list_schedule(sc.graph, tasks) == [0, 10, 0, 2, 15, 3]


def test_the_core_does_not_import_ortools() -> None:
    code = ("import sys, andon.planner.policies, andon.planner.cpsat, andon.sim.run; "
            "from andon.cli import main; "  # the group and every command module
            "print('ortools' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
