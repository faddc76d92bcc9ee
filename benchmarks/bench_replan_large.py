"""The simulator's re-plan on 1,000 pipelines: ``make bench-sched``'s large case alone.

The generated scenario (``--pipelines`` x ``--days`` x ``--slots``) under jit, as
``bench_sched.py`` runs it at its end; ``replan_ms`` is the time of each policy call (issue 17,
item 5: p99 under 20 ms). ``bench_sched.py`` runs every scenario before it (and rewrites
``sched.json``); this runs the large case only, so the re-plan's figure can be measured on its
own. The trace's digest and the metrics say whether the decisions are those of another commit.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

from benchlib import Result, enable_bytecode, figure

TARGET_MS = 20.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--slots", type=int, default=40)
    args = parser.parse_args()
    enable_bytecode()
    from andon.sim.generate import generate
    from andon.sim.run import simulate
    from andon.sim.scenario import parse_scenario

    result = Result("replan_large", "the simulator's re-plan per dispatch decision under jit on "
                    "the generated large case of make bench-sched, alone")
    scenario = parse_scenario(generate(pipelines=args.pipelines, days=args.days,
                                       slots=args.slots), "generated")
    t0 = time.perf_counter()
    metrics, res = simulate(scenario, "jit")
    wall = time.perf_counter() - t0
    size = f"{args.pipelines} pipelines x {args.days} days x {args.slots} slots"
    result.add(
        figure(f"replanning p99, {size}", metrics["replan_ms_p99"], "ms", TARGET_MS),
        figure(f"replanning p50, {size}", metrics["replan_ms_p50"], "ms"),
        figure(f"simulating {size} end to end", wall, "s", 60.0))
    result.details = {
        "pipelines": args.pipelines, "days": args.days, "slots": args.slots,
        "trace_sha256_16": hashlib.sha256(repr(res.trace).encode()).hexdigest()[:16],
        "metrics": {k: v for k, v in metrics.items() if k != "notes"},
        "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    print(f"  replan p50 {metrics['replan_ms_p50']} ms p99 {metrics['replan_ms_p99']} ms; "
          f"{wall:.1f} s (load {result.details['loadavg_end']})", flush=True)
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
