"""Realised performance of a model (``andon.performance``): the declaration, and the run of the
pipeline andon derives from it, which reads a partition of the predictions and the same
partition of the labels, joins them by key and logs each metric with ``ctx.log_metric`` (so
that they land on the run's ``run.succeeded`` as every metric does).

With a ``model_version`` column in the predictions (shadow scoring: the serving version and a
candidate scored the same rows), each metric is logged per version too, as ``METRIC@vN``; the
plain ``METRIC`` is over the rows of the version with the most rows (the lowest version on a
tie: a candidate usually has the higher number), or over every row without the column.
``rows`` (and ``rows@vN``) counts the rows joined.

A bad partition fails its run, never the scheduler: ``PerformanceError`` names the model, the
partition and the column (and the row and value for a value that is no number)."""

from __future__ import annotations

import csv
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from andon.checks.scoring import BINARY, METRICS, PerformanceError, below
from andon.executors.context import Context
from andon.model.errors import DefinitionError
from andon.model.limits import name_problem
from andon.project.dsl import derived_pipeline, where_called

VERSION_COLUMN = "model_version"  # in the predictions: the version that scored each row
MAX_VERSIONS = 10  # versions in one partition of predictions (each adds a metric per metric)
_VERSION = re.compile(r"v?([1-9][0-9]{0,8})(?:\.0+)?")


@dataclass(frozen=True)
class Spec:
    """One ``andon.performance(...)`` declaration, checked."""

    model: str
    predictions: str
    labels: str
    metrics: tuple[str, ...]
    key: str
    prediction: str
    label: str
    threshold: Mapping[str, float] = field(default_factory=dict)
    name: str = ""


class Realised:
    """The function of the pipeline derived from ``spec``: a callable taking the run's context
    (a class, so that the board and the API find the declaration behind a pipeline:
    ``spec_of``)."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.__name__ = spec.name

    def __call__(self, ctx: Context) -> None:
        measure(self.spec, ctx)


def spec_of(fn: object) -> Spec | None:
    """The declaration behind a pipeline's function, or None for any other pipeline."""
    return fn.spec if isinstance(fn, Realised) else None


def specs(functions: Iterable[object]) -> dict[str, Spec]:
    """The performance declarations among pipelines' ``functions``, by model (the first
    declared, for a model declared twice)."""
    found: dict[str, Spec] = {}
    for fn in functions:
        spec = spec_of(fn)
        if spec is not None:
            found.setdefault(spec.model, spec)
    return found


def performance(model: str, *, predictions: str, labels: str, metric: Any = "auc",
                key: str = "id", prediction: str = "score", label: str = "label",
                threshold: Mapping[str, float] | None = None, name: str | None = None) -> str:
    """Declare the realised performance of ``model``: a pipeline (``name``, by default
    ``MODEL_performance``) whose inputs are the same partition of ``predictions`` and of
    ``labels`` (usually a source that lands later), so it runs when both exist. Its run joins
    them on the column ``key`` and logs ``metric`` (one name or a list of them: auc, accuracy,
    precision, recall, f1, log_loss, rmse, mae, r2) of column ``prediction`` against column
    ``label``; ``threshold`` maps a metric to the value the board draws it against (a floor, or
    a ceiling for log_loss, rmse and mae). Returns the pipeline's name."""
    where = where_called()
    spec = checked(model, predictions, labels, metric, key, prediction, label, threshold, name,
                   where)
    derived_pipeline(spec.name, inputs=[spec.predictions, spec.labels], outputs=[spec.name],
                     locations={spec.name: "data/{asset}/{partition}.json"}, where=where,
                     fn=Realised(spec), kind="performance",
                     description=f"realised {', '.join(spec.metrics)} of model {spec.model}: "
                                 f"{spec.predictions} joined with {spec.labels} by {spec.key}")
    return spec.name


def checked(model: object, predictions: object, labels: object, metric: object, key: object,
            prediction: object, label: object, threshold: object, name: object,
            where: str) -> Spec:
    """The declaration as a Spec, or DefinitionError naming the argument and the fix."""
    def fail(problem: str, hint: str) -> DefinitionError:
        return DefinitionError(f"andon.performance({str(model)[:60]!r}): {problem}", where=where,
                               hint=hint)

    for arg, value in (("model", model), ("predictions", predictions), ("labels", labels),
                       ("key", key), ("prediction", prediction), ("label", label)):
        bad = name_problem(arg, value)
        if bad:
            raise fail(f"{arg}= : {bad}", f"pass {arg}= as a name, e.g. {arg}='id'")
    known = ", ".join(METRICS)
    names = [metric] if isinstance(metric, str) else metric
    if not isinstance(names, (list, tuple)) or not names or len(names) > len(METRICS):
        raise fail(f"metric={metric!r} is not a metric or a list of 1 to {len(METRICS)} metrics",
                   f"e.g. metric='auc' or metric=['auc', 'accuracy']; known: {known}")
    unknown = [m for m in names if m not in METRICS]
    if unknown:
        raise fail(f"unknown metric {str(unknown[0])[:60]!r}", f"known metrics: {known}")
    if predictions == labels:
        raise fail(f"predictions and labels are both {predictions!r}",
                   "labels are the data set of what really happened, another than the "
                   "predictions")
    if prediction == key or label == key:
        raise fail(f"the key column {key!r} is also the {'prediction' if prediction == key else 'label'}"
                   " column", "name the column that holds the ids with key=")
    thresholds: dict[str, float] = {}
    if threshold is not None:
        if not isinstance(threshold, Mapping):
            raise fail(f"threshold={threshold!r} is not a mapping of metric to value",
                       "e.g. threshold={'auc': 0.7}")
        for m, value in threshold.items():
            if m not in names:
                raise fail(f"threshold names {str(m)[:60]!r}, which is not among the metrics "
                           f"({', '.join(names)})", "give thresholds for declared metrics")
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise fail(f"threshold[{m!r}] = {value!r} is not a finite number",
                           "e.g. threshold={'auc': 0.7}")
            thresholds[m] = float(value)
    label_name = f"{model}_performance" if name is None else name
    bad = name_problem("pipeline", label_name)
    if bad:
        raise fail(f"name= : {bad}", "pass name='...' (an identifier), the pipeline's name")
    return Spec(str(model), str(predictions), str(labels), tuple(dict.fromkeys(names)),
                str(key), str(prediction), str(label), thresholds, str(label_name))


def measure(spec: Spec, ctx: Context) -> dict[str, float]:
    """Read, join and measure partition ``ctx.partition``; log the metrics and write the
    output (the metrics as JSON). PerformanceError for a bad partition."""
    where = f"model {spec.model!r}, partition {ctx.partition}"
    versioned, preds = _rows(spec, ctx, spec.predictions, (spec.key, spec.prediction))
    _, labels = _rows(spec, ctx, spec.labels, (spec.key, spec.label))
    truth: dict[str, tuple[int, str]] = {}
    for line, row in labels:
        k = row[spec.key]
        if k in truth:
            raise PerformanceError(f"{where}: labels hold key {spec.key}={k[:60]!r} twice (rows "
                                   f"{truth[k][0]} and {line}); one label per key")
        truth[k] = (line, row[spec.label])
    joined = [(line, row, truth[row[spec.key]]) for line, row in preds if row[spec.key] in truth]
    if not joined:
        raise PerformanceError(
            f"{where}: the predictions ({len(preds)} rows) and the labels ({len(labels)} rows) "
            f"share no value of the key column {spec.key!r}; check both are keyed by the same "
            f"ids (e.g. {preds[0][1][spec.key][:40]!r} in the predictions, "
            f"{labels[0][1][spec.key][:40]!r} in the labels)")
    classes = set(spec.metrics) == {"accuracy"} and not _all_numbers(joined, spec)
    by_version: dict[int, tuple[list[Any], list[Any]]] = {}
    versions: dict[str, int] = {}  # raw -> number: a few distinct values, parsed once each
    truths: dict[str, float] = {}  # the same for labels (0 and 1, mostly)
    for line, row, (label_line, raw_label) in joined:
        version = 0
        if versioned:
            raw_version = row[VERSION_COLUMN]
            version = versions.get(raw_version) or versions.setdefault(
                raw_version, _version(spec, where, line, raw_version))
        p, y = by_version.setdefault(version, ([], []))
        if classes:
            p.append(row[spec.prediction])
            y.append(raw_label)
            continue
        p.append(_number(where, spec.predictions, spec.prediction, line, row[spec.prediction]))
        known = truths.get(raw_label)
        y.append(known if known is not None else truths.setdefault(
            raw_label, _label(spec, where, label_line, raw_label)))
    if len(by_version) > MAX_VERSIONS:
        raise PerformanceError(f"{where}: column {VERSION_COLUMN!r} holds {len(by_version)} "
                               f"versions, more than {MAX_VERSIONS}; score with the serving "
                               "version and a few candidates")
    counts = Counter({v: len(pair[0]) for v, pair in by_version.items()})
    main = min(v for v, n in counts.items() if n == max(counts.values()))
    out: dict[str, float] = {"rows": float(len(joined))}
    for m in spec.metrics:
        out[m] = _metric(where, m, *by_version[main])
        if versioned:
            for v in sorted(by_version):
                out[f"{m}@v{v}"] = _metric(f"{where}, version {v}", m, *by_version[v])
    if versioned:
        for v in sorted(by_version):
            out[f"rows@v{v}"] = float(counts[v])
    for name, value in out.items():
        ctx.log_metric(name, value)
    for m, floor in spec.threshold.items():
        if below(m, out[m], floor):
            ctx.log.warning("%s %s = %.4f is past its threshold %s", spec.model, m, out[m], floor)
    path = ctx.output(spec.name)
    path.write_text(json.dumps({"model": spec.model, "partition": ctx.partition,
                                "version": main if versioned else None, "metrics": out,
                                "threshold": dict(spec.threshold)}, indent=1))
    ctx.set_rows(spec.name, len(out))
    ctx.log.info("%s: %s over %d joined rows", spec.model,
                 ", ".join(f"{m}={out[m]:.4f}" for m in spec.metrics), len(joined))
    return out


def _metric(where: str, metric: str, predictions: list[Any], labels: list[Any]) -> float:
    try:
        return METRICS[metric](predictions, labels)
    except PerformanceError as exc:
        raise PerformanceError(f"{where}: {exc}") from None


def _rows(spec: Spec, ctx: Context, asset: str, needed: tuple[str, ...]
          ) -> tuple[bool, list[tuple[int, dict[str, str]]]]:
    """Whether the file has a ``model_version`` column, and its rows (file line, row) holding
    ``needed`` columns; PerformanceError for a missing file, column or an empty partition."""
    where = f"model {spec.model!r}, partition {ctx.partition}"
    path = ctx.inputs[asset]
    if not isinstance(path, Path) or not path.is_file():
        raise PerformanceError(f"{where}: {asset} is {path}, not a file; andon.performance "
                               "reads one CSV (or Parquet) file per partition")
    columns, rows = _read(path, (*needed, VERSION_COLUMN))
    missing = [c for c in needed if c not in columns]
    if missing:
        raise PerformanceError(f"{where}: {asset} ({path.name}) has no column {missing[0]!r}; "
                               f"its columns: {', '.join(columns)[:300] or 'none'}")
    if not rows:
        raise PerformanceError(f"{where}: {asset} ({path.name}) is empty (no rows)")
    return VERSION_COLUMN in columns and asset == spec.predictions, rows


def _read(path: Path, wanted: tuple[str, ...]
          ) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """The columns of a CSV or Parquet file and its rows as text, each with its line (Parquet:
    its row number + 1) and only the ``wanted`` columns it has (a small dict a row: the files
    may be wide and long)."""
    if path.suffix in (".parquet", ".pq"):
        try:
            import pandas
        except ImportError:
            raise PerformanceError(f"{path.name} is Parquet: install pandas and pyarrow to read "
                                   "it (pip install pandas pyarrow), or write CSV") from None
        frame = pandas.read_parquet(path)
        columns = [str(c) for c in frame.columns]
        kept = [c for c in frame.columns if str(c) in wanted]
        records = frame[kept].astype(str).to_dict("records")
        return columns, [(i + 2, {str(k): v for k, v in r.items()})
                         for i, r in enumerate(records)]
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        reader = csv.reader(fh)
        columns = next(reader, [])
        index = [(c, i) for i, c in enumerate(columns) if c in wanted]
        rows = []
        for row in reader:
            if row:  # a blank line is no row (as csv.DictReader has it)
                rows.append((reader.line_num,
                             {c: row[i] if i < len(row) else "" for c, i in index}))
        return columns, rows


def _all_numbers(joined: list[tuple[int, dict[str, str], tuple[int, str]]], spec: Spec) -> bool:
    try:
        for _, row, (_, raw) in joined:
            float(row[spec.prediction])
            float(raw)
    except ValueError:
        return False
    return True


def _number(where: str, asset: str, column: str, line: int, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PerformanceError(f"{where}: {asset} column {column!r}, row {line}: "
                               f"{raw[:60]!r} is not a number")
    return value


def _label(spec: Spec, where: str, line: int, raw: str) -> float:
    value = _number(where, spec.labels, spec.label, line, raw)
    if BINARY & set(spec.metrics) and value not in (0.0, 1.0):
        raise PerformanceError(f"{where}: {spec.labels} column {spec.label!r}, row {line}: "
                               f"{raw[:60]!r} is not a class 0 or 1 "
                               f"({', '.join(sorted(BINARY & set(spec.metrics)))} need them)")
    return value


def _version(spec: Spec, where: str, line: int, raw: str) -> int:
    found = _VERSION.fullmatch(raw.strip())
    if not found:
        raise PerformanceError(f"{where}: {spec.predictions} column {VERSION_COLUMN!r}, row "
                               f"{line}: {raw[:60]!r} is not a model version (e.g. 8 or v8)")
    return int(found.group(1))
