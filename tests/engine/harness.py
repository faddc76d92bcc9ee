"""A small driver for the pure engine core: it plays the part of the runner and the executor,
with a clock that only moves when a test moves it. No processes, no store, no sleeps."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from andon.engine.core import Decisions, decide, handle, mark_all, replay
from andon.engine.state import EngineState
from andon.events import (
    Event,
    OutputWritten,
    PartitionAvailable,
    RunCancelled,
    RunCancelRequested,
    RunFailed,
    RunQueued,
    RunRequested,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import from_dict, to_dict
from andon.model.definitions import Asset, Input, Pipeline, Pool
from andon.model.graph import Graph, build_graph
from andon.model.partitions import Partitions
from andon.model.status import RunStatus
from tests.conftest import utc

START = utc(2026, 1, 1)
T0 = utc(2026, 1, 10, 2)  # "now" at the start of every scenario
DAILY = Partitions("daily", START)
HOURLY = Partitions("hourly", START)


def source(name: str, partitions: Partitions = DAILY) -> Asset:
    return Asset(name, partitions, source=True, where=f"pipelines.py:{name}")


def pipe(name: str, inputs: list[str | Input], outputs: list[str] | None = None,
         partitions: Partitions = DAILY, **options: Any) -> Pipeline:
    """A command pipeline (the engine never runs it); ``outputs`` default to ``[name]``."""
    ins = tuple(i if isinstance(i, Input) else Input(i) for i in inputs)
    return Pipeline(name, ins, tuple(outputs if outputs is not None else [name]), partitions,
                    command="true", where=f"pipelines.py:{name}", **options)


def graph(sources: list[Asset], pipelines: list[Pipeline], **pools: int) -> Graph:
    pool_list = [Pool(n, c) for n, c in (pools or {"default": 4}).items()]
    return build_graph(sources, pipelines, pool_list)


class Line:
    """Drives ``handle`` / ``decide`` as the runner does and records the log (input events
    followed by the events the engine derived from each)."""

    def __init__(self, g: Graph, now: datetime = T0) -> None:
        self.graph = g
        self.state = EngineState()
        self.now = now
        self.log: list[Event] = []
        self.commands: list[str] = []  # runs the executor was told to cancel

    # -- feeding events ----------------------------------------------------------------------

    def send(self, event: Event) -> Decisions:
        self.log.append(event)
        out = handle(self.graph, self.state, event, self.now)
        self._record(out)
        return out

    def tick(self, by: timedelta = timedelta(0)) -> Decisions:
        """Move the clock and let the engine decide (the runner's wake-up after a back-off)."""
        self.now += by
        out = decide(self.graph, self.state, self.now)
        self._record(out)
        return out

    def _record(self, out: Decisions) -> None:
        self.log.extend(out.events)
        self.commands.extend(out.cancel)

    def notify(self, asset: str, key: str, fingerprint: str = "") -> Decisions:
        return self.send(PartitionAvailable(at=self.now, asset=asset, partition=key,
                                            fingerprint=fingerprint))

    def request(self, pipeline: str, key: str, reason: str = "manual") -> Decisions:
        return self.send(RunRequested(at=self.now, pipeline=pipeline, partition=key, reason=reason))

    def cancel(self, run_id: str) -> Decisions:
        return self.send(RunCancelRequested(at=self.now, run_id=run_id, requested_by="test"))

    def succeed(self, run_id: str) -> Decisions:
        """The executor reports success; every output partition gets a new fingerprint."""
        run = self.state.runs[run_id]
        outs = tuple(OutputWritten(o, run.partition, fingerprint=f"{o}@{run_id}")
                     for o in self.graph.pipelines[run.pipeline].outputs)
        return self.send(RunSucceeded(id=f"ended:{run_id}", at=self.now, run_id=run_id,
                                      pipeline=run.pipeline, partition=run.partition,
                                      attempt=run.attempt, inputs=run.inputs, outputs=outs))

    def fail(self, run_id: str) -> Decisions:
        run = self.state.runs[run_id]
        return self.send(RunFailed(id=f"ended:{run_id}", at=self.now, run_id=run_id,
                                   pipeline=run.pipeline, partition=run.partition,
                                   attempt=run.attempt, exit_code=1, error_type="RuntimeError",
                                   error_message="boom", inputs=run.inputs))

    def killed(self, run_id: str) -> Decisions:
        """The executor reports that it cancelled a running run."""
        run = self.state.runs[run_id]
        return self.send(RunCancelled(id=f"ended:{run_id}", at=self.now, run_id=run_id,
                                      pipeline=run.pipeline, partition=run.partition,
                                      attempt=run.attempt, by="test"))

    def run_all(self, limit: int = 1000) -> list[str]:
        """Succeed running runs, oldest first, until none is left; return them in order."""
        done: list[str] = []
        while self.running() and len(done) < limit:
            done.append(self.running()[0])
            self.succeed(done[-1])
        return done

    # -- looking -----------------------------------------------------------------------------

    def running(self) -> list[str]:
        """Running runs, in the order they started."""
        return [r.run_id for r in self.state.runs.values() if r.status is RunStatus.RUNNING]

    def queued(self) -> list[str]:
        return list(self.state.queue)

    def status(self, run_id: str) -> RunStatus:
        return self.state.runs[run_id].status

    def version(self, asset: str, key: str) -> int:
        return self.state.version(asset, key)


def started(out: Decisions) -> list[str]:
    return [e.run_id for e in out.events if isinstance(e, RunStarted)]


def queued(out: Decisions) -> list[RunQueued]:
    return [e for e in out.events if isinstance(e, RunQueued)]


def rebuilt(line: Line) -> EngineState:
    """Replay ``line``'s log, asserting that it rebuilds exactly the live state and that every
    event survives its storage form unchanged; the rebuilt state."""
    state = replay(line.graph, line.log)
    assert snapshot(state) == snapshot(line.state)
    assert [from_dict(to_dict(e)) for e in line.log] == line.log
    return state


def restart(g: Graph, log: list[Event], now: datetime) -> tuple[EngineState, Decisions]:
    """A scheduler restarted on ``log`` (what was recorded before it died): it replays, marks
    every partition for a look and decides at ``now``; its state and what it decided."""
    state = replay(g, log)
    mark_all(g, state)
    return state, decide(g, state, now)


def snapshot(state: EngineState) -> dict[str, Any]:
    """Everything the log determines (not the scratch fields ``decide`` works with)."""
    scratch = {"dirty", "cancels", "waiting", "events_applied"}
    out: dict[str, Any] = {}
    for f in fields(state):
        if f.name in scratch:
            continue
        value = getattr(state, f.name)
        if f.name in ("runs", "queue", "last_end"):
            value = {k: _run(v) for k, v in value.items()}
        out[f.name] = value
    out["queue_order"] = list(state.queue)
    return out


def _run(run: Any) -> dict[str, Any]:
    return {f.name: getattr(run, f.name) for f in fields(run)}
