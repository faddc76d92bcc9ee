"""The what-if day plan that ``jit`` chooses its rule with: a day already under way is planned
from where it stands (finished pipelines count as done, running ones hold their slot until their
predicted end), not replayed from its start."""

from __future__ import annotations

import pytest

from andon.planner import lookahead
from andon.planner.lookahead import Job, simulate_day
from andon.sim.scenario import parse_scenario

SCENARIO = {
    "name": "under-way", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1,
    "pools": {"default": 1},
    "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "0s"}}],
    "pipelines": [
        {"name": "a", "inputs": ["raw"], "outputs": ["a_out"], "duration": {"p50": "60m"}},
        {"name": "b", "inputs": ["a_out"], "outputs": ["b_out"], "duration": {"p50": "30m"}},
        {"name": "c", "inputs": ["b_out"], "outputs": ["c_out"], "duration": {"p50": "10m"},
         "deadline": "2h"},
    ],
}
DUR = {"a": 3600.0, "b": 1800.0, "c": 600.0}


def _fifo(job: object, now: float, mean: float) -> tuple[float, int]:
    return (0.0, 0)


def test_a_day_under_way_is_planned_from_where_it_stands() -> None:
    graph = parse_scenario(SCENARIO, "under-way").graph
    key = "2026-01-05"
    end_of_day = graph.assets["raw"].partitions.end(key).timestamp()
    arrivals = {"raw": end_of_day}
    fresh = simulate_day(graph, key, arrivals, DUR.__getitem__, _fifo, end_of_day)
    assert fresh.finish["c"] == end_of_day + 3600 + 1800 + 600
    assert fresh.misses == 0

    # 80 minutes later: a finished at +60m, b has run 20 of its 30 minutes
    now = end_of_day + 80 * 60
    under_way = simulate_day(graph, key, arrivals, DUR.__getitem__, _fifo, now,
                             done={"a": end_of_day + 3600}, running={"b": now + 600})
    assert under_way.finish["a"] == end_of_day + 3600  # not run again
    assert under_way.finish["b"] == now + 600
    assert under_way.finish["c"] == now + 600 + 600  # c follows b, nothing replayed
    assert under_way.misses == 0

    # replaying the whole day from "now" (what the plan did before) would call c late
    replayed = simulate_day(graph, key, arrivals, DUR.__getitem__, _fifo, now)
    assert replayed.misses == 1


def test_a_running_run_holds_its_slot_until_its_predicted_end() -> None:
    graph = parse_scenario(SCENARIO, "under-way").graph
    key = "2026-01-05"
    start = graph.assets["raw"].partitions.end(key).timestamp()
    # b runs (the only slot) until +45m although a is done: c can only start after b
    plan = simulate_day(graph, key, {"raw": start}, DUR.__getitem__, _fifo, start,
                        done={"a": start}, running={"b": start + 2700})
    assert plan.finish["c"] == start + 2700 + 600


KEYS = {
    "name": "keys", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1,
    "pools": {"default": 1, "other": 1},
    "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "0s"}}],
    "pipelines": [
        {"name": "blocker", "inputs": ["raw"], "outputs": ["x"], "duration": {"p50": "60m"}},
        {"name": "a", "inputs": ["raw"], "outputs": ["a_out"], "duration": {"p50": "10m"},
         "deadline": "110m"},
        {"name": "pre", "inputs": ["raw"], "outputs": ["p"], "pool": "other",
         "duration": {"p50": "30m"}},
        {"name": "b", "inputs": ["p"], "outputs": ["b_out"], "duration": {"p50": "10m"},
         "deadline": "130m"},
    ],
}


def test_least_slack_compares_every_waiting_job_at_the_same_moment() -> None:
    """``a`` waits from the start, ``b`` from +30m; when the slot frees at +60m the engine starts
    ``a`` (latest start +100m) before ``b`` (+120m). A key taken when each became ready would
    compare a's slack at 0 (100m) with b's at +30m (90m) and plan them the other way round."""
    from andon.planner.policies import Slack

    graph = parse_scenario(KEYS, "keys").graph
    key = "2026-01-05"
    start = graph.assets["raw"].partitions.end(key).timestamp()
    durations = {"blocker": 3600.0, "a": 600.0, "pre": 1800.0, "b": 600.0}
    rule = Slack(graph)
    for name, seconds in durations.items():
        rule.stats.observe_duration(name, seconds)
    plan = simulate_day(graph, key, {"raw": start}, durations.__getitem__, rule.key, start,
                        running={"blocker": start + 3600})
    assert plan.finish["a"] == start + 3600 + 600
    assert plan.finish["b"] == start + 3600 + 1200
    assert plan.misses == 0


FORK = {
    "name": "fork", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1,
    "pools": {"default": 1},
    "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "0s"}}],
    "pipelines": [
        {"name": "long", "inputs": ["raw"], "outputs": ["l"], "duration": {"p50": "60m"},
         "deadline": "3h"},
        {"name": "short", "inputs": ["raw"], "outputs": ["s"], "duration": {"p50": "10m"},
         "deadline": "30m"},
    ],
}


def test_a_candidate_dispatch_starts_first_and_the_rule_continues() -> None:
    graph = parse_scenario(FORK, "fork").graph
    key = "2026-01-05"
    start = graph.assets["raw"].partitions.end(key).timestamp()
    dur = {"long": 3600.0, "short": 600.0}.__getitem__

    def longest_first(job: Job, now: float, mean: float) -> tuple[float, int]:
        return (-dur(job.pipeline), 0)

    # the rule starts the long run and makes the short one late ...
    plain = simulate_day(graph, key, {"raw": start}, dur, longest_first, start)
    assert plain.finish == {"long": start + 3600, "short": start + 4200} and plain.misses == 1
    # ... the what-if of starting the short one first, then the rule, keeps both on time
    short = simulate_day(graph, key, {"raw": start}, dur, longest_first, start,
                         first=("short", key))
    assert short.finish == {"short": start + 600, "long": start + 4200} and short.misses == 0


def test_a_day_planned_in_slices_is_the_day_planned_at_once() -> None:
    """``day_steps`` pauses after each slice of work (a large graph's plan is spread over
    decisions); the plan it returns is ``simulate_day``'s."""
    from andon.planner.lookahead import day_steps
    from andon.planner.policies import Atc
    from andon.sim.generate import generate

    graph = parse_scenario(generate(pipelines=60, days=1, slots=4), "generated").graph
    key = "2026-01-05"
    rule = Atc(graph)
    arrivals = {a.name: a.partitions.end(key).timestamp() for a in graph.assets.values()
                if a.source}
    start = min(arrivals.values())
    whole = simulate_day(graph, key, arrivals, rule.stats.duration, *rule.what_if_keys()[:1],
                         start, rekey=True, rekey_all=rule.what_if_keys()[1])
    steps = day_steps(graph, key, arrivals, rule.stats.duration, rule.what_if_keys()[0], start,
                      rekey=True, rekey_all=rule.what_if_keys()[1], work=8)
    pauses = 0
    while True:
        try:
            next(steps)
            pauses += 1
        except StopIteration as end:
            sliced = end.value
            break
    assert pauses > 5
    assert (sliced.misses, sliced.weighted_tardiness, sliced.finish) == \
        (whole.misses, whole.weighted_tardiness, whole.finish)


def test_a_large_graph_plans_its_day_a_slice_a_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above ``plan_at_once`` pipelines, jit keeps the last rule while the new day's plan is
    made one slice of work per decision, and chooses once every rule is planned."""
    from andon.planner.policies import Jit
    from andon.sim.generate import generate

    graph = parse_scenario(generate(pipelines=60, days=1, slots=4), "generated").graph
    jit = Jit(graph)
    jit.plan_at_once = 10  # this graph counts as large (no engine state: nothing runs yet)
    monkeypatch.setattr(lookahead, "WORK", 16)  # and its days take several slices
    key = "2026-01-05"
    start = graph.assets[next(a.name for a in graph.assets.values() if a.source)] \
        .partitions.end(key).timestamp()
    jit.chosen[key] = jit._last
    jit._start_replan(key, start, at_once=False)
    assert jit._replan is not None and jit.chosen[key] == jit._last  # the last rule meanwhile
    decisions = 1
    while jit._replan is not None:
        jit._replan_step()
        decisions += 1
    assert decisions > len(jit.rules) * 2  # the what-if days took more than a decision each
    assert jit.chosen[key] in jit.rules
