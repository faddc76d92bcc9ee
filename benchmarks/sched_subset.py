"""A quick look at one policy on a representative subset of ``make bench-sched`` (issue 17):
8 scenarios x 3 seeds, compared with the figures of the last full run (the rules and the
clairvoyant schedule do not change when jit does). For iterating on ``jit``; the full bench is
the record.

    PYTHONPATH=src python benchmarks/sched_subset.py [--policy jit] [--only NAME] [--jobs 2]
        [--set worlds=6 ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from bench_sched import scenarios
from benchlib import RESULTS

from andon.planner.policies import Jit
from andon.sim.run import simulate

SUBSET = ("contention", "gpu-1", "wide-1", "tight-1", "deep-1", "priorities-1", "midday-switch",
          "wf-srasearch-chameleon-10a-001")


def one(job: tuple[Any, int, str, dict[str, float]]) -> tuple[str, dict[str, Any], float]:
    base, seed, policy, knobs = job
    for name, value in knobs.items():  # a variant of jit to measure (``--set``)
        setattr(Jit, name, type(getattr(Jit, name))(value))
    t0 = time.perf_counter()
    metrics, _ = simulate(dataclasses.replace(base, seed=seed), policy)
    return f"{base.name}/{seed}", metrics, time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--policy", default="jit")
    parser.add_argument("--only", default="")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--holdout", action="store_true",
                        help="every other scenario of the bench instead (to check a change generalises)")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a class attribute of jit to try another value of (worlds=6)")
    args = parser.parse_args()
    knobs = {}
    for item in args.set:
        name, _, value = item.partition("=")
        if not isinstance(getattr(Jit, name, None), (int, float)):
            parser.error(f"--set {item}: jit has no numeric setting {name!r}")
        knobs[name] = float(value)
    last = json.loads((RESULTS / "sched.json").read_text())["details"]["verdicts"]
    jobs = [(base, seed, args.policy, knobs) for base, _ in scenarios(False)
            if (base.name in SUBSET) != args.holdout and args.only in base.name
            for seed in range(base.seed, base.seed + 3)]
    rows = []
    with ProcessPoolExecutor(args.jobs) as pool:
        for name, m, secs in pool.map(one, jobs):
            v = last[name]
            best, clair = v["best_rule_tardiness"], v["clairvoyant_tardiness"]
            wt = m["weighted_tardiness_minutes"]
            gap = best - clair
            closed = f"{(best - wt) / gap:.0%}" if gap > 0.01 else "-"
            worse = m["deadline_misses"] > v["best_rule_misses"] or wt > best + 1e-6
            rows.append((name, v["best_rule"], v["best_rule_misses"], best, v["jit_misses"],
                         v["jit_tardiness"], m["deadline_misses"], wt, clair, closed, worse))
            print(f"{name:40} best {v['best_rule']:5} {v['best_rule_misses']:3} {best:9.1f} | "
                  f"jit {v['jit_misses']:3} {v['jit_tardiness']:9.1f} | {args.policy} "
                  f"{m['deadline_misses']:3} {wt:9.1f} | clair {clair:9.1f} | closed {closed:>5}"
                  f"{' WORSE' if worse else ''} ({secs:.0f}s)", flush=True)
    before = sum(r[5] for r in rows)
    after = sum(r[7] for r in rows)
    print(f"total w.tardiness: jit before {before:.1f}, {args.policy} {after:.1f}; misses: jit "
          f"before {sum(r[4] for r in rows)}, {args.policy} {sum(r[6] for r in rows)}; "
          f"worse than the best rule on {sum(r[10] for r in rows)} of {len(rows)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
