"""jit keeps a slot free for an urgent run that is about to become ready, instead of giving it to
a long low-priority run that would make the urgent one late."""

from __future__ import annotations

from andon.sim.run import simulate
from andon.sim.scenario import parse_scenario

SCENARIO = {
    "name": "hold-back", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 3,
    "pools": {"default": 1, "other": 1},
    "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "0s"}}],
    "pipelines": [
        {"name": "upstream", "inputs": ["raw"], "outputs": ["u"], "pool": "other",
         "duration": {"p50": "5m", "p90": "5m"}},
        {"name": "urgent", "inputs": ["u"], "outputs": ["h"], "pool": "default", "priority": 3,
         "duration": {"p50": "10m", "p90": "10m"}, "deadline": "30m"},
        {"name": "long_low", "inputs": ["raw"], "outputs": ["l"], "pool": "default",
         "priority": 1, "duration": {"p50": "60m", "p90": "60m"}},
    ],
}


def _runs(policy: str) -> dict[str, dict[str, str]]:
    _, result = simulate(parse_scenario(SCENARIO, "hold-back"), policy)
    return {r["pipeline"]: r for r in result.trace if r["type"] == "run"}


def test_jit_holds_the_slot_for_the_urgent_run() -> None:
    fifo = simulate(parse_scenario(SCENARIO, "hold-back"), "fifo")[0]
    jit = simulate(parse_scenario(SCENARIO, "hold-back"), "jit")[0]
    assert fifo["deadline_misses"] == 1 and jit["deadline_misses"] == 0
    runs = _runs("jit")
    # the long run waited for the urgent one although a slot was free, holding nothing meanwhile
    assert runs["urgent"]["acquired"] < runs["long_low"]["acquired"]
    assert all(r["acquired"] == r["work_start"] for r in runs.values())
    assert jit["slot_seconds_waiting"] == 0
