"""The clairvoyant optimum (issue 17): perfect knowledge of one seed's sampled world, solved
offline; and the generated scenario families."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from andon.sim import clairvoyant as cv
from andon.sim.families import KINDS, family
from andon.sim.run import simulate
from andon.sim.scenario import parse_scenario

pytest.importorskip("ortools")
ANDON = str(Path(sys.executable).with_name("andon"))


def _pipe(name: str, minutes: int, priority: int, deadline: str | None,
          inputs: list[str] | None = None) -> dict[str, Any]:
    pipe: dict[str, Any] = {"name": name, "inputs": inputs or ["feed"], "outputs": [f"{name}_out"],
                            "pool": "one", "priority": priority, "startup": "0s",
                            "duration": {"p50": f"{minutes}m", "p90": f"{minutes}m"}}
    if deadline:
        pipe["deadline"] = deadline
    return pipe


def trap() -> dict[str, Any]:
    """One slot. A long undated job is ready at 01:00; the urgent job it would block becomes
    ready at 01:05 (after a 5-minute step) and is due at 01:30. Any rule that never idles starts
    the long job at 01:00 and makes the urgent one late; the clairvoyant schedule waits."""
    return {"name": "trap", "start": "2026-01-05T00:00:00Z", "days": 2, "seed": 1,
            "pools": {"one": 1, "side": 1},
            "sources": [{"name": "feed", "partitions": "daily", "arrival": {"after": "60m"}}],
            "pipelines": [_pipe("long", 60, 1, "600m"),
                          {**_pipe("prep", 5, 1, None), "pool": "side"},
                          _pipe("urgent", 10, 5, "90m", ["prep_out"])],
            "incidents": []}


def test_the_clairvoyant_schedule_waits_for_the_urgent_job_no_rule_can_see() -> None:
    sc = parse_scenario(trap(), "trap")
    traces = {}
    for policy in ("fifo", "edf", "atc"):
        metrics, result = simulate(sc, policy)
        traces[policy] = result.trace
        assert metrics["deadline_misses"] == 2  # the urgent job, each day
    best = cv.solve(sc, traces, budget=1.0)
    assert best.deadline_misses == 0 and best.weighted_tardiness_minutes == 0
    assert best.lower_bound_minutes == 0
    assert best.start_tardiness_minutes > 0  # it improved on every warm start
    assert cv.solve(sc, traces, budget=1.0) == best  # deterministic


def test_the_problem_is_the_sampled_world_and_the_bound_is_below_the_schedule() -> None:
    sc = parse_scenario(family("priorities", 1, days=1), "priorities")
    prob = cv.problem(sc)
    assert len(prob.jobs) == len(sc.graph.pipelines)
    rank = [float(i) for i in range(len(prob.jobs))]
    starts = cv.list_schedule(prob, rank)
    assert cv.feasible(prob, starts)
    assert cv.relaxed_bound(prob) <= cv.score(prob, starts)[1]
    broken = list(starts)
    broken[0] = prob.jobs[0].release - 1
    assert not cv.feasible(prob, broken)
    _, result = simulate(sc, "atc")
    found = cv.solve(sc, {"atc": result.trace}, budget=0.5)
    assert found.lower_bound_minutes <= found.weighted_tardiness_minutes
    assert found.weighted_tardiness_minutes <= found.start_tardiness_minutes


def test_an_incident_holds_its_consumers_until_resolved() -> None:
    data = trap()
    data["incidents"] = [{"asset": "feed", "partition": "2026-01-05",
                          "detected": "2026-01-06T01:10:00Z", "resolved": "2026-01-06T03:00:00Z"}]
    prob = cv.problem(parse_scenario(data, "trap"))
    first = [j for j in prob.jobs if j.partition == "2026-01-05" and j.pipeline != "urgent"]
    assert all(j.release >= 27 * 3600 for j in first)


@pytest.mark.parametrize("kind", KINDS)
def test_every_family_is_a_valid_contended_scenario(kind: str) -> None:
    sc = parse_scenario(family(kind, 1), kind)
    metrics, _ = simulate(sc, "edf")
    assert metrics["deadline_misses"] > 0  # contended: late under a deadline-aware rule
    committed = Path(__file__).resolve().parents[2] / "benchmarks/scenarios" / f"{kind}-1.json"
    assert json.loads(committed.read_text()) == family(kind, 1)


def test_cli_clairvoyant(tmp_path: Path) -> None:
    path = tmp_path / "trap.json"
    path.write_text(json.dumps(trap()))
    out = subprocess.run([ANDON, "simulate", str(path), "--clairvoyant", "--budget", "0.5",
                          "--json"], capture_output=True, text=True, check=True)
    data = json.loads(out.stdout)
    assert data["clairvoyant"]["deadline_misses"] == 0
    assert data["policies"]["fifo"]["deadline_misses"] == 2
    bad = subprocess.run([ANDON, "simulate", str(path), "--clairvoyant", "--budget", "9999"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "--budget" in bad.stderr
