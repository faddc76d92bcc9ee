"""The simulator: the engine core and a policy on a virtual clock, fed sampled arrivals and
durations. It never sleeps: time jumps from one happening to the next.

The event-driven policies (fifo, edf, slack, atc, jit, bound) run through exactly the code the
live runner runs (``andon.engine.core.handle`` with a planner policy). The two classic baselines
(cron, cron-poke) model other orchestrators and live in ``andon.sim.baselines``.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from andon.engine.cords import next_cord_id
from andon.engine.core import Decisions, decide, handle, next_wakeup
from andon.engine.runs import run_event_id
from andon.engine.state import EngineState
from andon.events import (
    CordPulled,
    CordResolved,
    Event,
    OutputWritten,
    PartitionAvailable,
    RunCancelled,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import format_time
from andon.model.definitions import Pool
from andon.model.graph import Graph
from andon.model.status import RunStatus
from andon.planner.policies import Planner, make_policy
from andon.sim.sampling import arrival_time, run_duration
from andon.sim.scenario import Incident, Scenario

UNBOUNDED = 10**9


def incident_record(inc: Incident) -> dict[str, Any]:
    """The trace record of a scenario incident (every simulator writes the same)."""
    return {"type": "incident", "asset": inc.asset, "partition": inc.partition,
            "detected": format_time(inc.detected), "resolved": format_time(inc.resolved)}


def arrivals(scenario: Scenario) -> list[tuple[datetime, str, str]]:
    """(when, source, partition) of every sampled source arrival (the same for every policy)."""
    return [(arrival_time(scenario, source, key), source, key)
            for source in scenario.sources for key in scenario.keys]


def horizon(scenario: Scenario) -> datetime:
    """7 days after the last partition's end."""
    last = scenario.keys[-1]
    return scenario.graph.assets[next(iter(scenario.sources))].partitions.end(last) + \
        timedelta(days=7) if scenario.sources else scenario.start + timedelta(days=scenario.days + 7)


@dataclass(order=True)
class Happening:
    """One entry of a simulator's agenda: what happens (``kind``, ``data``) at ``at``; ``seq``
    keeps equal times in the order they were scheduled."""

    at: datetime
    seq: int
    kind: str = field(compare=False)
    data: Any = field(compare=False)


class Agenda:
    """A simulator's agenda: happenings in time order, equal times in the order they were
    pushed."""

    def __init__(self) -> None:
        self._heap: list[Happening] = []
        self._seq = 0

    def push(self, at: datetime, kind: str, data: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, Happening(at, self._seq, kind, data))

    def until(self, stop: datetime) -> Iterator[Happening]:
        """Take the happenings in order up to ``stop`` (inclusive); what is pushed meanwhile
        takes its place among them. The first one after ``stop`` ends it."""
        while self._heap:
            item = heapq.heappop(self._heap)
            if item.at > stop:
                return
            yield item


@dataclass
class SimResult:
    trace: list[dict[str, Any]]
    replan_ms: list[float]
    notes: list[str] = field(default_factory=list)


class EngineSim:
    """Drive ``handle`` with a planner policy over one scenario."""

    def __init__(self, scenario: Scenario, policy: str) -> None:
        self.scenario = scenario
        graph = scenario.graph
        if policy == "bound":
            pools = {n: Pool(n, UNBOUNDED) for n in graph.pools}
            graph = replace(graph, pools=pools)
            policy = "fifo"
        self.graph: Graph = graph
        self.policy: Planner = make_policy(policy, graph)
        self.state = EngineState()
        self.agenda = Agenda()
        self.trace: list[dict[str, Any]] = []
        self.replan_ms: list[float] = []
        self.open_runs: dict[str, dict[str, Any]] = {}
        self.cords: dict[Any, str] = {}  # incident -> the cord pulled for it

    def _timed_policy(self, graph: Graph, state: EngineState, ready: list[Any],
                      now: datetime) -> list[Any]:
        t0 = time.perf_counter()
        out = self.policy(graph, state, ready, now)
        self._policy_s += time.perf_counter() - t0
        return out

    def step(self, event: Event | None, now: datetime) -> None:
        self._policy_s = 0.0
        if event is None:
            dec: Decisions = decide(self.graph, self.state, now, self._timed_policy)
        else:
            dec = handle(self.graph, self.state, event, now, self._timed_policy)
        self.replan_ms.append(self._policy_s * 1000)
        self.policy.observe(self.state, [e for e in ([event] if event else []) + dec.events])
        for ev in dec.events:
            if isinstance(ev, RunStarted):
                self._start(ev, now)
        for run_id in dec.cancel:  # an andon cord cancels the runs that read its bad data
            self._cancel(run_id, now)
        wake = next_wakeup(self.state, now)
        if wake is not None:
            self.agenda.push(wake, "tick", None)

    def _start(self, ev: RunStarted, now: datetime) -> None:
        sim = self.scenario.pipelines[ev.pipeline]
        n = int(ev.run_id.rsplit(":", 1)[1])
        end = now + sim.startup + run_duration(self.scenario, ev.pipeline, ev.partition, n)
        self.open_runs[ev.run_id] = {
            "type": "run", "pipeline": ev.pipeline, "partition": ev.partition, "attempt": n,
            "pool": ev.pool, "slots": ev.slots, "acquired": format_time(now),
            "work_start": format_time(now), "end": None, "status": None,
            "inputs": [{"asset": i.asset, "partition": i.partition, "version": i.version}
                       for i in ev.inputs]}
        self.agenda.push(end, "end", ev)

    def run(self) -> SimResult:
        sc = self.scenario
        stop = horizon(sc)
        for at, source, key in arrivals(sc):
            self.agenda.push(at, "arrival", (source, key))
        for inc in sc.incidents:
            self.agenda.push(inc.detected, "detected", inc)
            self.agenda.push(inc.resolved, "resolved", inc)
            self.trace.append(incident_record(inc))
        for item in self.agenda.until(stop):
            now = item.at
            if item.kind == "arrival":
                source, key = item.data
                self._arrive(source, key, now, "")
            elif item.kind == "end":
                self._end(item.data, now)
            elif item.kind == "detected":  # the same andon cord as live: pulled at detection
                inc = item.data
                cord_id = next_cord_id(self.state.cords, inc.asset, inc.partition)
                self.cords[inc] = cord_id
                self.step(CordPulled(id=f"cord:{cord_id}", at=now, cord_id=cord_id,
                                     asset=inc.asset, partition=inc.partition,
                                     reason="incident", by="scenario"), now)
            elif item.kind == "resolved":  # ... and resolved: the engine re-makes what it must
                inc = item.data
                if inc.asset not in self.graph.producer:  # a bad source: fixed data arrives
                    self._arrive(inc.asset, inc.partition, now, "fixed")
                self.step(CordResolved(id=f"resolved:{self.cords[inc]}:1", at=now,
                                       cord_id=self.cords[inc], note="incident resolved",
                                       by="scenario"), now)
            else:
                self.step(None, now)
        for record in self.open_runs.values():  # still running at the horizon
            record.update(end=format_time(stop), status=RunStatus.CANCELLED.value, outputs=[])
            self.trace.append(record)
        return SimResult(self.trace, self.replan_ms)

    def _arrive(self, source: str, key: str, now: datetime, tag: str) -> None:
        self.step(PartitionAvailable(id=f"arrival:{source}:{key}:{tag}", at=now, asset=source,
                                     partition=key, fingerprint=f"{source}/{key}/{tag}"), now)
        self.trace.append({"type": "arrival", "asset": source, "partition": key,
                           "at": format_time(now), "version": self.state.version(source, key)})

    def _cancel(self, run_id: str, now: datetime) -> None:
        record = self.open_runs.pop(run_id, None)
        if record is None:
            return
        record.update(end=format_time(now), status=RunStatus.CANCELLED.value, outputs=[])
        self.trace.append(record)
        run = self.state.runs[run_id]
        self.step(RunCancelled(id=run_event_id("ended", run_id), at=now, run_id=run_id, pipeline=run.pipeline,
                               partition=run.partition, attempt=run.attempt, by="cord"), now)

    def _end(self, started: RunStarted, now: datetime) -> None:
        if started.run_id not in self.open_runs:
            return  # cancelled before it could end
        pipe = self.graph.pipelines[started.pipeline]
        outputs = tuple(OutputWritten(o, started.partition, fingerprint=started.run_id)
                        for o in pipe.outputs)
        self.step(RunSucceeded(id=run_event_id("ended", started.run_id), at=now, run_id=started.run_id,
                               pipeline=started.pipeline, partition=started.partition,
                               attempt=started.attempt, inputs=started.inputs, outputs=outputs), now)
        record = self.open_runs.pop(started.run_id)
        record.update(end=format_time(now), status=RunStatus.SUCCEEDED.value, outputs=[
            {"asset": o, "partition": started.partition,
             "version": self.state.version(o, started.partition)} for o in pipe.outputs])
        self.trace.append(record)
