"""``make bench-sched``: every policy on every scenario, on three seeds each, against the
clairvoyant optimum (issue 17).

Scenarios: ../shared/scenarios, the WfCommons traces converted to scenarios (as ``andon scenario
from-trace`` does, 3 days), and the generated families under benchmarks/scenarios (``andon.sim.families``).
Each runs on its own seed and the next two (other sampled arrivals and durations); the rolling
``cpsat`` policy, the slow one, on the scenario's own seed only. Per (scenario,
seed): every policy's figures, the clairvoyant schedule (``andon.sim.clairvoyant``: CP-SAT with
perfect knowledge of that seed's world, warm-started from the best online trace, a deterministic
work budget) and its lower bound, and jit's share of the gap closed, (best rule - jit) / (best rule
- clairvoyant), where the best rule is the best of fifo, edf, slack and atc. Clairvoyant results
are deterministic, so they are kept in benchmarks/results/sched_clairvoyant.json and solved again
only when the scenario, the seed, the budget or the solver's model changes.

The (scenario, seed) pairs run on ``--jobs`` processes (all cores by default); the large case runs
alone afterwards, its re-plan time being a latency. Besides the per-pair verdicts, each scenario
is summarised over its seeds: jit's mean against the mean of the rule that is best on average, the
one rule a user would configure for that workload (a per-pair "best rule" is chosen after seeing
that seed's world).

Writes ``benchmarks/results/sched.json`` and ``benchmarks/results/sched.md``. Trace data derived
from WfCommons WfInstances (LGPL-3.0; attribution in ../shared/traces/wfcommons-wfinstances/
SOURCE.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from benchlib import REPO, RESULTS, Result, figure

from andon.sim.check import check_trace
from andon.sim.clairvoyant import MODEL_VERSION, solve
from andon.sim.generate import generate
from andon.sim.policies import ALL_POLICIES
from andon.sim.run import simulate
from andon.sim.scenario import Scenario, parse_scenario
from andon.sim.simulator import horizon
from andon.sim.wfcommons import convert

SHARED = REPO.parent / "shared"
OWN = REPO / "benchmarks" / "scenarios"
RULES = ("fifo", "edf", "slack", "atc")  # the classic rules jit must never lose to
CACHE = RESULTS / "sched_clairvoyant.json"


def scenarios(quick: bool) -> list[tuple[Scenario, str]]:
    """(scenario, digest of its definition) of every scenario the lab runs."""
    specs: list[tuple[dict[str, Any], str]] = []
    for path in sorted((SHARED / "scenarios").glob("*.json")):
        specs.append((json.loads(path.read_text()), str(path)))
    for path in sorted((SHARED / "traces/wfcommons-wfinstances").glob("*.json")):
        specs.append((convert(path, days=2 if quick else 3), f"wfcommons:{path.name}"))
    for path in sorted(OWN.glob("*.json")):
        specs.append((json.loads(path.read_text()), str(path)))
    return [(parse_scenario(spec, where),
             hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16])
            for spec, where in specs]


def verdict(rows: dict[str, dict[str, Any]], clair: dict[str, Any]) -> dict[str, Any]:
    """jit against the best classic rule and the clairvoyant optimum on one (scenario, seed)."""
    jit = rows["jit"]
    best_rule = min(RULES, key=lambda p: (rows[p]["weighted_tardiness_minutes"],
                                          rows[p]["deadline_misses"]))
    best_t = rows[best_rule]["weighted_tardiness_minutes"]
    fewest = min(rows[p]["deadline_misses"] for p in RULES)
    online = min(rows[p]["weighted_tardiness_minutes"] for p in rows if p != "bound")
    clair_t = min(clair["weighted_tardiness_minutes"], online)  # an online trace is a schedule too
    gap = best_t - clair_t
    closed = round((best_t - jit["weighted_tardiness_minutes"]) / gap, 3) if gap > 0.01 else None
    return {
        "best_rule": best_rule, "best_rule_tardiness": best_t, "best_rule_misses": fewest,
        "jit_misses": jit["deadline_misses"], "jit_tardiness": jit["weighted_tardiness_minutes"],
        "cpsat_tardiness": rows.get("cpsat", {}).get("weighted_tardiness_minutes"),
        "clairvoyant_misses": clair["deadline_misses"], "clairvoyant_tardiness": clair_t,
        "lower_bound": min(clair["lower_bound_minutes"], clair_t), "solver": clair["status"],
        # contended: late under every rule, and the bound leaves room below the best rule (the
        # solver may still not find a better schedule within its budget: closed is then None)
        "contended": fewest > 0 and best_t - clair["lower_bound_minutes"] > 0.01,
        "gap_closed": closed,
        "jit_no_more_misses": jit["deadline_misses"] <= fewest,
        "jit_no_more_tardiness": jit["weighted_tardiness_minutes"] <= best_t + 1e-6,
        "no_polling_no_waiting": all(
            rows[p]["polling_checks"] == 0 and rows[p]["slot_seconds_waiting"] == 0
            for p in rows if p not in ("cron", "cron-poke")),
    }


def _cache_key(name: str, seed: int, digest: str, budget: float) -> str:
    return f"{name}/{seed}/{digest}/{budget}/{MODEL_VERSION}"


def one_pair(job: tuple[Scenario, str, float, dict[str, Any] | None, bool]
             ) -> tuple[str, dict[str, dict[str, Any]], list[str], dict[str, Any], str]:
    """Every policy on one (scenario, seed), checked, and its clairvoyant schedule (``cached``
    when the cache has it): (name, policy -> metrics, invariant problems, clairvoyant, cache key).
    """
    sc, digest, budget, cached, own_seed = job
    rows: dict[str, dict[str, Any]] = {}
    traces = {}
    problems: list[str] = []
    for policy in ALL_POLICIES:
        if policy == "cpsat" and not own_seed:
            continue  # the rolling CP-SAT policy is the slow one: its own seed only
        metrics, res = simulate(sc, policy)
        rows[policy] = metrics
        if policy in (*RULES, "jit", "cpsat"):
            traces[policy] = res.trace
        found = check_trace(sc, res.trace, metrics, horizon(sc),
                            cords=policy not in ("cron", "cron-poke"), bounded=policy != "bound")
        problems += [f"{sc.name}/{sc.seed} {policy}: {p}" for p in found]
    key = _cache_key(sc.name, sc.seed, digest, budget)
    if cached is None:
        t0 = time.perf_counter()
        cached = {**dataclasses.asdict(solve(sc, traces, budget)),
                  "solve_s": round(time.perf_counter() - t0, 1)}
    return f"{sc.name}/{sc.seed}", rows, problems, cached, key


def scenario_means(table: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Per scenario, over its seeds: the rule best on average (least mean weighted tardiness,
    then fewest mean misses) and jit, each as mean misses and mean weighted tardiness."""
    by: dict[str, list[dict[str, dict[str, Any]]]] = {}
    for name, rows in table.items():
        by.setdefault(name.rsplit("/", 1)[0], []).append(rows)
    out = {}
    for scenario, seeds in by.items():
        def mean(policy: str, col: str, seeds: list[dict[str, dict[str, Any]]] = seeds) -> float:
            return round(sum(r[policy][col] for r in seeds) / len(seeds), 3)
        best = min(RULES, key=lambda p: (mean(p, "weighted_tardiness_minutes"),
                                         mean(p, "deadline_misses")))
        rule = (mean(best, "deadline_misses"), mean(best, "weighted_tardiness_minutes"))
        jit = (mean("jit", "deadline_misses"), mean("jit", "weighted_tardiness_minutes"))
        out[scenario] = {"seeds": len(seeds), "best_rule": best, "best_rule_misses": rule[0],
                         "best_rule_tardiness": rule[1], "jit_misses": jit[0],
                         "jit_tardiness": jit[1],
                         "jit_no_worse": jit[0] <= rule[0] and jit[1] <= rule[1] + 1e-6}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 days of each trace, small large")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per scenario (its own first)")
    parser.add_argument("--budget", type=float, default=2.0,
                        help="CP-SAT deterministic seconds per clairvoyant solve")
    parser.add_argument("--only", default="", help="run only scenarios whose name contains this")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                        help="(scenario, seed) pairs simulated at once (default: every core)")
    args = parser.parse_args()
    started = time.perf_counter()
    result = Result("sched", "every policy on every scenario and seed, against the clairvoyant "
                    "optimum (DESIGN.md section 4, issue 17)")
    cache: dict[str, Any] = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    table: dict[str, dict[str, dict[str, Any]]] = {}  # "name/seed" -> policy -> metrics
    verdicts: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    jobs = [(dataclasses.replace(base, seed=seed), digest, args.budget,
             cache.get(_cache_key(base.name, seed, digest, args.budget)), seed == base.seed)
            for base, digest in scenarios(args.quick) if args.only in base.name
            for seed in range(base.seed, base.seed + args.seeds)]
    with ProcessPoolExecutor(max(args.jobs, 1)) as pool:
        for name, rows, found, clair, key in pool.map(one_pair, jobs):
            table[name] = rows
            problems += found
            cache[key] = clair
            verdicts[name] = verdict(rows, clair)
            CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n")
            print(f"{name}: {verdicts[name]}", file=sys.stderr)
    means = scenario_means(table)
    n, days = (300, 7) if args.quick else (1000, 14)
    large = parse_scenario(generate(pipelines=n, days=days, slots=40), "generated")
    t0 = time.perf_counter()
    metrics, _ = simulate(large, "jit")
    wall = time.perf_counter() - t0
    total = time.perf_counter() - started
    vs = list(verdicts.values())
    contended = [v for v in vs if v["contended"]]
    closed = [v["gap_closed"] for v in contended if v["gap_closed"] is not None]
    result.add(
        figure("non-cron policies: polling checks and slot time waiting are 0 everywhere",
               0 if all(v["no_polling_no_waiting"] for v in vs) else 1, "bool", 1),
        figure("(scenario, seed) pairs where jit has more misses than the best rule",
               sum(not v["jit_no_more_misses"] for v in vs), "pairs", 1),
        figure("(scenario, seed) pairs where jit has more weighted tardiness than the best rule",
               sum(not v["jit_no_more_tardiness"] for v in vs), "pairs", 1),
        figure(f"contended pairs (of {len(contended)}; {len(closed)} where the clairvoyant "
               "schedule beats the best rule) where jit closes >= 50% of the gap to it",
               sum(c >= 0.5 for c in closed), "pairs"),
        figure("median share of the gap closed by jit on contended pairs",
               statistics.median(closed) if closed else 0.0, "ratio"),
        figure("scenarios where jit's mean over the seeds is worse (misses or weighted tardiness) "
               "than the mean of the rule best on average",
               sum(not m["jit_no_worse"] for m in means.values()), "scenarios", 1),
        figure("trace invariant violations", len(problems), "violations", 1),
        figure(f"replanning p99, {n} pipelines x {days} days x 40 slots", metrics["replan_ms_p99"],
               "ms", 20.0),
        figure(f"simulating {n} pipelines x {days} days x 40 slots end to end", wall, "s", 60.0),
        figure("make bench-sched wall time (clairvoyant solves cached)", total, "s"),
    )
    result.details = {"table": table, "verdicts": verdicts, "scenario_means": means,
                      "invariant_problems": problems[:50],
                      "large": {k: metrics[k] for k in metrics if k != "notes"},
                      "budget": args.budget, "seeds": args.seeds}
    RESULTS.mkdir(parents=True, exist_ok=True)
    result.write()
    (RESULTS / "sched.md").write_text(markdown(table, verdicts, means, metrics, wall, n, days,
                                                 total))
    return 0


COLS = ("deadline_misses", "weighted_tardiness_minutes", "max_lateness_minutes",
        "slot_seconds_waiting", "polling_checks", "wasted_runs", "runs", "utilisation",
        "replan_ms_p99")


def _closed(v: dict[str, Any]) -> str:
    if not v["contended"]:
        return "-"
    return "no better schedule found" if v["gap_closed"] is None else f"{v['gap_closed']:.0%}"


def markdown(table: dict[str, dict[str, dict[str, Any]]], verdicts: dict[str, dict[str, Any]],
             means: dict[str, dict[str, Any]], large: dict[str, Any], wall: float, n: int,
             days: int, total: float) -> str:
    lines = ["# Scheduler lab: every policy on every scenario and seed", "",
             "`make bench-sched` (benchmarks/bench_sched.py). Deliverables late or missing count as "
             "misses; tardiness is priority x minutes late. *Best rule*: the best of fifo, edf, "
             "slack and atc. *Clairvoyant*: CP-SAT with perfect knowledge of that seed's sampled "
             "arrivals and durations (`andon simulate --clairvoyant`), warm-started from the best "
             "online trace; *bound*: its lower bound. *Closed*: (best rule - jit) / (best rule - "
             "clairvoyant), on contended pairs (late under every rule, a gap to close). "
             "Traces: WfCommons WfInstances (LGPL-3.0, see "
             "../shared/traces/wfcommons-wfinstances/SOURCE.md), converted with "
             "`andon scenario from-trace` (3 days). The rolling `cpsat` policy runs on each scenario's own "
             "seed only. Generated families: benchmarks/scenarios "
             f"(`andon.sim.families`). Run time {total:.0f} s.", "",
             "| scenario/seed | best rule | misses | w.tardiness | jit misses | jit w.tardiness "
             "| cpsat w.tardiness | clairvoyant misses | clairvoyant w.tardiness | bound | closed |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, v in verdicts.items():
        mark = "" if v["jit_no_more_misses"] and v["jit_no_more_tardiness"] else " **(jit worse)**"
        lines.append(
            f"| {name}{mark} | {v['best_rule']} | {v['best_rule_misses']} | "
            f"{v['best_rule_tardiness']} | {v['jit_misses']} | {v['jit_tardiness']} | "
            f"{v['cpsat_tardiness']} | {v['clairvoyant_misses']} | {v['clairvoyant_tardiness']} | "
            f"{v['lower_bound']} | {_closed(v)} |")
    lines += ["", "## Each scenario over its seeds", "",
              "The mean over the seeds of the rule best on average (the one rule a user would "
              "configure for the workload) and of jit.", "",
              "| scenario | seeds | rule best on average | misses | w.tardiness | jit misses "
              "| jit w.tardiness |", "|---|---|---|---|---|---|---|"]
    for name, m in means.items():
        mark = "" if m["jit_no_worse"] else " **(jit worse)**"
        lines.append(f"| {name}{mark} | {m['seeds']} | {m['best_rule']} | "
                     f"{m['best_rule_misses']} | {m['best_rule_tardiness']} | {m['jit_misses']} | "
                     f"{m['jit_tardiness']} |")
    lines += ["", f"## Large: {n} pipelines x {days} days x 40 slots (jit)", "",
              f"end to end {wall:.1f} s; replanning p50 {large['replan_ms_p50']} ms, "
              f"p99 {large['replan_ms_p99']} ms; {large['runs']} runs, "
              f"{large['deadline_misses']} of {large['deliverables']} deliverables missed.", "",
              "## Every policy, each scenario's own seed", ""]
    for name, rows in table.items():
        lines += [f"### {name}", "", "| policy | " + " | ".join(COLS) + " |",
                  "|---" * (len(COLS) + 1) + "|"]
        for policy, m in rows.items():
            note = " (fell back: " + "; ".join(m["notes"]) + ")" if m.get("notes") else ""
            lines.append(f"| {policy}{note} | " + " | ".join(str(m[c]) for c in COLS) + " |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        sys.exit(main())
