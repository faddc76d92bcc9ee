"""What the store knows of models' realised performance (``andon.performance``): per partition
of a performance pipeline, the metrics of its newest successful run and the model version that
was serving when the predictions partition was written; and, for the front board, the serving
version of every model with the metrics of its run and the newest realised metrics, in one read.

The serving version at a partition is decided by time: the version the promotions (oldest first,
``andon.store.models.serving_stack``) had put into service at the moment the predictions
partition's current version was recorded (``partitions.at``); 0 when none served yet. Functions
over a connection; the Store's reader is their door (``Store.read()``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, and_, func, select

from andon.engine.runs import run_event_id
from andon.model.status import RunStatus
from andon.model.views import View
from andon.store.models import Promotion, all_promotions, promotions_of, serving_stack
from andon.store.schema import events, partitions, runs

PARTITIONS_SHOWN = 60  # a model's newest performance partitions, for its page and the API


@dataclass(frozen=True, slots=True, eq=False)
class RealisedValue(View):
    """One realised metric of one partition: its ``value``, and the ``version`` of the model
    serving when the predictions of that partition were written (0: none)."""

    partition: str
    metric: str
    value: float
    version: int


def realised(conn: Connection, pipeline: str, predictions: str, model: str,
             shown: int = PARTITIONS_SHOWN) -> list[RealisedValue]:
    """The newest ``shown`` partitions of ``pipeline`` (oldest first), each with the metrics of
    its newest successful run, by metric name; four queries, whatever the number of
    partitions."""
    ok = (runs.c.pipeline == pipeline, runs.c.status == RunStatus.SUCCEEDED.value)
    newest = (select(runs.c.partition).where(*ok).group_by(runs.c.partition)
              .order_by(runs.c.partition.desc()).limit(shown))
    rows = conn.execute(select(runs.c.partition, runs.c.run_id).where(
        *ok, runs.c.partition.in_(newest.scalar_subquery()))
        .order_by(runs.c.partition, runs.c.ended_at, runs.c.seq)).all()
    run_of = {r.partition: r.run_id for r in rows}  # the newest run of each partition wins
    if not run_of:
        return []
    logged = logged_metrics(conn, run_of.values())
    written = {r.partition: r.at for r in conn.execute(select(
        partitions.c.partition, partitions.c.at).where(
        partitions.c.asset == predictions, partitions.c.partition.in_(list(run_of))))}
    history = promotions_of(conn, model)
    out = []
    for key in sorted(run_of):
        version = serving_at(history, written.get(key))
        for metric, value in logged.get(run_of[key], {}).items():
            out.append(RealisedValue(key, metric, value, version))
    return out


def serving_at(history: list[Promotion], at: str | None) -> int:
    """The version the promotions of ``history`` (oldest first) had put into service at time
    ``at`` (an ISO time as the store writes them); 0 for none or an unknown time."""
    if at is None:
        return 0
    stack = serving_stack([p for p in history if p.at <= at])
    return stack[-1] if stack else 0


def logged_metrics(conn: Connection, run_ids: Iterable[str]) -> dict[str, dict[str, float]]:
    """The metrics each run logged, from its ``run.succeeded`` event (one query)."""
    ids = {run_event_id("ended", r): r for r in run_ids}
    if not ids:
        return {}
    return {ids[row.id]: json.loads(row.payload).get("metrics") or {}
            for row in conn.execute(select(events.c.id, events.c.payload).where(
                events.c.id.in_(list(ids))))}


@dataclass(frozen=True, slots=True)
class Serving:
    """A model with a version serving: the version, the metrics its run logged, and the newest
    partition of its realised performance with that run's metrics ("" and {} for none)."""

    version: int
    metrics: dict[str, float]
    partition: str
    realised: dict[str, float]


def serving_all(conn: Connection, performance: dict[str, str]) -> dict[str, Serving]:
    """Every model with a version serving, by name; ``performance``: model -> the pipeline of
    its realised performance. Three queries for all the models: the promotions, the newest
    successful run of each performance pipeline, and the metrics of all those runs."""
    history = all_promotions(conn)
    serving: dict[str, Promotion] = {}
    for model, h in history.items():
        stack = serving_stack(h)
        if stack:  # the run of the newest promotion that put the serving version in
            serving[model] = next(p for p in reversed(h) if p.version == stack[-1])
    pipelines = {performance[m]: m for m in serving if m in performance}
    newest: dict[str, tuple[str, str]] = {}  # model -> (partition, run id)
    if pipelines:  # the newest partition of each, then its newest successful run
        ok = (runs.c.pipeline.in_(list(pipelines)), runs.c.status == RunStatus.SUCCEEDED.value)
        last = (select(runs.c.pipeline, func.max(runs.c.partition).label("partition"))
                .where(*ok).group_by(runs.c.pipeline).subquery())
        for n in conn.execute(select(runs.c.pipeline, runs.c.partition, runs.c.run_id).join(
                last, and_(runs.c.pipeline == last.c.pipeline,
                           runs.c.partition == last.c.partition))
                .where(*ok).order_by(runs.c.ended_at, runs.c.seq)):
            newest[pipelines[n.pipeline]] = (n.partition, n.run_id)
    logged = logged_metrics(conn, [p.run_id for p in serving.values()] +
                            [run for _, run in newest.values()])
    return {m: Serving(p.version, logged.get(p.run_id, {}), newest.get(m, ("", ""))[0],
                       logged.get(newest[m][1], {}) if m in newest else {})
            for m, p in serving.items()}
