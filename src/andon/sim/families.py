"""Families of contended scenarios for the scheduler lab (issue 17: generalisation, not tuning).

Each family stresses one thing a dispatching rule can get wrong; ``family(kind, seed)`` draws one
member (a scenario dict, DESIGN.md section 4). The members committed under
``benchmarks/scenarios/`` were written by ``python -m andon.sim.families DIR``; the bench runs each
on three seeds of arrivals and durations. Sizes are kept small enough (20-60 pipelines, 3 days)
that the clairvoyant optimum (``andon.sim.clairvoyant``) can be solved for every seed.

- ``wide``: one source fans out to many pipelines of one pool, deadlines staggered;
- ``deep``: a few long chains in one pool, deadlines at the chain ends, plus short filler work;
- ``tight``: a layered graph whose work fills about 95 % of the slots between arrival and due time;
- ``bursts``: several sources, each often late by hours, so work lands in bursts near deadlines;
- ``priorities``: priorities 1-5, the urgent work long and the cheap work short (WSPT vs EDF);
- ``gpu``: a single-slot ``gpu`` pool of long runs between CPU steps (a GPU-like bottleneck).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

KINDS = ("wide", "deep", "tight", "bursts", "priorities", "gpu")


def _source(name: str, after: int, jitter: int, late_p: float, late_by: int) -> dict[str, Any]:
    return {"name": name, "partitions": "daily",
            "arrival": {"after": f"{after}m", "jitter": f"{jitter}m",
                        "late_probability": late_p, "late_by": f"{late_by}m"}}


def _pipe(name: str, inputs: list[str], p50: float, *, pool: str = "default", priority: int = 1,
          deadline: int | None = None, spread: float = 1.5) -> dict[str, Any]:
    pipe: dict[str, Any] = {
        "name": name, "inputs": inputs, "outputs": [f"{name}_out"], "pool": pool, "slots": 1,
        "priority": priority, "duration": {"p50": f"{p50:.1f}m", "p90": f"{p50 * spread:.1f}m"},
        "startup": "10s", "cron": "240m"}
    if deadline is not None:
        pipe["deadline"] = f"{deadline}m"
    return pipe


def _wide(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source("feed", 60, 20, 0.15, 90)]
    pipes = [_pipe(f"w{i:02d}", ["feed"], rng.choice([4, 6, 8, 12, 20, 30]),
                   priority=rng.choice([1, 1, 2, 3]), deadline=rng.randint(90, 200))
             for i in range(36)]
    return {"default": 3}, sources, pipes


def _deep(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source(f"s{c}", rng.randint(40, 100), 20, 0.1, 60) for c in range(4)]
    pipes = []
    for c in range(4):
        prev = f"s{c}"
        for d in range(8):
            last = d == 7
            name = f"c{c}_{d}"
            pipes.append(_pipe(name, [prev], rng.choice([5, 8, 10, 15]), priority=1 + c % 3,
                               deadline=rng.randint(150, 220) if last else None))
            prev = f"{name}_out"
    pipes += [_pipe(f"f{i:02d}", [f"s{i % 4}"], rng.choice([3, 5, 10]),
                    deadline=rng.randint(90, 200) if i % 3 == 0 else None) for i in range(14)]
    return {"default": 2}, sources, pipes


def _tight(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source(f"s{i}", rng.randint(30, 90), 15, 0.1, 45) for i in range(3)]
    layers: list[list[str]] = [[f"s{i}" for i in range(3)]]
    pipes = []
    for layer in range(4):
        made = []
        for j in range(8):
            name = f"l{layer}_{j}"
            ins = sorted(set(rng.sample(layers[-1], k=min(2, len(layers[-1])))))
            last = layer == 3
            pipes.append(_pipe(name, ins, rng.choice([6, 8, 10, 14]),
                               priority=rng.choice([1, 2, 3]),
                               deadline=rng.randint(140, 200) if last or j == 0 else None))
            made.append(f"{name}_out")
        layers.append(made)
    return {"default": 2}, sources, pipes


def _bursts(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source(f"s{i}", rng.randint(30, 60), 10, 0.4, rng.randint(120, 200))
               for i in range(5)]
    pipes = []
    for i in range(30):
        src = f"s{i % 5}"
        name = f"b{i:02d}"
        pipes.append(_pipe(name, [src], rng.choice([5, 8, 12, 18]), priority=rng.choice([1, 2]),
                           deadline=rng.randint(150, 260) if i % 2 == 0 else None))
    for i in range(10):  # a second stage joining two feeds
        ins = sorted({f"b{rng.randrange(30):02d}_out", f"b{rng.randrange(30):02d}_out"})
        pipes.append(_pipe(f"j{i:02d}", ins, rng.choice([4, 6, 10]), priority=rng.choice([2, 3]),
                           deadline=rng.randint(200, 300)))
    return {"default": 3}, sources, pipes


def _priorities(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source(f"s{i}", rng.randint(40, 80), 20, 0.1, 60) for i in range(3)]
    pipes = []
    for i in range(30):
        urgent = i % 3 == 0
        pipes.append(_pipe(f"m{i:02d}", [f"s{i % 3}"],
                           rng.choice([20, 30, 40]) if urgent else rng.choice([3, 5, 8]),
                           priority=rng.choice([4, 5]) if urgent else rng.choice([1, 2]),
                           deadline=rng.randint(120, 220)))
    return {"default": 3}, sources, pipes


def _gpu(rng: random.Random) -> tuple[dict[str, int], list[Any], list[Any]]:
    sources = [_source(f"s{i}", rng.randint(30, 90), 20, 0.15, 90) for i in range(4)]
    pipes = []
    for i in range(10):
        prep, train, score = f"prep{i}", f"train{i}", f"score{i}"
        pipes.append(_pipe(prep, [f"s{i % 4}"], rng.choice([4, 6, 10])))
        pipes.append(_pipe(train, [f"{prep}_out"], rng.choice([10, 15, 25, 40]), pool="gpu",
                           priority=rng.choice([1, 2, 3]), spread=1.8))
        pipes.append(_pipe(score, [f"{train}_out"], rng.choice([2, 4]),
                           priority=rng.choice([1, 2, 3]), deadline=rng.randint(120, 300)))
    for i in range(8):
        pipes.append(_pipe(f"etl{i}", [f"s{i % 4}"], rng.choice([5, 10, 20]),
                           deadline=rng.randint(120, 240) if i % 2 else None))
    return {"default": 3, "gpu": 1}, sources, pipes


_BUILDERS = {"wide": _wide, "deep": _deep, "tight": _tight, "bursts": _bursts,
             "priorities": _priorities, "gpu": _gpu}


def family(kind: str, seed: int = 1, days: int = 3) -> dict[str, Any]:
    """One member of family ``kind`` (one of ``KINDS``), drawn with ``seed``; the scenario's own
    seed (its sampled arrivals and durations) is ``seed`` too."""
    if kind not in _BUILDERS:
        raise ValueError(f"unknown scenario family {kind!r}; known: {', '.join(KINDS)}")
    pools, sources, pipes = _BUILDERS[kind](random.Random(f"{kind}/{seed}"))
    return {"name": f"{kind}-{seed}", "start": "2026-01-05T00:00:00Z", "days": days,
            "seed": seed, "source": "generated by andon.sim.families", "pools": pools,
            "sources": sources, "pipelines": pipes, "incidents": []}


def main(argv: list[str]) -> int:
    """Write one member of each family (seed 1) to the directory given."""
    out = Path(argv[0] if argv else ".")
    out.mkdir(parents=True, exist_ok=True)
    for kind in KINDS:
        (out / f"{kind}-1.json").write_text(json.dumps(family(kind, 1), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
