"""The classic baselines: a time-based scheduler with sensors, as other orchestrators run it.

``cron``: at its fixed time each partition's task checks its upstreams; while any is missing it
checks again with exponential back-off (5 minutes doubling to at most an hour), holding no slot
(a sensor in "reschedule" mode); once they are there it waits for a pool slot and runs.
``cron-poke``: the same, but the task takes its slot at the fixed time and holds it while it polls
(a sensor in "poke" mode); after an hour without data it gives up, frees the slot and tries again
ten minutes later. Poking sensors can starve the very upstreams they wait for.

Nothing halts on an incident: bad data flows on until the resolution; then the partition and
everything downstream of it are re-run, in dependency order, as a backfill would.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from andon.events.codec import format_time
from andon.model.status import RunStatus
from andon.sim.sampling import run_duration
from andon.sim.scenario import Scenario
from andon.sim.simulator import Agenda, SimResult, arrivals, horizon, incident_record

FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=1)
POKE_TIMEOUT = timedelta(hours=1)
POKE_RETRY = timedelta(minutes=10)


@dataclass
class _Task:
    pipeline: str
    partition: str
    backfill: bool = False
    delay: timedelta = FIRST_RETRY
    acquired: datetime | None = None
    poke_since: datetime | None = None


class CronSim:
    def __init__(self, scenario: Scenario, poke: bool) -> None:
        self.sc = scenario
        self.graph = scenario.graph
        self.poke = poke
        self.agenda = Agenda()
        self.trace: list[dict[str, Any]] = []
        self.version: dict[tuple[str, str], int] = {}
        self.made_at: dict[tuple[str, str, int], datetime] = {}
        self.free = {name: pool.capacity for name, pool in self.graph.pools.items()}
        self.waiting: dict[str, deque[_Task]] = {name: deque() for name in self.graph.pools}
        self.work_runs: dict[tuple[str, str], int] = {}
        self.redo: set[tuple[str, str]] = set()  # backfill: (pipeline, key) still to re-run
        self._pending_backfill: list[tuple[str, str]] = []  # redo whose inputs are not there yet

    # -- data ------------------------------------------------------------------------------------

    def _inputs_present(self, task: _Task) -> list[tuple[str, str, int]] | None:
        refs = []
        for asset, key in self.graph.input_keys(task.pipeline, task.partition):
            v = self.version.get((asset, key), 0)
            if v == 0:
                return None
            producer = self.graph.producer.get(asset)
            if task.backfill and producer and (producer, key) in self.redo:
                return None  # the backfill waits for its upstream's re-run
            refs.append((asset, key, v))
        return refs

    def _make(self, asset: str, key: str, now: datetime) -> int:
        v = self.version.get((asset, key), 0) + 1
        self.version[(asset, key)] = v
        self.made_at[(asset, key, v)] = now
        return v

    # -- the scheduler ---------------------------------------------------------------------------

    def _check(self, task: _Task, now: datetime) -> None:
        """A reschedule-mode sensor check (no slot held)."""
        if self._inputs_present(task) is not None:
            self._want_slot(task, now)
            return
        self.trace.append({"type": "check", "pipeline": task.pipeline,
                           "partition": task.partition, "at": format_time(now)})
        self.agenda.push(now + task.delay, "check", task)
        task.delay = min(task.delay * 2, MAX_RETRY)

    def _want_slot(self, task: _Task, now: datetime) -> None:
        self.waiting[self.graph.pipelines[task.pipeline].pool].append(task)
        self._dispatch(now)

    def _dispatch(self, now: datetime) -> None:
        for pool, queue in self.waiting.items():
            while queue:
                task = queue[0]
                slots = self.graph.pipelines[task.pipeline].slots
                if self.free[pool] < slots:
                    break
                queue.popleft()
                self.free[pool] -= slots
                task.acquired = now
                if self.poke and not task.backfill:
                    task.poke_since = now
                    self._poke(task, now)
                else:
                    self._work(task, now)

    def _poke(self, task: _Task, now: datetime) -> None:
        """A poke-mode sensor check while holding the slot."""
        assert task.acquired is not None and task.poke_since is not None
        if self._inputs_present(task) is not None:
            self._work(task, now)
            return
        self.trace.append({"type": "check", "pipeline": task.pipeline,
                           "partition": task.partition, "at": format_time(now)})
        if now - task.poke_since >= POKE_TIMEOUT:  # give up, free the slot, retry later
            pipe = self.graph.pipelines[task.pipeline]
            self.trace.append(self._record(task, now, now, RunStatus.FAILED.value, [], []))
            self.free[pipe.pool] += pipe.slots
            task.acquired = task.poke_since = None
            task.delay = FIRST_RETRY
            self.agenda.push(now + POKE_RETRY, "want_slot", task)
            self._dispatch(now)
            return
        wait = min(task.delay, task.poke_since + POKE_TIMEOUT - now)
        task.delay = min(task.delay * 2, MAX_RETRY)
        self.agenda.push(now + wait, "poke", task)

    def _work(self, task: _Task, now: datetime) -> None:
        refs = self._inputs_present(task)
        assert refs is not None
        sim = self.sc.pipelines[task.pipeline]
        n = self.work_runs.get((task.pipeline, task.partition), 0) + 1
        self.work_runs[(task.pipeline, task.partition)] = n
        end = now + sim.startup + run_duration(self.sc, task.pipeline, task.partition, n)
        self.agenda.push(end, "end", (task, now, refs))

    def _end(self, task: _Task, work_start: datetime, refs: list[tuple[str, str, int]],
             now: datetime) -> None:
        pipe = self.graph.pipelines[task.pipeline]
        outs = [(o, task.partition, self._make(o, task.partition, now)) for o in pipe.outputs]
        self.trace.append(self._record(task, work_start, now, RunStatus.SUCCEEDED.value, refs, outs))
        self.free[pipe.pool] += pipe.slots
        if task.backfill:
            self.redo.discard((task.pipeline, task.partition))
            self._release_backfill(now)
        self._dispatch(now)

    def _record(self, task: _Task, work_start: datetime, end: datetime, status: str,
                refs: list[tuple[str, str, int]], outs: list[tuple[str, str, int]]) -> dict[str, Any]:
        pipe = self.graph.pipelines[task.pipeline]
        assert task.acquired is not None
        return {"type": "run", "pipeline": task.pipeline, "partition": task.partition,
                "attempt": self.work_runs.get((task.pipeline, task.partition), 0),
                "pool": pipe.pool, "slots": pipe.slots, "acquired": format_time(task.acquired),
                "work_start": format_time(work_start), "end": format_time(end), "status": status,
                "inputs": [{"asset": a, "partition": k, "version": v} for a, k, v in refs],
                "outputs": [{"asset": a, "partition": k, "version": v} for a, k, v in outs]}

    # -- incidents: a backfill after the resolution ---------------------------------------------

    def _resolve(self, asset: str, key: str, now: datetime) -> None:
        producer = self.graph.producer.get(asset)
        todo = [(producer, key)] if producer else []
        if producer is None:
            self._make(asset, key, now)
            self.trace.append({"type": "arrival", "asset": asset, "partition": key,
                               "at": format_time(now), "version": self.version[(asset, key)]})
        frontier = [(asset, key)]
        seen = set(todo)
        while frontier:
            a, k = frontier.pop()
            for consumer, ck in self.graph.consumer_keys(a, k):
                if (consumer, ck) not in seen and ck in self.sc.keys:
                    seen.add((consumer, ck))
                    todo.append((consumer, ck))
                    frontier.extend((o, ck) for o in self.graph.pipelines[consumer].outputs)
        self.redo |= set(todo)
        self._pending_backfill = self._pending_backfill + todo
        self._release_backfill(now)

    def _release_backfill(self, now: datetime) -> None:
        pending = self._pending_backfill
        still = []
        for pipeline, key in pending:
            task = _Task(pipeline, key, backfill=True)
            if (pipeline, key) in self.redo and self._inputs_present(task) is not None:
                self._want_slot(task, now)
            else:
                still.append((pipeline, key))
        self._pending_backfill = [t for t in still if t in self.redo]

    def run(self) -> SimResult:
        sc = self.sc
        stop = horizon(sc)
        for at, source, key in arrivals(sc):
            self.agenda.push(at, "arrival", (source, key))
        for name, sim in sc.pipelines.items():
            for key in sc.keys:
                at = self.graph.pipelines[name].partitions.end(key) + (sim.cron or timedelta(0))
                self.agenda.push(at, "want_slot" if self.poke else "cron", _Task(name, key))
        for inc in sc.incidents:
            self.agenda.push(inc.resolved, "resolved", inc)
            self.trace.append(incident_record(inc))
        for item in self.agenda.until(stop):
            now = item.at
            if item.kind == "arrival":
                source, key = item.data
                v = self._make(source, key, now)
                self.trace.append({"type": "arrival", "asset": source, "partition": key,
                                   "at": format_time(now), "version": v})
                self._release_backfill(now)
            elif item.kind in ("cron", "check"):
                self._check(item.data, now)
            elif item.kind == "want_slot":
                self._want_slot(item.data, now)
            elif item.kind == "poke":
                self._poke(item.data, now)
            elif item.kind == "end":
                task, work_start, refs = item.data
                self._end(task, work_start, refs, now)
            elif item.kind == "resolved":
                self._resolve(item.data.asset, item.data.partition, now)
        return SimResult(self.trace, [0.0])
