"""Turn a WfCommons workflow instance (WfFormat JSON) into a scenario, so that the lab runs on
real workflow shapes. The assumptions are stated in docs/scenarios.md:

- each task is a pipeline; its recorded runtime is the p50 of a log-normal with the stated noise
  (p90 = p50 x exp(1.2816 x noise)); every run also pays a 5 s start-up;
- a task reads the outputs of its parents; root tasks read the one source, ``trigger``, which lands
  daily 1 h after the partition ends (jitter 15 min, 10 % late by 1 h);
- sink tasks are the deliverables: due at arrival + critical path x ``deadline_factor``, priority 2
  (others 1); the cron baseline starts each task at arrival + its earliest start on the critical
  path (a schedule a careful person would write);
- one pool, ``default``, with ``slots`` slots (default: half the workflow's average parallelism,
  work / critical path, at least 2), so that capacity matters.

Data derived from the WfCommons WfInstances (LGPL-3.0; see ../shared/traces/wfcommons-wfinstances/
SOURCE.md for the attribution).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

from andon.model.errors import ConfigError

ARRIVAL_AFTER = 3600.0
Z90 = 1.2815515655446004


def _name(task_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", task_id)


def _fmt(seconds: float) -> str:
    return f"{max(seconds, 0.001):.3f}s"


def convert(path: Path, days: int = 7, slots: int | None = None, deadline_factor: float = 1.5,
            noise: float = 0.4, seed: int = 1) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        spec = data["workflow"]["specification"]["tasks"]
        runtimes = {t["id"]: float(t.get("runtimeInSeconds") or 0.0)
                    for t in data["workflow"]["execution"]["tasks"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{path} is not a WfCommons instance: {exc}",
                          hint="give a WfFormat JSON file (workflow.specification.tasks)") from None
    parents = {t["id"]: list(t.get("parents") or []) for t in spec}
    order: list[str] = []
    seen: set[str] = set()

    def visit(tid: str) -> None:  # depth-first topological order (the instances are DAGs)
        stack = [(tid, False)]
        while stack:
            node, done = stack.pop()
            if done:
                if node not in seen:
                    seen.add(node)
                    order.append(node)
                continue
            if node in seen:
                continue
            stack.append((node, True))
            stack.extend((p, False) for p in parents[node] if p not in seen)

    for t in spec:
        visit(t["id"])
    earliest: dict[str, float] = {}
    for tid in order:
        earliest[tid] = max((earliest[p] + runtimes.get(p, 0.0) for p in parents[tid]), default=0.0)
    finish = {tid: earliest[tid] + runtimes.get(tid, 0.0) for tid in order}
    critical = max(finish.values(), default=0.0)
    work = sum(runtimes.get(t, 0.0) for t in order)
    if slots is None:
        slots = max(2, math.ceil(work / max(critical, 1.0) / 2))
    has_child = {p for tid in order for p in parents[tid]}
    spread = math.exp(Z90 * noise)
    pipelines = []
    for tid in order:
        runtime = max(runtimes.get(tid, 0.0), 1.0)
        pipe: dict[str, Any] = {
            "name": _name(tid),
            "inputs": [f"out_{_name(p)}" for p in parents[tid]] or ["trigger"],
            "outputs": [f"out_{_name(tid)}"], "pool": "default", "slots": 1,
            "priority": 1 if tid in has_child else 2,
            "duration": {"p50": _fmt(runtime), "p90": _fmt(runtime * spread)},
            "startup": "5s", "cron": _fmt(ARRIVAL_AFTER + earliest[tid]),
        }
        if tid not in has_child:
            pipe["deadline"] = _fmt(ARRIVAL_AFTER + critical * deadline_factor)
        pipelines.append(pipe)
    return {
        "name": f"wf-{path.stem}", "start": "2026-01-05T00:00:00Z", "days": days, "seed": seed,
        "source": "WfCommons WfInstances (LGPL-3.0), see SOURCE.md; converted by andon",
        "pools": {"default": slots},
        "sources": [{"name": "trigger", "partitions": "daily",
                     "arrival": {"after": "1h", "jitter": "15m", "late_probability": 0.1,
                                 "late_by": "1h"}}],
        "pipelines": pipelines,
        "incidents": [],
    }
