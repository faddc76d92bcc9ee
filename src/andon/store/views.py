"""The records the read side answers with: what the store's queries return and the Service
passes on to the API, the command line and the pages.

Each is a view (``andon.model.views.View``): a frozen record of typed fields in the order of the
API's JSON object, with ``to_json`` the one place it becomes JSON; the API's handlers and the
command line's local client both call it, so ``andon ... --json`` offline prints what the API
answers.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from andon.model.status import RunStatus
from andon.model.views import Json, View
from andon.store.schema import run_code, runs

# runs with the code version each started from
RUN_QUERY = select(runs, run_code.c.code_version, run_code.c.git_commit.label("commit")) \
    .select_from(runs.outerjoin(run_code, run_code.c.run_id == runs.c.run_id))

# -- runs ----------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class RunView(View):
    """One run as the ``runs`` read model holds it: times as stored (UTC text, None before
    they happen), the slots it holds, where its log goes, what it read (``inputs``: asset,
    partition, version) and wrote (``outputs``: asset, partition, location, size_bytes, rows,
    fingerprint), and its error; ``seq``: the log position of its first event (newest first)."""

    run_id: str
    pipeline: str
    partition: str
    attempt: int
    status: RunStatus
    reason: str
    queued_at: str | None
    started_at: str | None
    ended_at: str | None
    pool: str
    slots: int
    pid: int | None
    log_path: str
    queue_seconds: float | None
    startup_seconds: float | None
    work_seconds: float | None
    exit_code: int | None
    error_type: str
    error_message: str
    inputs: list[Json]  # the run.* events' PartitionRef records, as stored
    outputs: list[Json]  # the run.succeeded event's OutputWritten records, as stored
    seq: int
    code_version: str = ""  # the definitions' content hash it started from ("" before it did)
    commit: str = ""  # the project's git commit then
    # what the operations manual knows of its failure (``andon.manual.entries.Hint``'s JSON):
    # filled by the Service for failed runs, None otherwise
    hint: Json | None = None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> RunView:
        """A row of the ``runs`` table (``inputs`` and ``outputs`` are stored as JSON text),
        with its ``run_code`` (``code_version``, ``commit``) when joined (``RUN_QUERY``)."""
        values = dict(row)
        values["status"] = RunStatus(values["status"])
        values["code_version"] = values.get("code_version") or ""
        values["commit"] = values.get("commit") or ""
        values["inputs"] = json.loads(values["inputs"] or "[]")
        values["outputs"] = json.loads(values["outputs"] or "[]")
        return cls(**values)


@dataclass(frozen=True, slots=True, eq=False)
class RunSpan(View):
    """When a run held or waited for slots (pools over time, the day's deliveries)."""

    pipeline: str
    partition: str
    status: RunStatus
    pool: str
    slots: int
    queued_at: str | None
    started_at: str | None
    ended_at: str | None


@dataclass(frozen=True, slots=True, eq=False)
class RunFailure(View):
    """The newest run of a partition, failed: what the status lists under its pipeline."""

    run_id: str
    partition: str
    error_type: str
    error_message: str
    ended_at: str | None


# -- partitions, plans, tokens -------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class PartitionView(View):
    """One version of a partition (the current one in ``partitions``, every one in
    ``partition_versions``): when, by which run (or ``origin``: notify, file, manual_fix...),
    where, how big and its content fingerprint."""

    asset: str
    partition: str
    version: int
    at: str
    run_id: str
    origin: str
    location: str
    size_bytes: int
    rows: int | None
    fingerprint: str


@dataclass(frozen=True, slots=True, eq=False)
class FirstPlan(View):
    """The plan as first made of one deliverable (``deliverable.planned``)."""

    pipeline: str
    partition: str
    due: str
    predicted_start: str | None
    predicted_finish: str | None
    planned_at: str
    policy: str


@dataclass(frozen=True, slots=True, eq=False)
class TokenView(View):
    """An API token as listed: its id (never the token or its SHA-256), label, role, when it
    was made and revoked (None while it is valid)."""

    id: str
    name: str
    role: str
    created_at: str
    revoked_at: str | None


@dataclass(frozen=True, slots=True)
class NewToken:
    """A token just made: the token itself (shown once, never stored) and its listing; its
    JSON is the listing's with the token first."""

    token: str
    listing: TokenView

    def to_json(self) -> Json:
        return {"token": self.token, **self.listing.to_json()}


# -- how things stand ----------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, eq=False)
class PipelineStatus(View):
    """A pipeline's line in the status: its ``state`` word (halted, failed, running, queued,
    ok, waiting), how many partitions' newest runs are in each status, how many partitions it
    made, the newest failures (at most five) and how many partitions a cord halts."""

    name: str
    state: str
    pool: str
    partitions: dict[RunStatus, int]
    made: int
    failures: list[RunFailure]
    owner: str
    halted: int


@dataclass(frozen=True, slots=True, eq=False)
class SourceStatus(View):
    """What arrived of a source: how many partitions and the newest key."""

    name: str
    partitions: int
    latest: str | None
    owner: str


@dataclass(frozen=True, slots=True, eq=False)
class StatusView(View):
    """The status: pipelines in dependency order, sources by name, runs per status, the log's
    length, the open cords and every halted partition (as ``andon.cord.incidents`` gives them)."""

    pipelines: list[PipelineStatus]
    sources: list[SourceStatus]
    runs: dict[RunStatus, int]
    events: int
    cords: list[Json]  # the JSON of andon.cord.views.Incident (a layer above the store)
    halted: list[Json]  # the JSON of andon.cord.views.Halted


@dataclass(frozen=True, slots=True, eq=False)
class Workers(View):
    """Executor slots ``busy`` of ``total``, and the executor's own health (its ``name``,
    ``mode``, whether it is ``alive``; None with no scheduler running)."""

    busy: int
    total: int
    executor: Json | None


@dataclass(frozen=True, slots=True, eq=False)
class Problems(View):
    """How many events of the log did not fit the state before them, and the first ones
    (``andon.engine.state.Problem`` as JSON)."""

    count: int
    first: list[Json]
