"""How well jit's rollout scores rank its candidates (issue 17): at every contended decision of a
jit simulation, each candidate is scored on the model worlds (p50, p90), on K sampled worlds, and
on the true world of that seed (the simulator's own durations and arrivals, which no policy
sees), each continued under the four rules. Reports, per scoring, how often its best candidate
is the true best, the rank correlation with the truth, and the true gain of the candidate its
decision rule would start over the base order's first run.

    PYTHONPATH=src python benchmarks/rollout_model.py [--only NAME] [--worlds 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from bench_sched import scenarios
from sched_subset import SUBSET

from andon.planner import rollout
from andon.planner.policies import Jit
from andon.sim.sampling import arrival_time, run_duration
from andon.sim.scenario import Scenario
from andon.sim.simulator import EngineSim


def truth(jit: Jit, sc: Scenario, key: str, now: float, load: Any) -> rollout.World:
    """The seed's own world: first attempts' durations (with start-up) of the day's runs,
    the sources' sampled arrivals, the executing runs' real ends."""
    durations = {p: (sc.pipelines[p].startup + run_duration(sc, p, key, 1)).total_seconds()
                 for p in jit.graph.pipelines}
    state = jit._state
    assert state is not None
    arrivals = {}
    for name in sc.sources:
        part = state.partitions.get((name, key))
        arrivals[name] = part.at.timestamp() if part is not None else \
            arrival_time(sc, name, key).timestamp()
    busy, running = [], {}
    for run in state.running():
        if run.started_at is None:
            continue
        took = sc.pipelines[run.pipeline].startup + run_duration(
            sc, run.pipeline, run.partition, run.attempt)
        end = max(run.started_at.timestamp() + took.total_seconds(), now)
        if run.partition == key:
            running[run.pipeline] = end
        else:
            busy.append((run.pool, run.slots, end))
    return rollout.World(durations, arrivals, busy, running)


def ranks(values: list[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    for r, i in enumerate(order):
        out[i] = float(r)
    return out


def spearman(a: list[float], b: list[float]) -> float:
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="")
    parser.add_argument("--worlds", type=int, default=8)
    args = parser.parse_args()
    rows: dict[str, list[dict[str, float]]] = {}
    for base, _ in scenarios(False):
        if base.name not in SUBSET or args.only not in base.name:
            continue
        for seed in range(base.seed, base.seed + 3):
            sc = dataclasses.replace(base, seed=seed)
            sim = EngineSim(sc, "jit")
            jit = sim.policy
            assert isinstance(jit, Jit)
            original = jit._roll_out

            def measured(ready: list[Any], out: list[Any], free: dict[str, int], now: float,
                         jit: Jit = jit, sc: Scenario = sc, original: Any = original,
                         name: str = base.name) -> list[Any]:
                cands = rollout.candidates(jit, ready, out, free, now)
                if cands:
                    key = max((r.partition for r in ready), key=lambda p: (len(p), p))
                    load = jit._load(key, now)
                    worlds = {
                        "p50": rollout.model_worlds(jit, load, jit._arrivals(key))[:1],
                        "p90": rollout.model_worlds(jit, load, jit._arrivals(key))[1:],
                        "sampled": rollout.sampled_worlds(jit, key, now, args.worlds),
                        "truth": [truth(jit, sc, key, now, load)]}
                    true = [v[0] for v in rollout.mean_value(
                        rollout.table(jit, key, now, cands, worlds["truth"], load))]
                    if max(true) - min(true) > 60:
                        row = {}
                        for model in ("p50", "p90", "sampled"):
                            tab = rollout.table(jit, key, now, cands, worlds[model], load)
                            vals = [v[0] for v in rollout.mean_value(tab)]
                            best = min(range(len(cands)), key=lambda i: vals[i])
                            row[f"{model} top"] = float(true[best] == min(true))
                            row[f"{model} rho"] = spearman(vals, true)
                            row[f"{model} gain"] = (true[0] - true[best]) / 60
                        row["oracle gain"] = (true[0] - min(true)) / 60
                        rows.setdefault(name, []).append(row)
                return original(ready, out, free, now)

            jit._roll_out = measured  # type: ignore[method-assign]
            sim.run()
        got = rows.get(base.name, [])
        if got:
            means = {k: sum(r[k] for r in got) / len(got) for k in got[0]}
            sums = {k: sum(r[k] for r in got) for k in got[0] if k.endswith("gain")}
            print(f"{base.name:32} n={len(got):4} " + " ".join(
                f"{k} {means[k]:.2f}" for k in means if not k.endswith("gain")) + " | gain " +
                " ".join(f"{k.split()[0]} {v:.0f}" for k, v in sums.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
