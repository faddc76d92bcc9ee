"""A year of operations for the manual's benchmarks: a layered project (``benchprojects``' shape,
with retries, and deadlines on some pipelines) whose every day is made, with what goes wrong in
real life mixed in, written straight into a store through the pure engine core (as
``benchprojects.generate_history``) so every read model is projected by ``Store.append``.

What goes wrong (drawn with a fixed seed): a few % of runs fail; most failures are one of the
causes a flaky pipeline has (a recurring signature, ``bench_manual.CAUSES``' messages, with
varying numbers, ids and paths), some a one-off; most recover on a retry (the engine's own
retry, after its back-off), the rest fail for good and are re-run by a person the next hour
(a ``run.requested``); a missed deadline when a pipeline with a deadline failed for good; some
failing checks (warnings), and some cords pulled on final data sets and resolved as fixed.
"""

from __future__ import annotations

import json
import random
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench_manual import CAUSES
from benchprojects import (
    EngineFeed,
    layered_definitions,
    write_project,
)

DEADLINE_EVERY = 25  # every 25th pipeline has a deadline (6 h after its partition ends)
RETRIES = 2
GENERATED = "generated.json"  # in the state folder: what generate_year made (for --project)


def definitions(n: int) -> str:
    """``benchprojects.layered_definitions``' graph, every pipeline with ``RETRIES`` retries and
    every ``DEADLINE_EVERY``-th one a deadline."""
    return layered_definitions(n, options=f', retries={RETRIES}, deadline="6h" if i % '
                                          f'{DEADLINE_EVERY} == 0 else None')


class Trouble:
    """Who fails how: 15% of the pipelines are flaky, each with one to three causes of its own
    (signatures that recur); a flaky pipeline's run fails 15% of the time, any other's 0.5%
    (a one-off cause). Half the failing runs recover on a retry."""

    def __init__(self, pipelines: list[str], seed: int = 12) -> None:
        self.rng = random.Random(seed)
        self.causes: dict[str, list[int]] = {}
        for name in pipelines:
            if self.rng.random() < 0.15:
                self.causes[name] = self.rng.sample(range(len(CAUSES)), self.rng.randint(1, 3))

    def attempts_failing(self, pipeline: str) -> int:
        """How many attempts of this partition fail: 0, 1 or 2 (then a retry works), or all."""
        p = 0.15 if pipeline in self.causes else 0.005
        if self.rng.random() >= p:
            return 0
        r = self.rng.random()
        return 1 if r < 0.4 else 2 if r < 0.5 else RETRIES + 1

    def failure(self, pipeline: str) -> tuple[str, str, tuple[Any, ...]]:
        """(exception, message, frames) of one failing attempt."""
        from andon.events import Frame

        cause = self.rng.choice(self.causes.get(pipeline) or range(len(CAUSES)))
        _, exc, frame, make = CAUSES[cause]
        outer = Frame("pipelines.py", "noop")
        return exc, make(self.rng), (outer, frame)


def generate_year(root: Path, pipelines: int, days: int, batch: int = 5000) -> dict[str, Any]:
    """Write the project at ``root`` and ``days`` days of its history into its store; return
    counts (events, runs, failed attempts, failures for good, re-runs, checks, cords, missed)."""
    from andon.engine.cords import cord_id_for
    from andon.engine.core import decide
    from andon.events import (
        CheckFailed,
        CordPulled,
        CordResolved,
        DeliverableMissed,
        RunFailed,
        RunRequested,
        RunStarted,
    )

    write_project(root, definitions(pipelines), {"default": 8})
    line = EngineFeed(root, batch)
    project, graph, settings, state = line.project, line.graph, line.settings, line.state
    pending, counts, flush = line.pending, line.counts, line.flush
    trouble = Trouble(list(graph.pipelines))
    rng = random.Random(7)
    counts.update({"failed_attempts": 0, "failed_for_good": 0, "reruns": 0, "checks_failed": 0,
                   "cords": 0, "missed": 0, "flaky_pipelines": len(trouble.causes)})
    leaves = sorted(f"a{i:04d}" for i in range(pipelines) if not graph.consumers.get(f"a{i:04d}"))

    def feed(event: Any, now: datetime) -> list[str]:
        return [e.run_id for e in line.feed(event, now)]

    def later(now: datetime) -> list[str]:
        """What starts once a back-off is over (the live runner's wake-up)."""
        out = decide(graph, state, now)
        pending.extend(out.events)
        return [e.run_id for e in out.events if isinstance(e, RunStarted)]

    def drain(started: list[str], now: datetime, failing: dict[str, int]) -> datetime:
        """Run what started (and what that starts) to the end; return the clock after it."""
        nonlocal pid
        while started:
            run = state.runs[started.pop(0)]
            now += timedelta(milliseconds=50)
            pid += 1
            line.launch(run, now, pid)
            now += timedelta(seconds=2)
            if run.attempt == 1 and run.pipeline not in failing:
                failing[run.pipeline] = trouble.attempts_failing(run.pipeline)
            fails = failing[run.pipeline] >= run.attempt and run.reason != "manual"
            counts["runs"] += 1
            if fails:
                exc, message, frames = trouble.failure(run.pipeline)
                counts["failed_attempts"] += 1
                started += feed(RunFailed(
                    id=f"ended:{run.run_id}", at=now, run_id=run.run_id, pipeline=run.pipeline,
                    partition=run.partition, attempt=run.attempt, queue_seconds=0.0,
                    startup_seconds=0.05, work_seconds=2.0, exit_code=1, error_type=exc,
                    error_message=message, inputs=run.inputs, frames=frames), now)
                if run.attempt <= RETRIES:
                    now += graph.pipelines[run.pipeline].retry_backoff(run.attempt)
                    started += later(now)
                    continue
                # failed for good: a person re-runs it within the hour (a deadline missed)
                counts["failed_for_good"] += 1
                pipe = graph.pipelines[run.pipeline]
                due = datetime.fromisoformat(run.partition).replace(tzinfo=first.tzinfo) + timedelta(
                    days=1) + (pipe.deadline or timedelta(0))
                now += timedelta(minutes=rng.randint(10, 60))
                if pipe.deadline is not None:
                    now = max(now, due + timedelta(minutes=5))
                    counts["missed"] += 1
                    pending.append(DeliverableMissed(
                        id=f"missed:{run.pipeline}:{run.partition}", at=now, pipeline=run.pipeline,
                        partition=run.partition, due=due, reason=f"run {run.run_id} failed"))
                counts["reruns"] += 1
                started += feed(RunRequested(at=now, pipeline=run.pipeline, partition=run.partition,
                                             reason="manual", requested_by="oncall"), now)
                continue
            started += [e.run_id for e in line.succeed(run, now, str(run.attempt))]
        return now

    t_start = time.perf_counter()
    first = project.start
    pid = 100_000
    for d in range(days):
        key = (first + timedelta(days=d)).strftime("%Y-%m-%d")
        now = first + timedelta(days=d + 1, hours=1)
        failing: dict[str, int] = {}  # pipeline -> attempts of today's partition that fail
        started = [e.run_id for e in line.deliver(key, now)]
        now = drain(started, now, failing)
        # the day's checks and cords, on final data sets (nothing downstream to halt)
        for asset in rng.sample(leaves, min(len(leaves), 3)):
            if rng.random() < 0.5:
                counts["checks_failed"] += 1
                pending.append(CheckFailed(
                    id=f"check:{asset}:{key}:rows", at=now, asset=asset, partition=key,
                    version=1, check="row_count", blocking=False,
                    numbers={"rows": rng.randint(0, 90)},
                    message=f"{rng.randint(0, 90)} rows, fewer than the 100 expected"))
        if rng.random() < 0.15:
            asset = rng.choice(leaves)
            cord_id = cord_id_for(asset, key, 1)
            counts["cords"] += 1
            now = drain(feed(CordPulled(
                id=f"cord:{cord_id}", at=now, cord_id=cord_id, asset=asset, partition=key,
                version=1, by="analyst",
                reason=f"totals off by {rng.randint(2, 40)}% against the ledger"), now),
                now, failing)
            now += timedelta(hours=rng.randint(1, 6))
            now = drain(feed(CordResolved(
                id=f"resolved:{cord_id}:1", at=now, cord_id=cord_id, by="analyst",
                note="the ledger was late; the data was right", manual_fix=True), now),
                now, failing)
        flush()
    line.close()
    counts["generate_s"] = time.perf_counter() - t_start
    counts.update(pipelines=pipelines, days=days)
    (settings.state_dir / GENERATED).write_text(json.dumps(counts, indent=2) + "\n")
    return counts

