"""Generate synthetic scenarios of any size (layered random DAGs) for load and latency tests."""

from __future__ import annotations

import random
from typing import Any


def generate(pipelines: int = 1000, days: int = 14, slots: int = 40, sources: int = 20,
             seed: int = 1, layers: int = 12) -> dict[str, Any]:
    """A scenario (DESIGN.md section 4) with ``pipelines`` in ``layers`` layers, each reading
    1-3 outputs of earlier layers (or sources), one pool of ``slots`` slots plus a small heavy
    pool, deadlines on about a third of the last layer's pipelines and a tenth of the others."""
    rng = random.Random(seed)
    srcs: list[dict[str, Any]] = [{"name": f"src_{i:03d}", "partitions": "daily",
             "arrival": {"after": f"{rng.randint(30, 180)}m", "jitter": f"{rng.randint(5, 40)}m",
                         "late_probability": 0.1, "late_by": f"{rng.randint(30, 120)}m"}}
            for i in range(sources)]
    per_layer = max(pipelines // layers, 1)
    produced: list[list[str]] = [[s["name"] for s in srcs]]
    out = []
    for i in range(pipelines):
        layer = min(i // per_layer, layers - 1)
        while len(produced) <= layer + 1:
            produced.append([])
        pool_from = [a for lvl in produced[: layer + 1] for a in lvl]
        inputs = sorted(set(rng.sample(pool_from, k=min(len(pool_from), rng.randint(1, 3)))))
        p50 = rng.choice([1, 2, 3, 5, 8, 13, 20])
        pipe: dict[str, Any] = {
            "name": f"p_{i:04d}", "inputs": inputs, "outputs": [f"a_{i:04d}"],
            "pool": "heavy" if rng.random() < 0.05 else "default", "slots": 1,
            "priority": rng.choice([1, 1, 2, 3]),
            "duration": {"p50": f"{p50}m", "p90": f"{round(p50 * 1.6, 1)}m"},
            "startup": "10s", "cron": f"{180 + 20 * layer}m",
        }
        if rng.random() < (0.33 if layer == layers - 1 else 0.1):
            pipe["deadline"] = f"{240 + 30 * layer}m"
        out.append(pipe)
        produced[layer + 1].append(f"a_{i:04d}")
    return {"name": f"generated-{pipelines}x{days}", "start": "2026-01-05T00:00:00Z",
            "days": days, "seed": seed, "pools": {"default": slots, "heavy": 2},
            "sources": srcs, "pipelines": out, "incidents": []}
