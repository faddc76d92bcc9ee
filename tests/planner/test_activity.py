"""The day's activity list (``planner.activity``): a rule's start order decoded again gives the
rule's plan, the kept list is never worse on the model than any rule's, the local search moves a
late deliverable and what it waits for earlier, and a re-plan starts from the previous list."""

from __future__ import annotations

from andon.planner.activity import ActivityPlanner, Day, Rule, _merge, _shift
from andon.planner.lookahead import Job, simulate_day
from andon.sim.scenario import parse_scenario

KEY = "2026-01-05"
SCENARIO = {
    "name": "list", "start": "2026-01-05T00:00:00Z", "days": 1, "seed": 1,
    "pools": {"default": 1, "other": 1},
    "sources": [{"name": "raw", "partitions": "daily", "arrival": {"after": "0s"}}],
    "pipelines": [
        {"name": "blocker", "inputs": ["raw"], "outputs": ["x"], "duration": {"p50": "60m"}},
        {"name": "filler", "inputs": ["raw"], "outputs": ["f"], "duration": {"p50": "20m"}},
        {"name": "pre", "inputs": ["raw"], "outputs": ["p"], "duration": {"p50": "10m"}},
        {"name": "urgent", "inputs": ["p"], "outputs": ["u"], "pool": "other", "priority": 3,
         "duration": {"p50": "10m"}, "deadline": "30m"},
    ],
}
DUR = {"blocker": 3600.0, "filler": 1200.0, "pre": 600.0, "urgent": 600.0}


def _fifo(job: Job, now: float, mean: float) -> tuple[float, int]:
    return (0.0, job.seq)  # every job of the day has seq 0: the order they were queued in


def _longest(job: Job, now: float, mean: float) -> tuple[float, int]:
    return (-DUR[job.pipeline], job.seq)


def _day() -> tuple[ActivityPlanner, Day]:
    graph = parse_scenario(SCENARIO, "list").graph
    start = graph.assets["raw"].partitions.end(KEY).timestamp()
    planner = ActivityPlanner(graph, (DUR.__getitem__, DUR.__getitem__))
    return planner, Day(KEY, start, {"raw": start}, [], [], {}, {})


def test_a_rules_start_order_decoded_again_is_the_rules_plan() -> None:
    planner, day = _day()
    ruled = simulate_day(planner.graph, KEY, day.arrivals, DUR.__getitem__, _longest, day.start)
    assert ruled.started[0] == ("blocker", KEY)
    (misses, tardiness, _, _), decoded = planner.decode(day, ruled.started)
    assert decoded.finish == ruled.finish and decoded.started == ruled.started
    assert (misses, tardiness) == (ruled.misses, ruled.weighted_tardiness) == (1, 3 * 70 * 60.0)


def test_no_rule_keeps_urgent_on_time_and_the_search_does() -> None:
    planner, day = _day()
    planner.budget = 0  # the best of the rules' lists alone: "fortified"
    rules = [Rule(_fifo, False), Rule(_longest, False)]
    fortified = planner.plan(day, rules)
    for rule in rules:
        ruled = simulate_day(planner.graph, KEY, day.arrivals, DUR.__getitem__, rule.key,
                             day.start)
        assert fortified.score[:2] <= (ruled.misses, ruled.weighted_tardiness)
    assert fortified.score[0] == 1 and fortified.source.startswith("rule")

    planner.budget = 12
    before = planner.decodes
    plan = planner.plan(day, rules)
    # urgent waits for pre, which waited behind blocker and filler: the move takes both forward
    assert plan.source == "search" and plan.score == (0, 0.0, 0, 0.0)
    assert plan.items.index(("pre", KEY)) == 0
    assert planner.decodes - before <= 2 * (len(rules) + 12) + len(rules)  # the budget, counted


def test_a_replan_starts_from_the_previous_list() -> None:
    planner, day = _day()
    rules = [Rule(_fifo, False)]
    first = planner.plan(day, rules)
    assert first.source == "search"
    # planned again with no search budget: the previous list, clearly better than the rule's
    planner.budget = 0
    again = planner.plan(day, rules, warm=first.items)
    assert again.source == "warm" and again.score == first.score
    # a minute on, pre done: it falls out of the list, the rest keeps its order
    later = Day(KEY, day.start + 60, day.arrivals, [], [], {"pre": day.start + 60}, {})
    moved = planner.plan(later, rules, warm=first.items)
    assert ("pre", KEY) not in moved.items and moved.score[0] == 0


def test_moves_and_merges_keep_the_other_items_in_their_order() -> None:
    items = [("a", "k"), ("b", "k"), ("c", "k"), ("d", "k"), ("e", "k")]
    assert _shift(items, {("d", "k"), ("e", "k")}, 2) == \
        [("a", "k"), ("d", "k"), ("b", "k"), ("e", "k"), ("c", "k")]
    assert _shift(items, {("b", "k")}, 8)[0] == ("b", "k")
    # finished items fall out, a new one goes in at its place in the base list
    assert _merge([("c", "k"), ("a", "k"), ("gone", "k")], [("a", "k"), ("new", "k"), ("c", "k")]) \
        == [("c", "k"), ("new", "k"), ("a", "k")]
