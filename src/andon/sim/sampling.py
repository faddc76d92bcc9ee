"""Sampled arrivals and durations with common random numbers.

Every draw comes from its own generator seeded by (scenario seed, what, which partition, attempt),
so every policy sees exactly the same arrival of ``raw_orders 2026-01-07`` and the same duration of
the first attempt of ``clean_orders 2026-01-07``, however differently it schedules them.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta

from andon.sim.scenario import Duration, Scenario

Z90 = 1.2815515655446004  # the 90th percentile of the standard normal


def _rng(seed: int, *parts: object) -> random.Random:
    return random.Random("/".join(str(p) for p in (seed, *parts)))


def arrival_time(scenario: Scenario, source: str, key: str) -> datetime:
    """When partition ``key`` of ``source`` lands: end + after + U(-jitter, jitter) [+ late_by]."""
    arr = scenario.sources[source].arrival
    rng = _rng(scenario.seed, "arrival", source, key)
    end = scenario.graph.assets[source].partitions.end(key)
    jitter = arr.jitter.total_seconds()
    offset = arr.after.total_seconds() + rng.uniform(-jitter, jitter)
    if rng.random() < arr.late_probability:
        offset += arr.late_by.total_seconds()
    return end + timedelta(seconds=max(offset, 0.0))


def sample_duration(duration: Duration, rng: random.Random) -> timedelta:
    if duration.samples:
        return rng.choice(duration.samples)
    assert duration.p50 is not None
    p50 = max(duration.p50.total_seconds(), 0.001)
    p90 = max((duration.p90 or duration.p50).total_seconds(), p50)
    sigma = (math.log(p90) - math.log(p50)) / Z90
    return timedelta(seconds=math.exp(math.log(p50) + sigma * rng.gauss(0.0, 1.0)))


def run_duration(scenario: Scenario, pipeline: str, key: str, attempt: int) -> timedelta:
    """Work time of one attempt (the start-up time is added by the simulator)."""
    rng = _rng(scenario.seed, "duration", pipeline, key, attempt)
    return sample_duration(scenario.pipelines[pipeline].duration, rng)
