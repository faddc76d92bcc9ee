"""Tables of the event log and its read models, and the versioned migrations that create them."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    select,
)

from andon.model.errors import ConfigError
from andon.store.catalogtext import catalog_search_indexes
from andon.store.types import SearchDocument

metadata = MetaData()

events = Table(
    "events", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
           autoincrement=True),
    Column("id", Text, nullable=False, unique=True),
    Column("type", Text, nullable=False, index=True),
    Column("at", Text, nullable=False),
    Column("payload", Text, nullable=False),
)

partitions = Table(  # the current version of each partition
    "partitions", metadata,
    Column("asset", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("at", Text, nullable=False),
    Column("run_id", Text, nullable=False, default=""),
    Column("origin", Text, nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("rows", BigInteger),
    Column("fingerprint", Text, nullable=False, default=""),
)

partition_versions = Table(  # every materialisation, numbered per partition
    "partition_versions", metadata,
    Column("asset", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("at", Text, nullable=False),
    Column("run_id", Text, nullable=False, default=""),
    Column("origin", Text, nullable=False, default=""),
    Column("location", Text, nullable=False, default=""),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("rows", BigInteger),
    Column("fingerprint", Text, nullable=False, default=""),
)

runs = Table(
    "runs", metadata,
    Column("run_id", Text, primary_key=True),
    Column("pipeline", Text, nullable=False, index=True),
    Column("partition", Text, nullable=False),
    Column("attempt", Integer, nullable=False, default=1),
    Column("status", Text, nullable=False, index=True),
    Column("reason", Text, nullable=False, default=""),
    Column("queued_at", Text),
    Column("started_at", Text),
    Column("ended_at", Text),
    Column("pool", Text, nullable=False, default=""),
    Column("slots", Integer, nullable=False, default=1),
    Column("pid", Integer),
    Column("log_path", Text, nullable=False, default=""),
    Column("queue_seconds", Float),
    Column("startup_seconds", Float),
    Column("work_seconds", Float),
    Column("exit_code", Integer),
    Column("error_type", Text, nullable=False, default=""),
    Column("error_message", Text, nullable=False, default=""),
    Column("inputs", Text, nullable=False, default="[]"),
    Column("outputs", Text, nullable=False, default="[]"),
    Column("seq", BigInteger, nullable=False, default=0, index=True),  # newest first
)

tokens = Table(
    "tokens", metadata,
    Column("sha256", Text, primary_key=True),
    Column("name", Text, nullable=False, default=""),
    Column("role", Text, nullable=False),
    Column("created_at", Text, nullable=False),
    Column("revoked_at", Text),
)

cords = Table(  # one row per andon cord: its scope, its state and its incident timeline
    "cords", metadata,
    Column("cord_id", Text, primary_key=True),
    Column("asset", Text, nullable=False),
    Column("partition", Text, nullable=False),
    Column("version", Integer, nullable=False, default=0),  # the bad version
    Column("reason", Text, nullable=False, default=""),
    Column("pulled_by", Text, nullable=False, default=""),
    Column("status", Text, nullable=False, index=True),  # pulled|resolving|released|recovered
    Column("producer", Text, nullable=False, default=""),
    Column("produced_at", Text),  # when the bad version was made
    Column("detected_at", Text),
    Column("pulled_at", Text, nullable=False),
    Column("resolved_at", Text),
    Column("resolved_by", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("manual_fix", Integer, nullable=False, default=0),
    Column("resolutions", Integer, nullable=False, default=0),
    Column("remake_run_id", Text, nullable=False, default=""),
    Column("remake_error", Text, nullable=False, default=""),
    Column("remade_at", Text),  # re-made (or accepted as fixed): the halt was released
    Column("recovered_at", Text),  # every affected partition re-made
    Column("halted", Integer, nullable=False, default=0),  # partitions in its scope
    Column("held", Integer, nullable=False, default=0),  # queued runs held at the pull
    Column("cancelled", Integer, nullable=False, default=0),  # running runs cancelled
    Column("seq", BigInteger, nullable=False, default=0, index=True),
)

halts = Table(  # (pipeline, partition) halted by an open cord
    "halts", metadata,
    Column("cord_id", Text, primary_key=True),
    Column("pipeline", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("position", Integer, nullable=False, default=0),  # dependency order within the cord
)

cord_outputs = Table(  # suspect output versions and what was done with them
    "cord_outputs", metadata,
    Column("cord_id", Text, primary_key=True),
    Column("asset", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("pipeline", Text, nullable=False, default=""),
    Column("action", Text, nullable=False, default="keep"),
    Column("state", Text, nullable=False, default="suspect"),  # suspect|quarantined|deleted|restored
    Column("location", Text, nullable=False, default=""),
    Column("quarantine_path", Text, nullable=False, default=""),
    Column("at", Text, nullable=False),
)

first_plans = Table(  # the plan as first made for each deliverable (deliverable.planned)
    "first_plans", metadata,
    Column("pipeline", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("due", Text, nullable=False, index=True),
    Column("predicted_start", Text),
    Column("predicted_finish", Text),
    Column("planned_at", Text, nullable=False),
    Column("policy", Text, nullable=False, default=""),
    Column("seq", BigInteger, nullable=False, default=0),
)

access_requests = Table(  # one row per access request and its decision (andon.store.access)
    "access_requests", metadata,
    Column("request_id", Text, primary_key=True),
    Column("asset", Text, nullable=False, index=True),
    Column("requester", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", Text, nullable=False),  # the last day of access (YYYY-MM-DD)
    Column("answers", Text, nullable=False, default="{}"),
    Column("contact", Text, nullable=False, default=""),
    Column("status", Text, nullable=False, index=True),  # requested|approved|rejected|expired
    Column("requested_at", Text, nullable=False),
    Column("decided_at", Text),
    Column("decided_by", Text, nullable=False, default=""),
    Column("decision_note", Text, nullable=False, default=""),  # the note, or why rejected
    Column("expired_at", Text),
    Column("seq", BigInteger, nullable=False, default=0, index=True),
)

consumers = Table(  # registered external consumers of a data set, until their date
    "consumers", metadata,
    Column("asset", Text, primary_key=True),
    Column("consumer", Text, primary_key=True),
    Column("until", Text, nullable=False),
    Column("request_id", Text, nullable=False, default=""),  # '' for `andon subscribe`
    Column("subscribed_at", Text, nullable=False),
    Column("subscribed_by", Text, nullable=False, default=""),
    Column("seq", BigInteger, nullable=False, default=0),
)

catalog = Table(  # every entry of the catalog: the project's files' (synced) and the API's
    "catalog", metadata,
    Column("kind", Text, primary_key=True),
    Column("name", Text, primary_key=True),
    Column("origin", Text, primary_key=True),  # definitions | file | api
    Column("owner", Text, nullable=False, default=""),
    Column("team", Text, nullable=False, default=""),
    Column("description", Text, nullable=False, default=""),
    Column("tags", Text, nullable=False, default="[]"),  # JSON
    Column("links", Text, nullable=False, default="[]"),  # JSON: [[label, url], ...]
    Column("lifecycle", Text, nullable=False, default="active"),
    Column("since", Text, nullable=False, default=""),
    Column("access", Text, nullable=False, default=""),
    Column("producer", Text, nullable=False, default=""),
    Column("upstream", Text, nullable=False, default="[]"),  # JSON
    Column("downstream", Text, nullable=False, default="[]"),  # JSON
    Column("defined_in", Text, nullable=False, default=""),  # file:line, or who declared it
    Column("digest", Text, nullable=False, default=""),  # of the row: a sync rewrites changes only
    Column("shadowed", Integer, nullable=False, default=0),  # an API entry the files took over
    Column("seq", BigInteger, nullable=False, default=0),
    Column("lname", Text, nullable=False),  # lower(name): exact and prefix matches
    # PostgreSQL's full-text document (weighted name, tags, owner and team, description)
    Column("doc", SearchDocument()),
)

reads = Table(  # per data set, the pipelines whose runs read it (run.started inputs)
    "reads", metadata,
    Column("asset", Text, primary_key=True),
    Column("pipeline", Text, primary_key=True),
    Column("runs", BigInteger, nullable=False, default=0),  # runs of it that read the data set
    Column("last_at", Text, nullable=False),  # when the last of them started
    Column("last_partition", Text, nullable=False, default=""),  # the newest partition it read
    Column("last_run_id", Text, nullable=False, default=""),
)

problems = Table(  # every problem andon saw: the facts the manual groups (andon.store.manual)
    "problems", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the event's
    Column("kind", Text, nullable=False),  # andon.manual.entries.KINDS
    Column("pipeline", Text, nullable=False, default=""),
    Column("asset", Text, nullable=False, default=""),
    Column("partition", Text, nullable=False, default=""),
    Column("run_id", Text, nullable=False, default="", index=True),
    Column("cord_id", Text, nullable=False, default="", index=True),
    Column("check_name", Text, nullable=False, default=""),
    Column("attempt", Integer, nullable=False, default=1),
    Column("error_type", Text, nullable=False, default=""),
    Column("message", Text, nullable=False, default=""),
    Column("masked", Text, nullable=False, default=""),  # andon.model.masks.mask(message)
    Column("frames", Text, nullable=False, default="[]"),  # JSON [[file, function], ...]
    Column("at", Text, nullable=False),
    Column("began", Text, nullable=False, default=""),
    Column("recovered", Text, nullable=False, default=""),
    Column("recovered_by", Text, nullable=False, default=""),  # the run that made it good
    Column("retried", Integer, nullable=False, default=0),  # a retry followed: not for good
    Column("code_version", Text, nullable=False, default=""),
    Column("git_commit", Text, nullable=False, default=""),
    Column("touched", BigInteger, nullable=False, index=True),  # seq of the last event changing it
    Index("problems_by_pipeline", "pipeline", "partition"),
    Index("problems_by_asset", "asset", "partition"),
)

resolutions = Table(  # how problems were fixed: manual.resolved, and cords' resolve notes
    "resolutions", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the event's
    Column("entry", Text, nullable=False, default=""),  # the manual entry ("" for a cord's)
    Column("cord_id", Text, nullable=False, default=""),
    Column("note", Text, nullable=False),
    Column("link", Text, nullable=False, default=""),
    Column("git_commit", Text, nullable=False, default=""),
    Column("code_version", Text, nullable=False, default=""),
    Column("by", Text, nullable=False, default=""),
    Column("at", Text, nullable=False),
)

run_code = Table(  # the code version each run started from (run.started)
    "run_code", metadata,
    Column("run_id", Text, primary_key=True),
    Column("code_version", Text, nullable=False, index=True),
    Column("git_commit", Text, nullable=False, default=""),
    Column("seq", BigInteger, nullable=False, index=True),  # a reader folds what is new
)

promotions = Table(  # every model.promoted: which version of each model serves (store/models.py)
    "promotions", metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),  # the event's
    Column("model", Text, nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("run_id", Text, nullable=False, default=""),
    Column("previous", Integer, nullable=False, default=0),
    Column("rollback", Integer, nullable=False, default=0),
    Column("by", Text, nullable=False, default=""),
    Column("reason", Text, nullable=False, default=""),
    Column("at", Text, nullable=False),
)

deprecations = Table(  # the latest notice of each deprecated object (andon.store.lifecycle)
    "deprecations", metadata,
    Column("kind", Text, primary_key=True),  # dataset | pipeline
    Column("object", Text, primary_key=True),
    Column("delete_after", Text, nullable=False),  # YYYY-MM-DD
    Column("reason", Text, nullable=False, default=""),
    Column("replacement", Text, nullable=False, default=""),
    Column("by", Text, nullable=False, default=""),
    Column("owner", Text, nullable=False, default=""),
    Column("assets", Text, nullable=False, default="[]"),  # JSON: the data sets whose data goes
    Column("noticed_at", Text, nullable=False),
    Column("deleted_at", Text),  # lifecycle.deleted: its data is gone
    Column("deleted_by", Text, nullable=False, default=""),
    Column("seq", BigInteger, nullable=False, default=0),
)

tombstones = Table(  # every file a sweep removed: lifecycle.data_deleted, recorded before
    "tombstones", metadata,
    Column("asset", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("location", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False, default=0),
    Column("rule", Text, nullable=False),
    Column("reason", Text, nullable=False, default=""),
    Column("by", Text, nullable=False, default=""),
    Column("at", Text, nullable=False),
    Column("seq", BigInteger, nullable=False, default=0, index=True),
)

drift_reports = Table(  # drift reports kept by andon.live.driftkeeper (store/driftreports.py):
    # a cache, not a projection of the log: derivable again from the profiles, safe to drop
    "drift_reports", metadata,
    Column("asset", Text, primary_key=True),
    Column("partition", Text, primary_key=True),
    Column("reference", Text, primary_key=True),  # digest of the label and (partition, run)s
    Column("run_id", Text, nullable=False),  # the run that wrote the partition's profile
    Column("tested", Integer, nullable=False, default=0),  # 1: p-values and BH are in
    Column("body", Text, nullable=False),  # label, reference partitions, cells, error (JSON)
    Column("digest", Text, nullable=False),  # sha256 of the key and body: edits are refused
    Column("at", Text, nullable=False),
)

snapshots = Table(  # engine-state snapshots (store/snapshots.py): derivable again from the
    # log, safe to drop; one snapshot is the rows of one seq, written in one transaction
    "snapshots", metadata,
    Column("seq", BigInteger, primary_key=True),  # the last event of the log the state holds
    Column("part", Text, primary_key=True),  # "state", or "day:YYYY-MM-DD" (a day out of memory)
    Column("format", Integer, nullable=False),  # andon.engine.snapshot.FORMAT
    Column("digest", Text, nullable=False),  # andon.engine.snapshot.graph_digest
    Column("body", LargeBinary, nullable=False),  # zlib-compressed JSON
    Column("sha256", Text, nullable=False),  # of the body: a damaged row is never used
    Column("at", Text, nullable=False),
)

leader_lease = Table(  # the leader of a team on PostgreSQL (store/leader.py): one row, id 1;
    # ``token`` (the fencing token) grows by one at each take-over and every write checks it
    "leader_lease", metadata,
    Column("id", Integer, primary_key=True),
    Column("token", BigInteger, nullable=False),
    Column("holder", Text, nullable=False),  # pid, host and state folder of the leader
    Column("api_url", Text, nullable=False, default=""),  # where the leader's API answers
    Column("since", Text, nullable=False),
)

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Text, nullable=False),
    Column("description", Text, nullable=False),
)


def _v1(conn: Connection) -> None:
    # Builds the tables from the live definitions above. When a later step changes one of them,
    # first freeze this step (copy the v1 definitions in here): a new database runs every step in
    # order, so a v1 that already has the change makes the later step fail in every store test.
    metadata.create_all(conn, tables=[events, partitions, partition_versions, runs, tokens])


def _v2(conn: Connection) -> None:
    # New tables only, from the live definitions: freeze them in here (as for _v1) before a later
    # step changes one of them.
    metadata.create_all(conn, tables=[cords, halts, cord_outputs])


def _v3(conn: Connection) -> None:
    # a new table only, from the live definition: freeze it in here (as for _v1) before a later
    # step changes it
    metadata.create_all(conn, tables=[first_plans])


def _v4(conn: Connection) -> None:
    # new tables only, from the live definitions: freeze them in here (as for _v1) before a
    # later step changes one of them
    metadata.create_all(conn, tables=[access_requests, consumers])


def _v5(conn: Connection) -> None:
    # a new table only (4 and 6 are other tables of issue 11), from the live definition: freeze
    # it in here (as for _v1) before a later step changes it
    metadata.create_all(conn, tables=[catalog])
    if conn.dialect.name == "postgresql":
        catalog_search_indexes(conn)


def _v6(conn: Connection) -> None:
    # a new table only, from the live definition (freeze it in here, as for _v1, before a later
    # step changes it), filled from the log's run.started events: a database that ran before
    # this step has the same reads as one that recorded them as they came
    from andon.store.relations import replay_reads

    metadata.create_all(conn, tables=[reads])
    replay_reads(conn)


def _v7(conn: Connection) -> None:
    # new tables only, from the live definitions (freeze them in here, as for _v1, before a
    # later step changes one of them), filled from the log: a database that ran before this step
    # has the same manual as one that recorded its problems as they came
    from andon.store.manual import replay_problems

    metadata.create_all(conn, tables=[problems, resolutions, run_code])
    # the review sums the compute of the runs that ended in its window
    conn.exec_driver_sql("CREATE INDEX runs_by_end ON runs (ended_at)")
    replay_problems(conn)


def _v8(conn: Connection) -> None:
    # a new table only, from the live definition (freeze it in here, as for _v1, before a later
    # step changes it), filled from the log's model.promoted events
    from andon.store.models import replay_promotions

    metadata.create_all(conn, tables=[promotions])
    replay_promotions(conn)


def _v9(conn: Connection) -> None:
    # new tables only, from the live definitions (freeze them in here,
    # as for _v1, before a later step changes one of them), filled from the log
    from andon.store.lifecycle import replay_lifecycle

    metadata.create_all(conn, tables=[deprecations, tombstones])
    replay_lifecycle(conn)


def _v10(conn: Connection) -> None:
    # a new table only, from the live definition (freeze it in here, as for _v1, before a later
    # step changes it); empty: the reports are computed again from the profiles as needed
    metadata.create_all(conn, tables=[drift_reports])


def _v11(conn: Connection) -> None:
    # a new table only, from the live definition (freeze it in here before a later step
    # changes it); empty until a leader takes the lead on PostgreSQL
    metadata.create_all(conn, tables=[leader_lease])


def _v12(conn: Connection) -> None:
    # a new table only, from the live definition (freeze it in here, as for _v1, before a later
    # step changes it); empty: the next snapshot is written after snapshot_every events
    metadata.create_all(conn, tables=[snapshots])


# (version, description, step): append steps, never edit one; then python -m andon.store.fresh
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "event log, partitions, partition versions, runs, tokens", _v1),
    (2, "andon cords, halted partitions, suspect outputs", _v2),
    (3, "the first plan of each deliverable", _v3),
    (4, "access requests and registered consumers", _v4),
    (5, "the catalog: every entry of the registry", _v5),
    (6, "the pipelines that read each data set (consumers observed)", _v6),
    (7, "the operations manual: problems, resolutions, code versions of runs", _v7),
    (8, "model promotions: which version of each model serves", _v8),
    (9, "agreed deletions: deprecations and the tombstones of swept files", _v9),
    (10, "drift reports kept per partition and reference (a cache of the profiles)", _v10),
    (11, "the leader lease of a team on PostgreSQL: holder, API address, fencing token", _v11),
    (12, "engine-state snapshots and the settled days out of memory", _v12),
]
LATEST = MIGRATIONS[-1][0]


def migrate(conn: Connection, now: str) -> list[int]:
    """Apply the migrations the database lacks, in order, in the caller's transaction (which
    must hold the write lock); return the versions applied. Refuses a database made by a newer
    andon, whose schema this code does not know."""
    schema_version.create(conn, checkfirst=True)
    have = set(conn.execute(select(schema_version.c.version)).scalars())
    known = {version for version, _, _ in MIGRATIONS}
    if have - known:
        raise ConfigError(
            f"the database has schema version {max(have)}, newer than this andon knows ({LATEST})",
            hint="upgrade andon (pip install -U andon), or point it at another database")
    applied = []
    for version, description, step in MIGRATIONS:
        if version in have:
            continue
        step(conn)
        conn.execute(schema_version.insert().values(version=version, applied_at=now,
                                                    description=description))
        applied.append(version)
    return applied
