"""Two ``andon up`` on one PostgreSQL store: one leads, the other stands by, serves, forwards
writes and takes over when the leader is killed with ``kill -9``; a stale leader's write is
refused (fencing). Real processes, a real PostgreSQL, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from andon.events import PartitionAvailable
from andon.store.feed import EventFeed
from andon.store.leader import Lead, LostLead, read_lease
from andon.store.sql import Store
from tests.conftest import ProjectFactory
from tests.team.members import ANDON, PIPELINES, Member, notify, pair, until


def days(n: int, first: int = 0) -> list[str]:
    return [(date(2026, 1, 1) + timedelta(d)).isoformat() for d in range(first, first + n)]


@pytest.fixture
def team(make_project: ProjectFactory, postgres_database: str, tmp_path: Path
         ) -> Iterator[tuple[Member, Member]]:
    root = make_project(PIPELINES)
    first, second = pair(root, postgres_database, (tmp_path / "a", tmp_path / "b"))
    try:
        yield first, second
    finally:
        first.stop()
        second.stop()


def test_the_standby_forwards_writes_and_takes_over_after_kill_9(
        team: tuple[Member, Member], postgres_database: str) -> None:
    leader, standby = team
    assert (leader.started_as, standby.started_as) == ("leader", "standby")
    seen = standby.status()
    assert seen["role"] == "standby"
    assert f"pid {leader.proc.pid} " in seen["leader"]["holder"]
    assert seen["leader"]["api_url"] == leader.url
    first_token = seen["leader"]["token"]
    assert leader.status()["role"] == "leader"
    # writes sent to the standby reach the leader (with the standby's own token: one store)
    before = days(5)
    for key in before[:4]:
        assert notify([standby.url], standby.token, key) == standby.url
    # the CLI pointed at the standby (its state folder): reads and writes work
    cli = {**os.environ, "ANDON_DATABASE_URL": postgres_database,
           "ANDON_STATE_DIR": str(standby.state_dir)}
    said = subprocess.run([ANDON, "status", "--json"], cwd=standby.root, env=cli,
                          capture_output=True, text=True, timeout=60)
    assert json.loads(said.stdout)["role"] == "standby", said.stderr
    told = subprocess.run([ANDON, "notify", "raw", before[4]], cwd=standby.root, env=cli,
                          capture_output=True, text=True, timeout=60)
    assert told.returncode == 0, told.stderr
    board = httpx.get(standby.url + "/", timeout=10).text
    assert f"standby of pid {leader.proc.pid} " in board
    store = Store(postgres_database)
    try:
        assert until(lambda: {p.partition for p in store.partitions("clean")} >= set(before))
        leader.kill9()
        after = days(5, first=5)
        for key in after:  # acknowledged by whichever server takes it, over the take-over
            notify([leader.url, standby.url], standby.token, key)
        assert until(lambda: standby.status().get("role") == "leader")
        now = standby.status()
        assert now["leader"]["token"] > first_token
        assert f"pid {standby.proc.pid} " in now["leader"]["holder"]
        everything = set(before + after)
        assert {p.partition for p in store.partitions("raw")} >= everything  # none lost
        assert until(lambda: {p.partition for p in store.partitions("clean")} >= everything)
        for key in everything:  # every partition version made exactly once
            assert [v.version for v in store.partition_versions("clean", key)] == [1]
    finally:
        store.close()


def test_a_stale_leaders_write_is_refused_after_a_take_over(postgres_database: str) -> None:
    stale, fresh = Store(postgres_database), Store(postgres_database)
    first, second = Lead(postgres_database, "first"), Lead(postgres_database, "second")
    lost: list[bool] = []
    try:
        assert first.try_take()
        first.bump()
        stale.fence = first.fence(lambda: lost.append(True))
        stale.identity.guard(stale.fence.problem)
        stale.add_token("a" * 64, "admin", "before", _now())  # the leader writes
        assert not second.try_take()  # held
        first.release()  # its session ends (as by kill -9), its process lives on
        assert second.wait()
        second.bump()
        fresh.fence = second.fence(lambda: None)
        with pytest.raises(LostLead, match="no longer the leader"):
            stale.add_token("b" * 64, "admin", "late", _now())
        assert lost == [True]
        assert isinstance(stale.unavailable(), LostLead)  # the runner holds everything
        fresh.add_token("c" * 64, "admin", "after", _now())
        assert {t.name for t in fresh.tokens()} == {"before", "after"}
        with fresh.read() as conn:
            lease = read_lease(conn)
        assert lease is not None and lease.holder == "second" and lease.token == 2
    finally:
        for lead in (first, second):
            lead.release()
        stale.close()
        fresh.close()


def test_the_feed_hands_on_what_another_process_commits(postgres_database: str) -> None:
    writer, reader = Store(postgres_database), Store(postgres_database)
    lead = Lead(postgres_database, "writer")
    feed = EventFeed(reader)
    got: list[str] = []
    try:
        assert lead.try_take()
        lead.bump()
        writer.fence = lead.fence(lambda: None)
        feed.subscribe(lambda events: got.extend(e.id for e in events))
        feed.start()
        ids = [f"n{i}" for i in range(3)]
        writer.append([PartitionAvailable(id=i, at=_now(), asset="raw", partition=k,
                                          origin="api")
                       for i, k in zip(ids, days(3), strict=True)])
        assert until(lambda: got == ids, 10)
    finally:
        feed.stop()
        lead.release()
        writer.close()
        reader.close()


def test_the_status_of_a_sqlite_store_says_no_role(make_project: ProjectFactory) -> None:
    from tests.web.conftest import running

    with running(make_project(PIPELINES)) as line:
        body = httpx.get(line.url + "/api/v1/status").json()
    assert "role" not in body


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime
    return datetime.now(UTC)


WAITING = """
import time
from pathlib import Path

import andon

andon.source("raw", partitions="daily")

# the retry after the lost attempt is what the test waits for: no need of the default 10 s back-off
@andon.pipeline(inputs=["raw"], outputs=["clean"], partitions="daily", retries=2,
                retry_delay="100ms")
def clean(ctx):
    while not Path({flag!r}).exists():
        time.sleep(0.05)
    ctx.output("clean").write_text(ctx.partition + "\\\\n")
"""


def test_a_run_in_flight_when_the_leader_dies_makes_its_version_once(
        make_project: ProjectFactory, postgres_database: str, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    root = make_project(WAITING.format(flag=str(flag)))
    local = {"ANDON_EXECUTOR": "local"}
    leader, standby = pair(root, postgres_database, (tmp_path / "a", tmp_path / "b"), local)
    store = Store(postgres_database)
    try:
        key = days(1)[0]
        notify([leader.url], leader.token, key)
        assert until(lambda: any(r.pid for r in store.runs("clean")))  # launched
        leader.kill9()
        assert until(lambda: standby.status().get("role") == "leader")
        flag.touch()
        assert until(lambda: [v.version for v in store.partition_versions("clean", key)] == [1])
        runs = store.runs("clean")  # newest first: lost with its leader, then retried
        assert [(r.status.value, r.attempt) for r in runs] == [("succeeded", 2), ("failed", 1)]
        assert runs[1].error_type == "ProcessLost"
        assert [v.version for v in store.partition_versions("clean", key)] == [1]
    finally:
        flag.touch()
        leader.stop()
        standby.stop()
        store.close()


def test_the_cli_without_a_server_talks_to_the_leader_then_a_sigtermed_standby_exits_0(
        team: tuple[Member, Member], postgres_database: str, tmp_path: Path) -> None:
    # one team for both (starting two ``andon up`` on PostgreSQL is the cost of each): the CLI
    # part only reads and notifies through the leader; the standby's SIGTERM comes after it
    leader, standby = team
    cli = {**os.environ, "ANDON_DATABASE_URL": postgres_database,
           "ANDON_STATE_DIR": str(tmp_path / "cli-only"), "ANDON_API_TOKEN": leader.token}
    told = subprocess.run([ANDON, "notify", "raw", "2026-02-01"], cwd=leader.root, env=cli,
                          capture_output=True, text=True, timeout=60)
    assert told.returncode == 0, told.stderr
    said = subprocess.run([ANDON, "status", "--json"], cwd=leader.root, env=cli,
                          capture_output=True, text=True, timeout=60)
    assert json.loads(said.stdout)["role"] == "leader", said.stderr
    store = Store(postgres_database)
    try:
        assert "2026-02-01" in {p.partition for p in store.partitions("raw")}
    finally:
        store.close()
    # a standby stopped with SIGTERM exits 0 and the leader leads on
    standby.stop()
    assert standby.proc.returncode == 0, standby.lines[-10:]
    assert leader.status()["role"] == "leader"
    assert leader.proc.poll() is None
