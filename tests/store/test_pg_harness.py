"""The PostgreSQL of the tests (tests/pg.py), and what the store says when PostgreSQL is away."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

import tests.pg
from andon.model.errors import ConfigError
from andon.store.sql import Store
from tests.pg import PostgresServer, PostgresUnavailable, alive, free_port, sweep_leftovers


def test_each_test_database_is_its_own_namespace(postgres_server: PostgresServer) -> None:
    a = Store(postgres_server.create_schema())
    b = Store(postgres_server.create_schema())
    try:
        a.add_token("ab" * 32, "admin", "a", datetime(2026, 1, 1, tzinfo=UTC))
        assert a.token_role("ab" * 32) == "admin"
        assert b.token_role("ab" * 32) is None
    finally:
        a.close()
        b.close()


def test_a_killed_sessions_server_is_swept_and_stop_is_idempotent() -> None:
    server = PostgresServer().start()
    assert server.base is not None
    base = server.base
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    with psycopg.connect(host="127.0.0.1", port=server.port, user="postgres",
                         dbname="postgres") as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    # as if its pytest process had been killed: the owner is gone, the server still runs
    with subprocess.Popen(["true"]) as gone:
        gone.wait()
    (base / "owner").write_text(str(gone.pid))
    sweep_leftovers(Path(tempfile.gettempdir()))
    assert not base.exists()
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:  # SIGKILL was sent; wait for it to land
        time.sleep(0.01)
    assert not alive(pid)
    server.stop()  # nothing left to stop: no error
    assert server.base is None


def test_missing_postgresql_is_a_clear_error(monkeypatch: pytest.MonkeyPatch,
                                             tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(tests.pg, "DEBIAN_DIR", tmp_path)
    with pytest.raises(PostgresUnavailable, match="PostgreSQL was not found.*apt-get install"):
        PostgresServer()


def test_a_server_that_cannot_start_leaves_nothing_behind(tmp_path: Path) -> None:
    for name in ("initdb", "pg_ctl", "postgres"):
        (tmp_path / name).write_text("#!/bin/sh\necho broken >&2\nexit 3\n")
        (tmp_path / name).chmod(0o755)
    mine = str(os.getpid())

    def ours() -> set[Path]:
        return {p for p in Path(tempfile.gettempdir()).glob(tests.pg.PREFIX + "*")
                if (p / "owner").exists() and (p / "owner").read_text() == mine}

    before = ours()
    server = PostgresServer(bin_dir=tmp_path)
    with pytest.raises(PostgresUnavailable, match="initdb failed"):
        server.start()
    assert server.base is None
    assert ours() == before


def test_a_postgres_store_that_cannot_be_reached_says_so() -> None:
    url = f"postgresql+psycopg://andon:secret@127.0.0.1:{free_port()}/andon"
    with pytest.raises(ConfigError, match="cannot open the store") as err:
        Store(url)
    assert "secret" not in str(err.value)
    assert "server is running" in err.value.hint
