"""The live planner's re-plan on the runner thread, on 1,000 pipelines, with jit's rollout on its
worker thread (``andon.live.advisor``) and without it.

The generated scenario of ``make bench-sched``'s large case (``--pipelines`` x ``--days`` x
``--slots``) drives the engine on the simulator's virtual clock; at each step the runner
thread's planning work is timed as ``andon up`` does it: the dispatch policy (jit's rule and
hold-back, with the advice applied when valid: ``live.advisor.Advised``) and the live plan
(``planner.live.LivePlan``: learn, and when the plan is stale, forecast again; above 300
pipelines, as in ``andon up``, the forecast runs in a forked child, ``live.forecaster``, and the
runner thread's share is the fork and taking the answer; ``worker_off_inline`` forecasts on the
runner thread, for comparison). The worker is a
real thread contending for the interpreter lock; the virtual clock runs far faster than a
live line, so most advice arrives stale: the figure is the runner thread's cost with the worker
busy, not the rollout's effect on lateness (that is ``make bench-sched``'s).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from datetime import datetime
from typing import Any

from benchlib import Result, enable_bytecode, figure, summary_stats

TARGET_MS = 20.0  # issue 17 item 5: re-plan p99 under 20 ms on 1,000 pipelines


def measure(pipelines: int, days: int, slots: int, worker: bool, forked: bool = True
            ) -> dict[str, Any]:
    enable_bytecode()
    from andon.events import Event
    from andon.live.advisor import Advised, dispatcher
    from andon.live.forecaster import ForkedPlan, live_plan
    from andon.model.graph import Graph
    from andon.planner.live import LivePlan, make_planner
    from andon.planner.state import PlanningState, R
    from andon.sim.generate import generate
    from andon.sim.scenario import parse_scenario
    from andon.sim.simulator import EngineSim

    scenario = parse_scenario(generate(pipelines=pipelines, days=days, slots=slots), "generated")

    class RunnerThread:
        """What the runner thread does with the planner, timed."""

        def __init__(self, graph: Graph) -> None:
            self.planner = make_planner("jit", graph)
            self.stats = self.planner.stats
            self.dispatch, self.advisor = dispatcher(graph, self.planner, worker, limit=None)
            # as the runner: in a forked child above 300 pipelines (``forked``), else in line
            self.plan = live_plan(graph, self.planner) if forked else LivePlan(graph, self.planner)
            self.now: datetime | None = None
            self.plan_ms: list[float] = []
            self.forecasts = 0  # steps that forecast (the others' events wait: ``LivePlan.fresh``)

        def __call__(self, graph: Graph, state: PlanningState, ready: list[R],
                     now: datetime) -> list[R]:
            return self.dispatch(graph, state, ready, now)

        def observe(self, state: PlanningState, events: list[Event]) -> None:
            t0 = time.perf_counter()
            self.plan.learn(state, events)
            assert self.now is not None
            if self.plan.stale(events, self.now):
                self.forecasts += 1
                self.plan.learn(state, self.plan.replan(state, self.now))
            self.plan_ms.append((time.perf_counter() - t0) * 1000)

    class Sim(EngineSim):
        def step(self, event: Event | None, now: datetime) -> None:
            thread.now = now
            super().step(event, now)

    sim = Sim(scenario, "jit")
    thread = RunnerThread(sim.graph)
    sim.policy = thread  # type: ignore[assignment]
    gc.collect()
    gc.freeze()  # the scenario and the loaded graph out of the collector's way, as `andon up` does
    t0 = time.perf_counter()
    result = sim.run()
    wall = time.perf_counter() - t0
    if thread.advisor is not None:
        thread.advisor.stop()
    forks = {}
    if isinstance(thread.plan, ForkedPlan):
        thread.plan.close()
        forks = {"forked": thread.plan.forked, "failed": thread.plan.failed}
    dispatch = result.replan_ms
    turn = [d + p for d, p in zip(dispatch, thread.plan_ms)]
    out: dict[str, Any] = {
        "worker": worker, "forecast_in": "child" if forks else "runner thread",
        "steps": len(dispatch), "stale_steps": thread.forecasts, **forks,
        "seconds": round(wall, 1),
        "dispatch_ms": summary_stats(dispatch), "live_plan_ms": summary_stats(thread.plan_ms),
        "turn_ms": summary_stats(turn), "loadavg_end": [round(x, 2) for x in os.getloadavg()]}
    if isinstance(thread.dispatch, Advised) and thread.advisor is not None:
        out["advice"] = {"evaluated": thread.advisor.evaluated, "failed": thread.advisor.failed,
                         "used": thread.dispatch.used, "stale": thread.dispatch.stale}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipelines", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--slots", type=int, default=40)
    args = parser.parse_args()
    result = Result("live_replan", "the runner thread's planning per engine step (jit's dispatch "
                    "with the rollout's advice, and the live plan's forecast, in a forked child "
                    "as `andon up` does above 300 pipelines, or in line), with the rollout on a "
                    "worker thread and without, on a generated scenario")
    runs = {}
    for name, worker, forked in (("worker_on", True, True), ("worker_off", False, True),
                                 ("worker_off_inline", False, False)):
        data = runs[name] = measure(args.pipelines, args.days, args.slots, worker, forked)
        turn, dispatch = data["turn_ms"], data["dispatch_ms"]
        print(f"  {name}: turn p50 {turn['p50']:.2f} ms p99 "
              f"{turn['p99']:.2f} ms; dispatch p99 {dispatch['p99']:.2f} ms; forecast p99 "
              f"{data['live_plan_ms']['p99']:.2f} ms; {data.get('advice', '')} "
              f"(load {data['loadavg_end']})", flush=True)
    on = runs["worker_on"]
    size = f"{args.pipelines} pipelines x {args.days} days x {args.slots} slots"
    result.add(
        figure(f"runner thread's re-plan per step (dispatch + live plan), p99, worker on, {size}",
               on["turn_ms"]["p99"], "ms", TARGET_MS),
        figure(f"dispatch (jit's rule and hold-back, advice applied), p99, worker on, {size}",
               on["dispatch_ms"]["p99"], "ms"),
        figure(f"runner thread's re-plan per step, p99, worker off, {size}",
               runs["worker_off"]["turn_ms"]["p99"], "ms", TARGET_MS),
        figure(f"live plan on the runner thread (forecast in a forked child), p99, worker off, "
               f"{size}", runs["worker_off"]["live_plan_ms"]["p99"], "ms"),
        figure(f"live plan forecasting on the runner thread itself, p99, worker off, {size}",
               runs["worker_off_inline"]["live_plan_ms"]["p99"], "ms"))
    result.details = {"pipelines": args.pipelines, "days": args.days, "slots": args.slots, **runs}
    print(f"-> {result.write()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
