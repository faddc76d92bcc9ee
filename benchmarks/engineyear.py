"""A year of a layered project through the engine core, with snapshots and settled days out of
memory as ``andon up`` takes them (``andon.live.snapshots.StateKeeper``), for ``bench_memory``.

Each day every source's partition lands (fake clock: 01:00 after the partition's end), and every
run the engine starts succeeds 2 s later, exactly as ``benchprojects.generate_history`` feeds the
engine, and the keeper is told of each day's committed events, so it writes a snapshot every
``snapshot_every`` events. The events are numbered as the log would number them but not written
(their read models are not the engine's memory, and would take most of the time); the snapshots
are written to a real SQLite store. The engine's memory is the deep size of everything the scheduler keeps
for it: the engine state, the planner's learned statistics and the plan's at-risk book.
"""

from __future__ import annotations

import gc
import sys
import time
import types
from datetime import timedelta
from pathlib import Path
from typing import Any

from benchprojects import EngineFeed, layered_definitions, write_project

_SKIP = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.CodeType)


def deep_size(*roots: Any) -> int:
    """Bytes of every object reachable from ``roots`` (each counted once; classes, modules and
    functions left out: they are code, not state)."""
    seen: set[int] = set()
    todo = list(roots)
    total = 0
    while todo:
        obj = todo.pop()
        if id(obj) in seen or isinstance(obj, _SKIP):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        todo.extend(gc.get_referents(obj))
    return total


def year(root: Path, pipelines: int, days: int, every: int, marks: set[int],
         keep_days: int) -> dict[str, Any]:
    """Make ``days`` days of ``pipelines`` pipelines at ``root``; the engine's memory (MB) at the
    end of each day of ``marks``, with what the keeper did (``every`` 0: no snapshots, nothing
    leaves memory)."""
    from andon.live.snapshots import StateKeeper
    from andon.planner.live import LivePlan
    from andon.planner.policies import make_policy

    write_project(root, layered_definitions(pipelines), {"default": 8})
    line = EngineFeed(root, batch=20_000)
    # the log itself is not what is measured, and its read models would take most of the time
    # (a loaded machine): count the events as the log would number them, and keep only the
    # snapshots (and the settled days in them) in the real store
    logged = [0]

    def append(events: list[Any]) -> list[Any]:
        logged[0] += len(events)
        return list(events)

    line.store.append = append  # type: ignore[method-assign]
    line.store.last_seq = lambda: logged[0]  # type: ignore[method-assign]
    plan = LivePlan(line.graph, make_policy("fifo", line.graph))
    keeper = StateKeeper(line.graph, line.store, plan, every=every, keep_days=keep_days)
    first = line.project.start
    out: dict[str, Any] = {"marks": {}, "snapshot_s": []}
    t0 = time.perf_counter()
    for d in range(days):
        key = (first + timedelta(days=d)).strftime("%Y-%m-%d")
        now = first + timedelta(days=d + 1, hours=1)
        before = line.counts["events"] + len(line.pending)
        started = line.deliver(key, now)
        while started:
            run = line.state.runs[started.pop(0).run_id]
            now += timedelta(seconds=2)
            started += line.succeed(run, now)
            line.counts["runs"] += 1
        line.flush(force=True)
        keeper.since += line.counts["events"] - before  # as its runner listener counts them
        if every and keeper.since >= every:
            t1 = time.perf_counter()
            keeper.snapshot(line.state, now, background=False)
            out["snapshot_s"].append(time.perf_counter() - t1)
        if d + 1 in marks:
            gc.collect()
            out["marks"][d + 1] = {
                "engine_mb": deep_size(line.state, plan.planner.stats, plan.open, plan.count,
                                       plan.missed, keeper.departed) / 2**20,
                "runs_in_memory": len(line.state.runs),
                "partitions_in_memory": len(line.state.partitions),
                "days_out_of_memory": len(keeper.departed),
                "events": line.counts["events"],
                "elapsed_s": time.perf_counter() - t0,
            }
            if d + 1 == max(marks) or (d + 1) % 10 == 0:
                print(f"  day {d + 1}: engine {out['marks'][d + 1]['engine_mb']:.1f} MB, "
                      f"{len(line.state.runs)} runs and {len(keeper.departed)} settled days out "
                      f"of memory ({time.perf_counter() - t0:.0f} s)", flush=True)
    out["runs"] = line.counts["runs"]
    out["events"] = line.counts["events"]
    db = root / ".andon" / "andon.db"
    line.close()
    out["database_mb"] = sum(f.stat().st_size for f in db.parent.glob("andon.db*")) / 2**20
    return out
