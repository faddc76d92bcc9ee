"""What the board shows of models: on a model's page a chart per metric over its versions with
a marker per promotion, and on the front board each serving model with its serving version's
first metrics. Computed from the shared Service; no SQL and no markup here (the templates
escape every label)."""

from __future__ import annotations

from dataclasses import dataclass, field

from andon.checks.scoring import below
from andon.live.service import Service
from andon.store import performance as realised
from andon.store.models import Promotion
from andon.store.performance import RealisedValue
from andon.store.relations import ModelVersion
from andon.web.charts import VersionChart, version_chart
from andon.web.perfcharts import PartitionChart, partition_chart

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
    the run logged them) and how many more it logged; and its newest realised performance
    (``andon.performance``): the partition and each declared metric with its threshold (None:
    none) and whether it is past it."""

    name: str
    url: str
    serving: int
    deploy: str
    metrics: list[tuple[str, float]]
    more: int
    partition: str = ""
    realised: list[tuple[str, float, float | None, bool]] = field(default_factory=list)


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


def realised_charts(values: list[RealisedValue], threshold: dict[str, float]
                    ) -> list[PartitionChart]:
    """A chart per realised metric (not the per-version ``METRIC@vN`` ones, nor ``rows``) over
    the partitions, with its threshold; the metrics with a threshold first."""
    points: dict[str, list[tuple[str, float, int]]] = {}
    for v in values:
        if "@" not in v.metric and v.metric != "rows":
            points.setdefault(v.metric, []).append((v.partition, v.value, v.version))
    names = sorted(points, key=lambda m: (m not in threshold, m))[:CHARTS_SHOWN]
    return [partition_chart(m, points[m], threshold.get(m)) for m in names]


def performance_charts(svc: Service, name: str) -> list[PartitionChart]:
    """The realised performance charts of model ``name`` (none without a declaration)."""
    spec = svc.models.performance().get(name)
    if spec is None:
        return []
    with svc.store.read() as conn:
        values = realised.realised(conn, spec.name, spec.predictions, name)
    return realised_charts(values, dict(spec.threshold))


def serving_models(svc: Service) -> list[ServingModel]:
    """Every model of the catalog with a version serving, by name, with its newest realised
    performance against its thresholds. One read, three queries for all the models
    (``andon.store.performance.serving_all``); a model with none serving costs nothing."""
    models = {name: e for (kind, name), e in svc.catalog.entries().items() if kind == "model"}
    specs = svc.models.performance()
    with svc.store.read() as conn:
        serving = realised.serving_all(conn, {m: s.name for m, s in specs.items()})
    out = []
    for name in sorted(set(serving) & set(models)):
        e, s = models[name], serving[name]
        metrics = list(s.metrics.items())
        spec = specs.get(name)
        shown = [(m, s.realised[m], spec.threshold.get(m),
                  m in spec.threshold and below(m, s.realised[m], spec.threshold[m]))
                 for m in spec.metrics if m in s.realised] if spec else []
        out.append(ServingModel(name, e.url(), s.version, e.deploy, metrics[:METRICS_SHOWN],
                                len(metrics[METRICS_SHOWN:]), s.partition, shown))
    return out
