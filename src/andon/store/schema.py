"""Tables of the event log and its read models, and the versioned migrations that create them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("id", String(200), nullable=False, unique=True),
    Column("type", String(60), nullable=False, index=True),
    Column("at", String(40), nullable=False),
    Column("payload", Text, nullable=False),
)

partitions = Table(  # the current version of each partition
    "partitions", metadata,
    Column("asset", String(200), primary_key=True),
    Column("partition", String(60), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("at", String(40), nullable=False),
    Column("run_id", String(300), nullable=False, default=""),
    Column("origin", String(20), nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("rows", BigInteger),
    Column("fingerprint", String(80), nullable=False, default=""),
)

partition_versions = Table(  # every materialisation, numbered per partition
    "partition_versions", metadata,
    Column("asset", String(200), primary_key=True),
    Column("partition", String(60), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("at", String(40), nullable=False),
    Column("run_id", String(300), nullable=False, default=""),
    Column("origin", String(20), nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("rows", BigInteger),
    Column("fingerprint", String(80), nullable=False, default=""),
)

runs = Table(
    "runs", metadata,
    Column("run_id", String(300), primary_key=True),
    Column("pipeline", String(200), nullable=False, index=True),
    Column("partition", String(60), nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("status", String(20), nullable=False, index=True),
    Column("reason", String(40), nullable=False, default=""),
    Column("queued_at", String(40)),
    Column("started_at", String(40)),
    Column("ended_at", String(40)),
    Column("pool", String(100), nullable=False, default=""),
    Column("slots", Integer, nullable=False, default=1),
    Column("pid", Integer),
    Column("log_path", Text, nullable=False, default=""),
    Column("queue_seconds", Float),
    Column("startup_seconds", Float),
    Column("work_seconds", Float),
    Column("exit_code", Integer),
    Column("error_type", String(200), nullable=False, default=""),
    Column("error_message", Text, nullable=False, default=""),
    Column("inputs", Text, nullable=False, default="[]"),
    Column("outputs", Text, nullable=False, default="[]"),
    Column("seq", BigInteger, nullable=False, default=0),
)

tokens = Table(
    "tokens", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("name", String(200), nullable=False, default=""),
    Column("role", String(20), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("revoked_at", String(40)),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", String(40), nullable=False),
    Column("description", Text, nullable=False),
)


def _v1(conn: Connection) -> None:
    metadata.create_all(conn, tables=[events, partitions, partition_versions, runs, tokens])


# (version, description, step); append new steps, never edit an applied one
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "event log, partitions, partition versions, runs, tokens", _v1),
]
LATEST = MIGRATIONS[-1][0]


def migrate(conn: Connection, now: str) -> list[int]:
    """Apply the migrations the database lacks, in order; return the versions applied."""
    schema_version.create(conn, checkfirst=True)
    have = set(conn.execute(select(schema_version.c.version)).scalars())
    applied = []
    for version, description, step in MIGRATIONS:
        if version in have:
            continue
        step(conn)
        conn.execute(schema_version.insert().values(version=version, applied_at=now,
                                                    description=description))
        applied.append(version)
    return applied
