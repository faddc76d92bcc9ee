"""A log made inconsistent (a run's events without its run.queued, an old client id that holds a
run event's id) replays from both backends without an error, naming what does not fit, and the
read models still answer."""

from __future__ import annotations

from andon.engine.core import decide, replay
from andon.events import OutputWritten, PartitionAvailable, RunQueued, RunStarted, RunSucceeded
from andon.store.sql import Store
from tests.engine.harness import T0, graph, pipe, source

G = graph([source("raw")], [pipe("a", ["raw"])], default=2)
DAY = "2026-01-05"
RUN = f"a:{DAY}:1"


def test_a_broken_log_replays_from_the_store(store: Store) -> None:
    stored = store.append([
        PartitionAvailable(id=f"queued:{RUN}", at=T0, asset="raw", partition=DAY, fingerprint="f"),
        RunStarted(id=f"started:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY),
        RunSucceeded(id=f"ended:{RUN}", at=T0, run_id=RUN, pipeline="a", partition=DAY,
                     outputs=(OutputWritten("a", DAY, fingerprint="o"),)),
        RunSucceeded(id="ended-again", at=T0, run_id=RUN, pipeline="a", partition=DAY),
    ])
    assert len(stored) == 4
    state = replay(G, store.iter_events())
    assert [(p.position, p.event_id, p.event, p.run_id) for p in state.problems] == [
        (1, f"queued:{RUN}", "partition.available", RUN),
        (2, f"started:{RUN}", "run.started", RUN),
        (4, "ended-again", "run.succeeded", RUN)]
    assert state.version("a", DAY) == 1
    assert store.run(RUN) is None  # the read model never had the run: it still answers
    assert {(p["asset"], p["version"]) for p in store.partitions()} == {("raw", 1), ("a", 1)}
    # what the engine derives next takes no id the log holds
    state.requests[("a", DAY)] = "manual"
    state.dirty.add(("a", DAY))
    derived = decide(G, state, T0).events
    assert [e.run_id for e in derived if isinstance(e, RunQueued)] == [f"a:{DAY}:2"]
    assert store.known_ids(e.id for e in derived) == set()
    assert len(store.append(derived)) == len(derived)
