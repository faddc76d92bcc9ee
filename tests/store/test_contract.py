"""The storage contract: every test here runs against SQLite (a real file) and PostgreSQL (a real
server), through the ``store`` fixture of tests/store/conftest.py."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from andon.events import (
    Event,
    OutputWritten,
    PartitionAvailable,
    PartitionRef,
    RunCancelled,
    RunCancelRequested,
    RunFailed,
    RunLaunched,
    RunQueued,
    RunRequested,
    RunStarted,
    RunSucceeded,
)
from andon.events.codec import format_time
from andon.model.errors import ConfigError
from andon.store.identity import StoreUnavailable
from andon.store.lock import lock_scheduler
from andon.store.sql import Store

T0 = datetime(2026, 1, 6, 2, 0, tzinfo=UTC)
APPENDER = Path(__file__).with_name("appender.py")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def source(asset: str = "raw_orders", key: str = "2026-01-05", fingerprint: str = "f1",
           minutes: float = 0, **kw: object) -> PartitionAvailable:
    return PartitionAvailable(at=at(minutes), asset=asset, partition=key, fingerprint=fingerprint,
                              location=f"data/{asset}/{key}.csv", size_bytes=10, **kw)


def queued(run_id: str, pipeline: str = "clean", key: str = "2026-01-05", minutes: float = 1,
           attempt: int = 1, reason: str = "new_data") -> RunQueued:
    return RunQueued(id=f"queued:{run_id}", at=at(minutes), run_id=run_id, pipeline=pipeline,
                     partition=key, attempt=attempt, reason=reason)


def lifecycle(run_id: str, pipeline: str = "clean", key: str = "2026-01-05") -> list[Event]:
    """queued -> started -> launched for one run."""
    inputs = (PartitionRef("raw_orders", key, 1),)
    return [queued(run_id, pipeline, key),
            RunStarted(id=f"started:{run_id}", at=at(2), run_id=run_id, pipeline=pipeline,
                       partition=key, pool="default", slots=2, inputs=inputs),
            RunLaunched(id=f"launched:{run_id}", at=at(2.5), run_id=run_id, pid=4242,
                        log_path=f"/runs/{run_id}/log.txt")]


def succeeded(run_id: str, pipeline: str = "clean", key: str = "2026-01-05",
              fingerprint: str = "o1", minutes: float = 5) -> RunSucceeded:
    return RunSucceeded(
        id=f"ended:{run_id}", at=at(minutes), run_id=run_id, pipeline=pipeline, partition=key,
        queue_seconds=60.0, startup_seconds=0.25, work_seconds=170.5, exit_code=0,
        inputs=(PartitionRef("raw_orders", key, 1),),
        outputs=(OutputWritten("orders", key, f"data/orders/{key}.parquet", 2048, 17, fingerprint),))


# -- the log ---------------------------------------------------------------------------------------

def test_append_returns_only_new_events_and_stores_each_id_once(store: Store) -> None:
    a, b, c = source(id="a"), source(id="b", fingerprint="f2"), source(id="c", fingerprint="f3")
    assert store.append([a]) == [a]
    assert store.append([a, b]) == [b]
    assert store.append([c, c, a]) == [c]
    assert store.append([]) == []
    assert [e.id for _, e in store.events()] == ["a", "b", "c"]
    assert store.count_events() == 3
    # the duplicates changed nothing in the read models either
    assert [v["fingerprint"] for v in store.partition_versions("raw_orders", "2026-01-05")] == \
        ["f1", "f2", "f3"]


def test_a_duplicate_id_with_other_content_is_still_the_same_event(store: Store) -> None:
    store.append([queued("r1")])
    assert store.append([queued("r1", minutes=9, reason="manual")]) == []
    (row,) = store.runs()
    assert row["reason"] == "new_data"


def test_events_come_back_in_log_order_and_equal_to_what_was_appended(store: Store) -> None:
    first = [source(id="s1"), *lifecycle("clean:2026-01-05:1")]
    second = [succeeded("clean:2026-01-05:1"),
              RunRequested(id="req", at=at(6), pipeline="clean", partition="2026-01-05",
                           reason="backfill", requested_by="cli"),
              RunCancelRequested(id="cancel", at=at(7), run_id="x", requested_by="api",
                                 reason="stop"),
              RunQueued(id="retry", at=at(8), run_id="clean:2026-01-05:2", pipeline="clean",
                        partition="2026-01-05", attempt=2, reason="retry", not_before=at(13))]
    store.append(first)
    store.append(second)
    log = store.events()
    assert [e for _, e in log] == first + second
    seqs = [seq for seq, _ in log]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert store.last_seq() == seqs[-1]
    assert [e.id for _, e in store.events(after=seqs[3])] == [e.id for e in second]
    assert [e.id for _, e in store.events(after=seqs[1], limit=2)] == [e.id for e in first[2:4]]
    assert store.events(after=seqs[-1]) == []


def test_iter_events_reads_the_whole_log_in_batches(store: Store) -> None:
    events = [source(id=f"e{i:02}", fingerprint=f"f{i}") for i in range(12)]
    store.append(events[:7])
    store.append(events[7:])
    for batch in (1, 5, 6, 12, 5000):
        assert [e.id for e in store.iter_events(batch=batch)] == [e.id for e in events]
    assert list(Store.iter_events(store, batch=5))[-1] == events[-1]


def test_iter_events_on_an_empty_log(store: Store) -> None:
    assert list(store.iter_events()) == []
    assert store.last_seq() == 0
    assert store.events() == []


def test_has_event_known_ids_and_counts(store: Store) -> None:
    store.append([source(id="a"), queued("r1"), queued("r2")])
    assert store.has_event("a") and not store.has_event("zz")
    assert store.known_ids(["zz", "a", "queued:r2", "a"]) == {"a", "queued:r2"}
    assert store.known_ids([]) == set()
    assert store.known_ids(f"n{i}" for i in range(1200)) == set()  # more than one query's worth
    assert store.count_events() == 3
    assert store.count_events("run.queued") == 2
    assert store.count_events("run.failed") == 0


def test_a_large_batch_is_one_append(store: Store) -> None:
    events = [source(id=f"big{i}", key=f"2026-01-{1 + i % 28:02}", fingerprint=f"f{i}")
              for i in range(1234)]
    assert len(store.append(events + events[:10])) == 1234
    assert [e.id for _, e in store.events()] == [e.id for e in events]
    assert len(store.partitions()) == 28


def test_long_and_unicode_names_are_stored_alike_on_every_backend(store: Store) -> None:
    pipeline = "p" * 300 + "_ünïcødé_日本"
    run_id = f"{pipeline}:2026-01-05T13:1"
    error = "E" * 500
    store.append([queued(run_id, pipeline=pipeline),
                  RunFailed(id="x" * 400, at=at(3), run_id=run_id, pipeline=pipeline,
                            partition="2026-01-05", error_type=error, error_message="ß" * 5000)])
    row = store.run(run_id)
    assert row is not None and row["pipeline"] == pipeline and row["error_type"] == error
    assert store.has_event("x" * 400)


# -- runs ------------------------------------------------------------------------------------------

def test_a_run_from_queued_to_succeeded(store: Store) -> None:
    run_id = "clean:2026-01-05:1"
    store.append([source(id="s")])
    store.append([queued(run_id)])
    row = store.run(run_id)
    assert row is not None
    assert (row["status"], row["attempt"], row["reason"]) == ("queued", 1, "new_data")
    assert row["queued_at"] == "2026-01-06T02:01:00.000000Z" and row["started_at"] is None

    store.append(lifecycle(run_id)[1:])
    row = store.run(run_id)
    assert row is not None
    assert (row["status"], row["pool"], row["slots"]) == ("running", "default", 2)
    assert (row["pid"], row["log_path"]) == (4242, f"/runs/{run_id}/log.txt")
    assert row["inputs"] == [{"asset": "raw_orders", "partition": "2026-01-05", "version": 1}]

    store.append([succeeded(run_id)])
    row = store.run(run_id)
    assert row is not None
    assert row["status"] == "succeeded"
    assert row["ended_at"] == "2026-01-06T02:05:00.000000Z"
    assert (row["queue_seconds"], row["startup_seconds"], row["work_seconds"], row["exit_code"]) \
        == (60.0, 0.25, 170.5, 0)
    assert row["outputs"] == [{"asset": "orders", "partition": "2026-01-05",
                               "location": "data/orders/2026-01-05.parquet", "size_bytes": 2048,
                               "rows": 17, "fingerprint": "o1"}]
    assert row["inputs"] == [{"asset": "raw_orders", "partition": "2026-01-05", "version": 1}]
    assert (row["error_type"], row["error_message"]) == ("", "")
    assert store.run("nope") is None


def test_a_failed_run_keeps_its_error(store: Store) -> None:
    run_id = "clean:2026-01-05:1"
    store.append(lifecycle(run_id))
    store.append([RunFailed(id="ended", at=at(4), run_id=run_id, pipeline="clean",
                            partition="2026-01-05", queue_seconds=60, startup_seconds=None,
                            work_seconds=3.5, exit_code=3, error_type="ValueError",
                            error_message="bad row 7")])
    row = store.run(run_id)
    assert row is not None
    assert (row["status"], row["exit_code"], row["error_type"], row["error_message"]) == \
        ("failed", 3, "ValueError", "bad row 7")
    assert row["startup_seconds"] is None and row["work_seconds"] == 3.5
    assert row["inputs"] == [{"asset": "raw_orders", "partition": "2026-01-05", "version": 1}]
    assert row["outputs"] == []
    assert store.partitions("orders") == []  # a failed run materialises nothing


def test_a_cancelled_run_says_why(store: Store) -> None:
    store.append([queued("r1")])
    store.append([RunCancelled(id="c", at=at(3), run_id="r1", pipeline="clean",
                               partition="2026-01-05", by="ops", reason="not needed")])
    row = store.run("r1")
    assert row is not None
    assert (row["status"], row["error_type"], row["error_message"]) == \
        ("cancelled", "Cancelled", "not needed")
    assert row["ended_at"] == "2026-01-06T02:03:00.000000Z" and row["started_at"] is None


def test_runs_newest_first_with_filters_limit_and_offset(store: Store) -> None:
    store.append([queued("a:1", "a", "2026-01-01"), queued("b:1", "b", "2026-01-01"),
                  queued("a:2", "a", "2026-01-02")])
    store.append([RunFailed(id="f", at=at(3), run_id="a:1", pipeline="a", partition="2026-01-01",
                            error_type="X")])
    ids = [r["run_id"] for r in store.runs()]
    assert ids == ["a:2", "b:1", "a:1"]
    assert [r["run_id"] for r in store.runs(pipeline="a")] == ["a:2", "a:1"]
    assert [r["run_id"] for r in store.runs(status="failed")] == ["a:1"]
    assert [r["run_id"] for r in store.runs(partition="2026-01-01")] == ["b:1", "a:1"]
    assert [r["run_id"] for r in store.runs(pipeline="a", status="queued")] == ["a:2"]
    assert [r["run_id"] for r in store.runs(limit=2)] == ["a:2", "b:1"]
    assert [r["run_id"] for r in store.runs(limit=2, offset=2)] == ["a:1"]
    assert store.runs(pipeline="nope") == []


def test_latest_runs_and_run_counts(store: Store) -> None:
    store.append([*lifecycle("clean:d1:1", key="d1"), *lifecycle("clean:d2:1", key="d2")])
    store.append([RunFailed(id="f1", at=at(3), run_id="clean:d1:1", pipeline="clean",
                            partition="d1", error_type="OSError", error_message="disk")])
    store.append([queued("clean:d1:2", key="d1", attempt=2, reason="retry")])
    latest = {(r["pipeline"], r["partition"]): r for r in store.latest_runs()}
    assert set(latest) == {("clean", "d1"), ("clean", "d2")}
    assert (latest["clean", "d1"]["run_id"], latest["clean", "d1"]["status"],
            latest["clean", "d1"]["attempt"]) == ("clean:d1:2", "queued", 2)
    assert latest["clean", "d2"]["status"] == "running"
    assert store.run_counts() == {"queued": 1, "running": 1, "failed": 1}
    store.append([succeeded("clean:d2:1", key="d2")])
    assert store.run_counts() == {"queued": 1, "succeeded": 1, "failed": 1}


# -- partitions and their versions -----------------------------------------------------------------

def test_partition_versions_are_numbered_and_sources_deduplicated_by_content(store: Store) -> None:
    store.append([source(id="n1", fingerprint="aaa", minutes=0)])
    store.append([source(id="n2", fingerprint="aaa", minutes=1)])  # the same data, announced again
    assert [v["version"] for v in store.partition_versions("raw_orders", "2026-01-05")] == [1]
    store.append([source(id="n3", fingerprint="bbb", minutes=2)])  # new content
    versions = store.partition_versions("raw_orders", "2026-01-05")
    assert [(v["version"], v["fingerprint"]) for v in versions] == [(1, "aaa"), (2, "bbb")]
    assert versions[0]["at"] == "2026-01-06T02:00:00.000000Z"
    (current,) = store.partitions("raw_orders")
    assert (current["version"], current["fingerprint"], current["origin"], current["run_id"]) == \
        (2, "bbb", "notify", "")
    assert (current["location"], current["size_bytes"], current["rows"]) == \
        ("data/raw_orders/2026-01-05.csv", 10, None)
    assert store.partition_versions("raw_orders", "2026-01-06") == []


def test_a_source_without_fingerprint_is_a_new_version_each_time(store: Store) -> None:
    store.append([source(id="n1", fingerprint=""), source(id="n2", fingerprint="")])
    assert [v["version"] for v in store.partition_versions("raw_orders", "2026-01-05")] == [1, 2]


def test_a_run_output_is_always_a_new_version(store: Store) -> None:
    store.append([succeeded("clean:1", fingerprint="same", minutes=5)])
    store.append([succeeded("clean:2", fingerprint="same", minutes=9)])  # re-made, same content
    versions = store.partition_versions("orders", "2026-01-05")
    assert [(v["version"], v["run_id"], v["origin"]) for v in versions] == \
        [(1, "clean:1", "run"), (2, "clean:2", "run")]
    (current,) = store.partitions("orders")
    assert (current["version"], current["run_id"], current["rows"], current["size_bytes"]) == \
        (2, "clean:2", 17, 2048)


def test_partitions_filter_by_asset_and_sort(store: Store) -> None:
    store.append([source("b", "2026-01-02"), source("a", "2026-01-03"), source("a", "2026-01-01"),
                  source("b", "2026-01-01")])
    assert [(p["asset"], p["partition"]) for p in store.partitions()] == \
        [("a", "2026-01-01"), ("a", "2026-01-03"), ("b", "2026-01-01"), ("b", "2026-01-02")]
    assert [p["partition"] for p in store.partitions("b")] == ["2026-01-01", "2026-01-02"]
    assert store.partitions("zz") == []


def test_an_unpartitioned_asset_uses_an_empty_key(store: Store) -> None:
    store.append([source("model", "", fingerprint="m1"), source("model", "", fingerprint="m2")])
    assert [v["version"] for v in store.partition_versions("model", "")] == [1, 2]


# -- tokens and health -----------------------------------------------------------------------------

def test_tokens_add_role_revoke(store: Store) -> None:
    digest = "ab" * 32
    assert store.token_role(digest) is None
    store.add_token(digest, "admin", "local", at(0))
    store.add_token("cd" * 32, "read", "dashboard", at(0))
    assert store.token_role(digest) == "admin"
    assert store.token_role("cd" * 32) == "read"
    assert store.revoke_token(digest, at(1)) is True
    assert store.token_role(digest) is None
    assert store.revoke_token(digest, at(2)) is False  # already revoked
    assert store.revoke_token("ef" * 32, at(2)) is False  # never existed
    assert store.token_role("cd" * 32) == "read"


def test_tokens_are_listed_by_id_without_their_hash_and_revoked_by_id(store: Store) -> None:
    store.add_token("cd" * 32, "viewer", "", at(1))
    store.add_token("ab" * 32, "admin", "local", at(0))
    store.add_token("ef" * 32, "operator", "ci", at(2))
    assert store.revoke_token_id("cdcdcdcdcdcd", at(3)) is True
    assert store.revoke_token_id("cdcdcdcdcdcd", at(4)) is False  # already revoked
    assert store.revoke_token_id("cdcdcdcdcdc", at(4)) is False  # an id is the whole prefix
    assert store.revoke_token_id("0123456789ab", at(4)) is False  # never existed
    assert store.token_role("cd" * 32) is None and store.token_role("ef" * 32) == "operator"
    assert store.tokens() == [  # oldest first
        {"id": "abababababab", "name": "local", "role": "admin",
         "created_at": format_time(at(0)), "revoked_at": None},
        {"id": "cdcdcdcdcdcd", "name": "", "role": "viewer",
         "created_at": format_time(at(1)), "revoked_at": format_time(at(3))},
        {"id": "efefefefefef", "name": "ci", "role": "operator",
         "created_at": format_time(at(2)), "revoked_at": None}]


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_everything_survives_reopening(store: Store, open_store: Callable[[], Store]) -> None:
    store.append([source(id="s"), *lifecycle("r1")])
    store.add_token("ab" * 32, "admin", "x", at(0))
    store.close()
    again = open_store()
    assert [e.id for e in again.iter_events()] == ["s", "queued:r1", "started:r1", "launched:r1"]
    assert (again.run("r1") or {}).get("status") == "running"
    assert again.token_role("ab" * 32) == "admin"


# -- several writers -------------------------------------------------------------------------------

def test_threads_sharing_a_store_append_one_at_a_time(store: Store) -> None:
    """The runner, the web server and the CLI helpers may share one store object."""
    def work(name: str) -> None:
        for i in range(25):
            store.append([source("shared", fingerprint=f"{name}{i}", id=f"{name}{i}")])
            if i % 10 == 0:
                store.add_token(f"{name}{i}", "read", name, at(0))

    threads = [threading.Thread(target=work, args=(name,)) for name in "abcd"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert store.count_events() == 100
    assert [v["version"] for v in store.partition_versions("shared", "2026-01-05")] == \
        list(range(1, 101))
    assert store.token_role("c20") == "read"


def test_processes_appending_at_once_lose_nothing(store_url: str,
                                                      open_store: Callable[[], Store]) -> None:
    """Real processes open a new database and append to the same partition at once: no
    "database is locked", every event stored, versions numbered without gaps or repeats."""
    names, count, batch = ("p", "q", "r"), 40, 2
    with contextlib.ExitStack() as stack:
        procs = [stack.enter_context(subprocess.Popen(
            [sys.executable, str(APPENDER), store_url, name, str(count), str(batch)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
            for name in names]
        for proc in procs:
            stack.callback(proc.kill)  # on failure; the exit of Popen then waits for it
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
        for proc in procs:  # start both at once
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60) for proc in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "locked" not in err
        assert out.count("acked ") == count * batch
    store = open_store()
    ids = [e.id for e in store.iter_events()]
    assert len(ids) == len(names) * count * batch
    for name in names:  # each process's events in its own order
        mine = [i for i in ids if i.startswith(name + "-")]
        assert mine == [f"{name}-{i}-{j}" for i in range(count) for j in range(batch)]
    versions = store.partition_versions("shared", "2026-01-05")
    assert [v["version"] for v in versions] == list(range(1, len(ids) + 1))
    assert [v["fingerprint"] for v in versions] == ids  # versions in log order


def test_an_acknowledged_event_survives_kill_9(store_url: str,
                                               open_store: Callable[[], Store]) -> None:
    """The appender prints "acked" after each append returned and goes on appending; it is
    killed with SIGKILL at an arbitrary moment. Every acknowledged event is in the log, and the
    read models agree with the log (an append is all or nothing)."""
    open_store().close()  # created and migrated, so the child starts appending at once
    acked: list[str] = []
    with subprocess.Popen([sys.executable, str(APPENDER), store_url, "k", "0", "3"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
            assert proc.stdin is not None
            proc.stdin.write("go\n")
            proc.stdin.flush()
            while len(acked) < 30:
                line = proc.stdout.readline()
                assert line.startswith("acked "), line
                acked.append(line.split()[1])
        finally:
            proc.kill()  # SIGKILL, while it is in the middle of further appends
            proc.wait()
    assert proc.returncode == -9
    store = open_store()
    ids = [e.id for e in store.iter_events()]
    assert ids[:len(acked)] == acked
    assert len(ids) % 3 == 0  # whole batches only
    assert len(store.partition_versions("shared", "2026-01-05")) == len(ids)


# -- one scheduler per store; a store that is no longer what it opened ----------------------------

def test_one_scheduler_lock_per_store(store_url: str) -> None:
    """``andon.store.lock``: a second holder is refused naming the first; the lock goes with
    ``release``. (Each holder is a connection or a file descriptor of its own, as a second
    process would have.)"""
    first = lock_scheduler(store_url, "pid 1 on host-a, state folder /one")
    try:
        with pytest.raises(ConfigError, match=r"already running on this store") as err:
            lock_scheduler(store_url, "pid 2 on host-b, state folder /two")
        assert "pid 1 on host-a" in err.value.message
        assert "/two" not in err.value.message
    finally:
        first.release()
    first.release()  # idempotent
    lock_scheduler(store_url, "pid 2 on host-b").release()


def test_a_watched_folder_replaced_refuses_writes_and_reading_goes_on(
        store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    store.watch(folder, "state folder")
    assert store.append([source(key="2026-01-05")])
    assert store.unavailable() is None and store.ping()
    folder.rename(tmp_path / "moved")
    folder.mkdir()
    problem = store.unavailable()
    assert isinstance(problem, StoreUnavailable)
    assert (problem.state, problem.http_status) == ("replaced", 503)
    assert "state folder" in problem.message and problem.where == str(folder)
    assert not store.ping()
    with pytest.raises(StoreUnavailable):
        store.append([source(key="2026-01-06")])
    with pytest.raises(StoreUnavailable):
        store.add_token("0" * 64, "viewer", "x", T0)
    folder.rmdir()
    assert store.unavailable() is not None and store.unavailable().state == "missing"  # type: ignore[union-attr]
    (tmp_path / "moved").rename(folder)  # put back: the same folder again
    assert store.unavailable() is None
    assert store.append([source(key="2026-01-06")])
    assert [e.partition for e in store.iter_events()] == ["2026-01-05", "2026-01-06"]
