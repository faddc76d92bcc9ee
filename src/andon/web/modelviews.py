"""What the board shows of models: on a model's page a chart per metric over its versions with
a marker per promotion, and on the front board each serving model with its serving version's
first metrics. Computed from the shared Service; no SQL and no markup here (the templates
escape every label)."""

from __future__ import annotations

from dataclasses import dataclass

from andon.live.service import Service
from andon.store import models as promotions
from andon.store import relations
from andon.store.models import Promotion
from andon.store.relations import ModelVersion
from andon.web.charts import VersionChart, version_chart

CHARTS_SHOWN = 8  # a model's metrics charted on its page; the rest are listed by name
METRICS_SHOWN = 3  # a serving model's metrics on the front board


@dataclass(frozen=True, slots=True)
class MetricCharts:
    """A model's metrics over its versions: a chart for each of the first ``CHARTS_SHOWN``
    (by name) and the names of the rest (``more``)."""

    charts: list[VersionChart]
    more: list[str]


@dataclass(frozen=True, slots=True)
class ServingModel:
    """A model with a version serving, for the front board: its page, the version serving, its
    deploy policy, that version's first ``METRICS_SHOWN`` metrics (name, value, in the order
    the run logged them) and how many more it logged."""

    name: str
    url: str
    serving: int
    deploy: str
    metrics: list[tuple[str, float]]
    more: int


def metric_charts(versions: list[ModelVersion], history: list[Promotion], serving: int,
                  most: int = CHARTS_SHOWN) -> MetricCharts:
    """A chart per metric the ``versions`` logged (newest first, as the model's view has them),
    all over the same axis of version numbers, each with the ``serving`` version marked and a
    marker per promotion of ``history``."""
    if not versions:
        return MetricCharts([], [])
    numbers = [v.number for v in versions]
    span = (min(numbers), max(numbers))
    names = sorted({name for v in versions for name in v.metrics})
    marks = [(p.version, p.rollback, p.by, p.reason) for p in history]
    charts = [version_chart(name, [(v.number, v.metrics[name]) for v in versions
                                   if name in v.metrics], span, serving, marks)
              for name in names[:most]]
    return MetricCharts(charts, names[most:])


def serving_models(svc: Service) -> list[ServingModel]:
    """Every model of the catalog with a version serving, by name. One read: the serving
    versions of every model in one query, then for each serving model its serving version
    (three indexed queries); a model with none costs nothing."""
    models = {name: e for (kind, name), e in svc.catalog.entries().items() if kind == "model"}
    out = []
    with svc.store.read() as conn:
        serving = promotions.serving_versions(conn)
        for name in sorted(set(serving) & set(models)):
            e = models[name]
            found = (relations.model_versions(conn, e.producer, 1, serving[name])[1]
                     if e.producer else [])
            metrics = list(found[0].metrics.items()) if found else []
            out.append(ServingModel(name, e.url(), serving[name], e.deploy,
                                    metrics[:METRICS_SHOWN], len(metrics[METRICS_SHOWN:])))
    return out
