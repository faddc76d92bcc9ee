"""Partition versions are numbered by the engine alone: the events it records carry the numbers it
gave new data (``partition.available``'s ``version``, ``run.succeeded``'s ``versions``) and the
read models write those numbers; on SQLite and PostgreSQL."""

from __future__ import annotations

from andon.engine.core import Decisions, fifo, record
from andon.engine.state import EngineState, next_version
from andon.events import (
    Event,
    OutputWritten,
    PartitionAvailable,
    PartitionRef,
    RunStarted,
    RunSucceeded,
)
from andon.live.offline import submit
from andon.store.sql import Store
from tests.engine.harness import T0, graph, pipe, source

DAY = "2026-01-05"
G = graph([source("raw")], [pipe("clean", ["raw"], ["orders"])])


def _notify(fingerprint: str, n: int) -> PartitionAvailable:
    return PartitionAvailable(id=f"n{n}", at=T0, asset="raw", partition=DAY,
                              fingerprint=fingerprint)


def _versions(store: Store, asset: str) -> list[tuple[int, str]]:
    return [(v["version"], v["fingerprint"]) for v in store.partition_versions(asset, DAY)]


def test_a_recorded_turn_carries_the_versions_the_engine_gave(store: Store) -> None:
    state, out = EngineState(), Decisions()
    log: list[Event] = []  # the turn's log, as the runner appends it
    for n, fingerprint in enumerate(("a", "a", "b")):  # "a" announced again changes nothing
        record(G, state, _notify(fingerprint, n), T0, fifo, out, log)
    (run,) = [e for e in log if isinstance(e, RunStarted)]
    record(G, state, RunSucceeded(id="ended", at=T0, run_id=run.run_id, pipeline="clean",
                                  partition=DAY, inputs=run.inputs,
                                  outputs=(OutputWritten("orders", DAY, fingerprint="o"),)),
           T0, fifo, out, log)

    assert [e.version for e in log if isinstance(e, PartitionAvailable)] == [1, 1, 2]
    (done,) = [e for e in log if isinstance(e, RunSucceeded)]
    assert done.versions == (PartitionRef("orders", DAY, 1),)
    store.append(log)
    assert _versions(store, "raw") == [(1, "a"), (2, "b")]
    assert _versions(store, "orders") == [(1, "o")]


def test_the_read_models_write_the_engine_s_number_not_one_of_their_own(store: Store) -> None:
    """A number the read models could not have worked out themselves (the store has never seen
    the partition) is the one they record: the event's."""
    store.append([PartitionAvailable(id="n", at=T0, asset="raw", partition=DAY, fingerprint="a",
                                     version=3)])
    store.append([RunSucceeded(id="ended", at=T0, run_id="clean:1", pipeline="clean",
                               partition=DAY, outputs=(OutputWritten("orders", DAY,
                                                                     fingerprint="o"),),
                               versions=(PartitionRef("orders", DAY, 7),))])
    # the same data again, as the engine records it: the current version again
    store.append([PartitionAvailable(id="again", at=T0, asset="raw", partition=DAY,
                                     fingerprint="a", version=3)])

    assert _versions(store, "raw") == [(3, "a")]
    assert _versions(store, "orders") == [(7, "o")]
    assert store.partitions("orders")[0]["version"] == 7


def test_offline_writes_record_the_engine_s_versions(store: Store) -> None:
    submit(G, store, [_notify("a", 0)], T0)
    submit(G, store, [_notify("a", 1), _notify("b", 2)], T0)

    logged = [e for _, e in store.events() if isinstance(e, PartitionAvailable)]
    assert [(e.id, e.version) for e in logged] == [("n0", 1), ("n1", 1), ("n2", 2)]
    assert _versions(store, "raw") == [(1, "a"), (2, "b")]


def test_the_one_rule_that_numbers_versions() -> None:
    assert next_version(0, "", "a", from_run=False) == 1
    assert next_version(1, "a", "a", from_run=False) is None  # the same source data again
    assert next_version(1, "a", "b", from_run=False) == 2
    assert next_version(1, "", "", from_run=False) == 2  # no fingerprint: always new
    assert next_version(4, "a", "a", from_run=True) == 5  # a run re-made it
