"""What ``andon sweep`` may delete, read at load time: the ``retention=`` and ``keep_last=``
options of ``andon.source`` and ``@andon.pipeline`` (a pipeline's apply to each of its outputs)
and the ``[sweep]`` table of andon.toml (``notice_days``, ``every``). Every problem is reported at
once, naming the file and line, the object and the fix (DefinitionError / ConfigError, exit 2)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from andon.model.definitions import Pipeline
from andon.model.durations import DurationFormatError, parse_duration
from andon.model.errors import ConfigError, DefinitionError
from andon.model.graph import Graph
from andon.model.lifecycle import SWEEP_PIPELINE
from andon.model.partitions import parse_partitions

MAX_RETENTION = timedelta(days=36_500)  # a hundred years: past that, say nothing
MIN_RETENTION = timedelta(hours=1)
MAX_KEEP_LAST = 100_000
MAX_NOTICE_DAYS = 366
NOTICE_DAYS = 14  # [sweep] notice_days: the least notice between a deprecation and its date
MIN_EVERY = timedelta(minutes=1)
MAX_EVERY = timedelta(days=366)
SWEEP_KEYS = ("notice_days", "every")


@dataclass(frozen=True)
class Retention:
    """How long the data of one data set is kept: versions older than ``max_age`` (made, or
    last read, that long ago), and versions past the data set's newest ``keep_last``; None:
    no such rule. ``where``: the declaration's file and line."""

    max_age: timedelta | None = None
    keep_last: int | None = None
    where: str = ""

    @property
    def age(self) -> str:
        """``max_age`` as written short ("90d"); "" for none."""
        return _days(self.max_age) if self.max_age is not None else ""

    @property
    def label(self) -> str:
        parts = []
        if self.max_age is not None:
            parts.append(f"retention {self.age}")
        if self.keep_last is not None:
            parts.append(f"keep_last {self.keep_last}")
        return ", ".join(parts)


@dataclass(frozen=True)
class SweepPolicy:
    """The project's sweep: the least notice of a deprecation (``notice_days``), how often the
    sweep runs by itself (``every``; None: only by hand) and the retention of each data set."""

    notice_days: int = NOTICE_DAYS
    every: timedelta | None = None
    retention: Mapping[str, Retention] = field(default_factory=dict)


def _days(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86400 == 0:
        return f"{seconds // 86400}d"
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"


def _max_age(raw: Any, label: str, problems: list[str]) -> timedelta | None:
    if raw is None:
        return None
    try:
        delta = parse_duration(raw)
    except DurationFormatError as exc:
        problems.append(f"{label}: retention={exc}; write e.g. retention='90d'")
        return None
    if not MIN_RETENTION <= delta <= MAX_RETENTION:
        problems.append(f"{label}: retention={raw!r} must be from 1h to {MAX_RETENTION.days} "
                        "days; write e.g. retention='90d'")
        return None
    return delta


def _keep_last(raw: Any, label: str, problems: list[str]) -> int | None:
    if raw is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_KEEP_LAST:
        problems.append(f"{label}: keep_last={raw!r} must be a whole number from 1 to "
                        f"{MAX_KEEP_LAST}; write e.g. keep_last=3")
        return None
    return raw


def retention_rules(declarations: Iterable[Any]) -> dict[str, Retention]:
    """data set -> its Retention, from the declarations (``andon.project.dsl.Declaration``);
    DefinitionError listing every bad option."""
    problems: list[str] = []
    rules: dict[str, Retention] = {}
    for d in declarations:
        if d.kind not in ("source", "pipeline"):
            continue
        raw_age, raw_keep = d.options.get("retention"), d.options.get("keep_last")
        if raw_age is None and raw_keep is None:
            continue
        label = f"{d.where}: {d.kind} {d.name!r}"
        rule = Retention(_max_age(raw_age, label, problems), _keep_last(raw_keep, label, problems),
                         d.where)
        outputs = [d.name] if d.kind == "source" else list(d.options.get("outputs") or ())
        for asset in outputs:
            if isinstance(asset, str):
                rules[asset] = rule
    if problems:
        raise DefinitionError(f"{len(problems)} problem(s) with retention:\n  "
                              + "\n  ".join(problems),
                              hint="retention is a duration ('90d', '12h'); keep_last a count")
    return rules


def sweep_policy(config: Mapping[str, Any], declarations: Iterable[Any], file: str) -> SweepPolicy:
    """The ``[sweep]`` table of andon.toml (``config``, the parsed file at ``file``) with the
    declarations' retention; ConfigError naming the key and the fix."""
    table = config.get("sweep", {})
    if not isinstance(table, dict):
        raise ConfigError("[sweep] must be a table", where=file,
                          hint='write [sweep] with notice_days = 14 and every = "1d"')
    unknown = sorted(set(table) - set(SWEEP_KEYS))
    if unknown:
        raise ConfigError(f"[sweep] has unknown key(s) {', '.join(unknown)}", where=file,
                          hint=f"the keys are {', '.join(SWEEP_KEYS)}")
    notice = table.get("notice_days", NOTICE_DAYS)
    if isinstance(notice, bool) or not isinstance(notice, int) \
            or not 0 <= notice <= MAX_NOTICE_DAYS:
        raise ConfigError(f"[sweep] notice_days = {notice!r} is not a whole number of days "
                          f"from 0 to {MAX_NOTICE_DAYS}", where=file,
                          hint="write notice_days = 14")
    every = None
    if "every" in table:
        try:
            every = parse_duration(table["every"])
        except DurationFormatError as exc:
            raise ConfigError(f"[sweep] every: {exc}", where=file,
                              hint='write every = "1d"') from None
        if not MIN_EVERY <= every <= MAX_EVERY:
            raise ConfigError(f"[sweep] every = {table['every']!r} must be from 1m to 366d",
                              where=file, hint='write every = "1d"')
    return SweepPolicy(notice, every, retention_rules(declarations))


def sweeping(graph: Graph, config: Mapping[str, Any], declarations: Iterable[Any],
             file: str) -> tuple[Graph, SweepPolicy]:
    """The project's sweep policy, and its graph with the built-in sweep pipeline when
    ``[sweep] every`` is set: an ordinary unpartitioned pipeline (``andon_sweep``) whose run is
    ``andon sweep --apply`` against the running scheduler, requested by the engine once per
    period (``andon.engine.lifecycle``), so that it shows on the board, in the runs and, when it
    fails (a deletion blocked, a refused location), in the operations manual."""
    policy = sweep_policy(config, declarations, file)
    if policy.every is None:
        return graph, policy
    if SWEEP_PIPELINE in graph.pipelines or SWEEP_PIPELINE in graph.assets:
        raise ConfigError(f"{SWEEP_PIPELINE} is the name of andon's scheduled sweep while [sweep] "
                          "every is set", where=file,
                          hint=f"rename your {SWEEP_PIPELINE}, or leave [sweep] every out")
    pool = "default" if "default" in graph.pools else min(graph.pools, default="default")
    pipe = Pipeline(SWEEP_PIPELINE, (), (), parse_partitions(None, datetime(1970, 1, 1, tzinfo=UTC)),
                    command=f"{shlex.quote(sys.executable)} -m andon sweep --apply --scheduled",
                    pool=pool, retries=3, retry_delay=timedelta(seconds=30),
                    description=f"andon's sweep, every {_days(policy.every)} ([sweep] every): "
                                "deletes what retention and agreed deprecations allow",
                    where=file)
    order = (*graph.order, SWEEP_PIPELINE)
    return replace(graph, pipelines={**graph.pipelines, SWEEP_PIPELINE: pipe}, order=order,
                   rank={**graph.rank, SWEEP_PIPELINE: len(order) - 1},
                   sweep_every=policy.every), policy
