"""What the store knows of models' promotions: every ``model.promoted`` (the ``promotions``
read model of migration 8, kept in step inside the append transaction), and the version each
model serves, folded from them. Functions over a connection; the Store's reader is their door
(``Store.read()``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from andon.engine.runs import run_event_id
from andon.events.codec import format_time, from_dict
from andon.events.models import ModelHeld, ModelPromoted
from andon.model.status import RunStatus
from andon.model.views import View
from andon.store.schema import events, partition_versions, promotions, runs


@dataclass(frozen=True, slots=True, eq=False)
class Promotion(View):
    """One promotion of a model: the ``version`` (and its run) put into service, the one serving
    before (``previous``, 0: none), whether it was a ``rollback``, by whom, why and when."""

    version: int
    run_id: str
    previous: int
    rollback: bool
    by: str
    reason: str
    at: str


def project_promotion(conn: Connection, event: ModelPromoted, seq: int) -> None:
    """Record one promotion."""
    conn.execute(insert(promotions).values(
        seq=seq, model=event.model, version=event.version, run_id=event.run_id,
        previous=event.previous, rollback=int(event.rollback), by=event.by, reason=event.reason,
        at=format_time(event.at)))


def replay_promotions(conn: Connection) -> None:
    """Fill ``promotions`` from every ``model.promoted`` of the log, in order (migration 8)."""
    for row in conn.execute(select(events.c.seq, events.c.payload).where(
            events.c.type == ModelPromoted.name).order_by(events.c.seq)).all():
        event = from_dict(json.loads(row.payload))
        assert isinstance(event, ModelPromoted)
        project_promotion(conn, event, row.seq)


def promotions_of(conn: Connection, model: str) -> list[Promotion]:
    """Every promotion of ``model``, oldest first."""
    t = promotions
    q = select(t.c.version, t.c.run_id, t.c.previous, t.c.rollback, t.c.by, t.c.reason,
               t.c.at).where(t.c.model == model).order_by(t.c.seq)
    return [Promotion(r.version, r.run_id, r.previous, bool(r.rollback), r.by, r.reason, r.at)
            for r in conn.execute(q)]


def serving_stack(history: list[Promotion]) -> list[int]:
    """The versions that served, as a stack whose top serves now: a promotion pushes its
    version (unless it serves already), a rollback pops the top. A rollback goes to the next
    version down, so rolling back twice goes two versions back, not forth again."""
    stack: list[int] = []
    for p in history:
        if p.rollback:
            if stack:
                stack.pop()
            if not stack or stack[-1] != p.version:  # a log that disagrees: the event decides
                stack.append(p.version)
        elif not stack or stack[-1] != p.version:
            stack.append(p.version)
    return stack


def all_promotions(conn: Connection) -> dict[str, list[Promotion]]:
    """Every promotion of every model, oldest first, by model (one read)."""
    history: dict[str, list[Promotion]] = {}
    t = promotions
    for r in conn.execute(select(t.c.model, t.c.version, t.c.run_id, t.c.previous,
                                 t.c.rollback, t.c.by, t.c.reason, t.c.at).order_by(t.c.seq)):
        history.setdefault(r.model, []).append(
            Promotion(r.version, r.run_id, r.previous, bool(r.rollback), r.by, r.reason, r.at))
    return history


def serving_versions(conn: Connection) -> dict[str, int]:
    """The version each promoted model serves now, by model."""
    return {model: stack[-1] for model, h in all_promotions(conn).items()
            if (stack := serving_stack(h))}


def artifact_of(conn: Connection, run_id: str, partition: str, assets: Iterable[str]
                ) -> list[tuple[str, str, int]]:
    """What run ``run_id`` wrote of ``assets`` for ``partition`` (a model version's artifact:
    its run's outputs): (asset, partition, version) of each partition version it made, by
    asset. Looked up by the partition's key, not a scan."""
    t = partition_versions
    return [(r.asset, r.partition, r.version) for r in conn.execute(
        select(t.c.asset, t.c.partition, t.c.version).where(
            t.c.asset.in_(list(assets)), t.c.partition == partition, t.c.run_id == run_id)
        .order_by(t.c.asset))]


def measured(conn: Connection, pipeline: str, limit: int) -> list[tuple[str, dict[str, float]]]:
    """The metrics the newest successful runs of ``pipeline`` logged, one per partition (its
    newest run), newest partition first, at most ``limit`` partitions: what an
    ``andon.performance`` pipeline measured, from each run's ``run.succeeded`` (id
    ``ended:RUN_ID``)."""
    ok = (runs.c.pipeline == pipeline, runs.c.status == RunStatus.SUCCEEDED.value)
    rows = conn.execute(select(runs.c.partition, runs.c.run_id).where(*ok)
                        .order_by(runs.c.partition.desc(), runs.c.ended_at.desc(),
                                  runs.c.seq.desc()).limit(limit * 4)).all()
    newest: dict[str, str] = {}
    for r in rows:
        if r.partition not in newest and len(newest) < limit:
            newest[r.partition] = r.run_id
    ids = {run_event_id("ended", r): p for p, r in newest.items()}
    found: dict[str, dict[str, float]] = {}
    if ids:
        for row in conn.execute(select(events.c.id, events.c.payload).where(
                events.c.id.in_(list(ids)))):
            found[ids[row.id]] = json.loads(row.payload).get("metrics") or {}
    return [(p, found.get(p, {})) for p in newest]


@dataclass(frozen=True, slots=True, eq=False)
class Held(View):
    """A candidate version held back by its model's gate: why (``kind``, ``reason``), the
    version serving then, and when."""

    version: int
    serving: int
    kind: str
    reason: str
    at: str


def held_of(conn: Connection, model: str, history: list[Promotion], limit: int = 20
            ) -> list[Held]:
    """The newest ``limit`` times a candidate of ``model`` was held back (``model.held``),
    newest first, leaving out the versions promoted since (``history``: its promotions). Rare
    events: read from the log by type."""
    promoted = {p.version for p in history}
    out: list[Held] = []
    for row in conn.execute(select(events.c.payload).where(events.c.type == ModelHeld.name)
                            .order_by(events.c.seq.desc())):
        data = json.loads(row.payload)
        if data.get("model") == model and int(data.get("version", 0)) not in promoted:
            out.append(Held(int(data.get("version", 0)), int(data.get("serving", 0)),
                            str(data.get("kind", "")), str(data.get("reason", "")),
                            str(data.get("at", ""))))
            if len(out) >= limit:
                break
    return out
