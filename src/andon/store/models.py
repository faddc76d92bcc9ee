"""What the store knows of models' promotions: every ``model.promoted`` (the ``promotions``
read model of migration 8, kept in step inside the append transaction), and the version each
model serves, folded from them. Functions over a connection; the Store's reader is their door
(``Store.read()``)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select

from andon.events.codec import format_time, from_dict
from andon.events.models import ModelPromoted
from andon.model.views import View
from andon.store.schema import events, promotions


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


def serving_versions(conn: Connection) -> dict[str, int]:
    """The version each promoted model serves now, by model."""
    history: dict[str, list[Promotion]] = {}
    t = promotions
    for r in conn.execute(select(t.c.model, t.c.version, t.c.run_id, t.c.previous,
                                 t.c.rollback, t.c.by, t.c.reason, t.c.at).order_by(t.c.seq)):
        history.setdefault(r.model, []).append(
            Promotion(r.version, r.run_id, r.previous, bool(r.rollback), r.by, r.reason, r.at))
    return {model: stack[-1] for model, h in history.items() if (stack := serving_stack(h))}
