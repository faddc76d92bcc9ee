"""Settled days leave the engine state: memory bounded by the present, not the past.

A time-partitioned project makes new partitions every day, and the engine state keeps an entry
per partition made (its version, the runs that made it, the inputs they read, the run count):
a year of 1,000 daily pipelines is a year of entries, though only the last few days still move.
This module takes whole **days** out of the state once they are settled, as plain data the shell
keeps in the store (``andon.live.snapshots``), and puts them back before an event that could
touch them is folded in. A day is the date of a partition key (``2026-01-05``, and the hours
``2026-01-05T00`` .. ``T23``); an unpartitioned key never leaves.

Why this never changes a decision: a day leaves only when nothing of it is in flight or pending
(queued, running, requested, waiting, halted, under or touched by a cord, checks awaited) and it
lies before the horizon: ``keep_days`` before now, minus how far back any pipeline reads
(``reach_days``: a 7-day window reads 6 days back), so no partition still evaluated reads a
departed one; a day before the horizon that is busy keeps the reach before it too, for the
same reason (``evictable``). What happens to a settled partition later comes from an event that names it (a
late source delivery, a backfill, a cord): ``needs`` gives the departed days such an event may
touch (its own, the days after it a window carries a change to, ``spread_days``, and the reach
before them: data only flows forward in time), and the shell restores them first. Graphs whose
mappings are not known to look only back in time (a custom ``andon.mapped``, a model read
through ``andon.serving``, a time-partitioned pipeline reading an unpartitioned data set) keep
everything (``reach_days`` is None).

Pure: no I/O, no clock (``now`` is a parameter).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta
from typing import Any

from andon.engine.runs import Run
from andon.engine.snapshot import from_data, to_data
from andon.engine.state import EngineState, PartitionState
from andon.events import Event, PartitionRef
from andon.model.graph import Graph
from andon.model.partitions import Identity, LastN, Rollup

DAY_LENGTH = 10  # a day's part of a time partition key: YYYY-MM-DD
_ONE_DAY = timedelta(days=1)


def day_of(key: str) -> str | None:
    """The day of a time partition key, None for any other key (``all``)."""
    if len(key) >= DAY_LENGTH and key[4] == "-" and key[7] == "-" and key[:4].isdigit():
        return key[:DAY_LENGTH]
    return None


def reach_days(graph: Graph) -> int | None:
    """How many days before its own day a partition of some pipeline reads (0: none reads an
    earlier day), or None when the graph's mappings do not say (eviction is then off)."""
    if graph.serving or graph.model_producer:
        return None
    most = 0
    for pipe in graph.pipelines.values():
        for inp in pipe.inputs:
            up = graph.assets[inp.asset].partitions
            if up.is_time != pipe.partitions.is_time:
                return None
            mapping = inp.mapping
            if isinstance(mapping, LastN) and up.is_time:
                most = max(most, math.ceil((mapping.n - 1) * up.step / _ONE_DAY))
            elif not isinstance(mapping, (Identity, Rollup, LastN)):
                return None
    return most


def spread_days(graph: Graph, reach: int) -> int:
    """How many days after a changed day a change can still reach: a window re-makes the
    ``reach`` days after it, and the pipelines after that as many more, down the longest chain
    of pipelines (0 for a graph of same-day mappings only)."""
    if not reach:
        return 0
    depth: dict[str, int] = {}
    for name in graph.order:  # dependency order: producers first
        pipe = graph.pipelines[name]
        depth[name] = 1 + max((depth.get(graph.producer.get(i.asset, ""), 0) for i in pipe.inputs),
                              default=0)
    return reach * max(depth.values(), default=0)


def horizon(now: datetime, keep_days: int, reach: int) -> str:
    """The first day that stays: days before it may leave the state."""
    return (now - timedelta(days=keep_days + reach)).strftime("%Y-%m-%d")


def _keys_days(keys: Iterable[Any]) -> Iterator[str]:
    for key in keys:
        part = key[1] if isinstance(key, tuple) else getattr(key, "partition", None)
        day = day_of(part) if isinstance(part, str) else None
        if day is not None:
            yield day


def busy_days(state: EngineState) -> set[str]:
    """The days something of which is in flight or pending: they stay."""
    busy: set[str] = set()
    busy.update(_keys_days(state.active))
    busy.update(_keys_days(state.requests))
    busy.update(_keys_days(state.dirty))
    for key, waiters in state.waiting.items():
        busy.update(_keys_days([key, *waiters]))
    busy.update(_keys_days((r.pipeline, r.partition) for r in state.queue.values()))
    book = state.cords
    for cord in book.cords.values():
        busy.update(_keys_days([(cord.asset, cord.partition), *cord.halts, *cord.rerun]))
    busy.update(_keys_days(book.halted))
    busy.update(_keys_days(book.bad))
    busy.update(_keys_days(book.remaking))
    busy.update(_keys_days(book.recovering))
    busy.update(_keys_days(book.pulled))
    busy.update(_keys_days((k[0], k[1]) for k in book.awaiting_checks))
    busy.update(_keys_days((k[1], k[2]) for k in book.outputs))
    for run_id in state.cancels:
        run = state.runs.get(run_id)
        if run is not None:
            busy.add(day_of(run.partition) or "")
    for run in state.runs.values():
        day = day_of(run.partition)
        if day is None:
            continue
        if not run.status.ended or any((day_of(ref.partition) or "") > day for ref in run.inputs):
            busy.add(day)
    busy.discard("")
    return busy


def evictable(state: EngineState, before: str, reach: int) -> list[str]:
    """The days before ``before`` (a ``horizon``) that hold something and are settled: not busy
    (``busy_days``) and not among the ``reach`` (``reach_days``) days before a busy one, which
    its pending partitions read. A queued run, a request or a waiting partition is started or
    evaluated on an event that names none of the days it reads (another run ending frees a
    slot), so those days must be in memory then: the horizon alone keeps them only for the
    days after it, and a busy day may lie before it."""
    days = {d for d in _keys_days(state.partitions) if d < before}
    days.update(d for d in _keys_days(state.run_count) if d < before)
    held = {_shift(day, -back) for day in busy_days(state) for back in range(reach + 1)}
    return sorted(days - held)


def extract(state: EngineState, days: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Take every entry of ``days`` out of ``state``; each day's entries as JSON-ready data
    (``restore`` puts them back)."""
    wanted = set(days)
    if not wanted:
        return {}
    out: dict[str, dict[str, Any]] = {
        d: {"partitions": [], "runs": [], "last_end": [], "last_ok_inputs": [], "run_count": [],
            "checks_passed": []} for d in wanted}

    def take(name: str, table: dict[Any, Any], key_part: int,
             encode: Any = to_data) -> None:
        for key in [k for k in table if day_of(k[key_part]) in wanted]:
            value = table.pop(key)
            out[day_of(key[key_part]) or ""][name].append([to_data(key), encode(value)])

    take("partitions", state.partitions, 1)
    take("last_end", state.last_end, 1, lambda run: run.run_id)
    take("last_ok_inputs", state.last_ok_inputs, 1)
    take("run_count", state.run_count, 1)
    take("checks_passed", state.checks_passed, 1)
    for run_id in [r for r, run in state.runs.items() if day_of(run.partition) in wanted]:
        run = state.runs.pop(run_id)
        out[day_of(run.partition) or ""]["runs"].append(to_data(run))
    return out


def restore(state: EngineState, day: dict[str, Any]) -> None:
    """Put one day ``extract`` took back into ``state``; what the state holds already (newer)
    wins."""
    runs: dict[str, Run] = {}
    for data in day["runs"]:
        run = from_data(Run, data)
        runs[run.run_id] = state.runs.setdefault(run.run_id, run)
    for key, value in day["partitions"]:
        state.partitions.setdefault(from_data(tuple[str, str], key),
                                    from_data(PartitionState, value))
    for key, run_id in day["last_end"]:
        state.last_end.setdefault(from_data(tuple[str, str], key), runs[run_id])
    for key, value in day["last_ok_inputs"]:
        state.last_ok_inputs.setdefault(from_data(tuple[str, str], key),
                                        from_data(tuple[PartitionRef, ...], value))
    for key, value in day["run_count"]:
        state.run_count.setdefault(from_data(tuple[str, str], key), from_data(int, value))
    for key, value in day["checks_passed"]:
        state.checks_passed.setdefault(from_data(tuple[str, str, int], key), from_data(int, value))


def _partitions_named(value: Any) -> Iterator[str]:
    """Every partition key an event names: ``partition`` fields, those of the records it
    carries (inputs, outputs, halted partitions) and the partition inside run and cord ids."""
    if not is_dataclass(value):
        return
    for f in fields(value):
        item = getattr(value, f.name)
        if f.name == "partition" and isinstance(item, str):
            yield item
        elif f.name in ("run_id", "cord_id") and isinstance(item, str) and item.count(":") >= 2:
            yield item.split(":")[-2]
        elif isinstance(item, (tuple, list)):
            for sub in item:
                if isinstance(sub, str) and f.name in ("held", "cancelled", "finishing"):
                    if sub.count(":") >= 2:
                        yield sub.split(":")[-2]
                else:
                    yield from _partitions_named(sub)


def needs(event: Event, departed: Iterable[str], reach: int, spread: int) -> list[str]:
    """The departed days ``event`` may touch: from ``reach`` days before the earliest day it
    names (what a run of it reads) to ``spread`` days (``spread_days``) and that reach after the
    latest (what a change of it re-makes, and what those runs read)."""
    days = [d for d in (day_of(p) for p in _partitions_named(event)) if d is not None]
    if not days:
        return []
    first = _shift(min(days), -reach)
    last = _shift(max(days), spread + reach)
    return sorted(d for d in departed if first <= d <= last)


def _shift(day: str, n: int) -> str:
    return (datetime.strptime(day, "%Y-%m-%d") + timedelta(days=n)).strftime("%Y-%m-%d")
