"""Scenario files (DESIGN.md section 4): load, validate, and turn into the engine's graph.

Every problem names the field (``pipelines[3].duration.p50``) and the fix; nothing is simulated
from a half-valid scenario.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from andon.model.definitions import Asset, Input, Pipeline, Pool
from andon.model.durations import DurationFormatError, parse_duration
from andon.model.errors import DefinitionError
from andon.model.graph import Graph, build_graph
from andon.model.partitions import Partitions
from andon.model.timefmt import day_key


class ScenarioError(DefinitionError):
    """A scenario file is invalid; the message names the file and the field."""


@dataclass(frozen=True)
class Arrival:
    after: timedelta
    jitter: timedelta = timedelta(0)
    late_probability: float = 0.0
    late_by: timedelta = timedelta(0)


@dataclass(frozen=True)
class Duration:
    """Either a log-normal fitted to (p50, p90) or a list of samples drawn with replacement."""

    p50: timedelta | None = None
    p90: timedelta | None = None
    samples: tuple[timedelta, ...] = ()


@dataclass(frozen=True)
class SimSource:
    name: str
    arrival: Arrival


@dataclass(frozen=True)
class SimPipeline:
    name: str
    duration: Duration
    startup: timedelta
    cron: timedelta | None
    deadline: timedelta | None


@dataclass(frozen=True)
class Incident:
    asset: str
    partition: str
    detected: datetime
    resolved: datetime


@dataclass(frozen=True)
class Scenario:
    name: str
    start: datetime
    days: int
    seed: int
    sources: dict[str, SimSource]
    pipelines: dict[str, SimPipeline]
    incidents: tuple[Incident, ...]
    graph: Graph
    path: str = ""

    @property
    def keys(self) -> list[str]:
        """The daily partition keys the scenario covers."""
        return [day_key(self.start + timedelta(days=d)) for d in range(self.days)]


_KIND_NAMES = {int: "a whole number", str: "a string", list: "a list", dict: "an object",
               float: "a number", bool: "true or false"}


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[str] = []

    def fail(self, field: str, text: str) -> None:
        self.problems.append(f"{field}: {text}")

    def need(self, obj: dict[str, Any], key: str, field: str, kind: type | tuple[type, ...]) -> Any:
        if key not in obj:
            self.fail(f"{field}.{key}" if field else key, "is required")
            return None
        value = obj[key]
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            kinds = kind if isinstance(kind, tuple) else (kind,)
            names = " or ".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            self.fail(f"{field}.{key}" if field else key, f"must be {names}, not {value!r}")
            return None
        return value

    def objects(self, items: list[Any] | None, key: str) -> Iterator[tuple[int, str, dict[str, Any]]]:
        """(index, field, entry) of each entry of the list ``key`` that is an object; any other
        entry is reported. ``items`` None: there is no list (already reported, or optional)."""
        for i, raw in enumerate(items or []):
            field = f"{key}[{i}]"
            if isinstance(raw, dict):
                yield i, field, raw
            else:
                self.fail(field, "must be an object")

    def duration(self, value: Any, field: str, default: timedelta | None = None) -> timedelta | None:
        if value is None:
            return default
        try:
            return parse_duration(value)
        except DurationFormatError as exc:
            self.fail(field, str(exc))
            return default

    def time(self, value: Any, field: str) -> datetime:
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            self.fail(field, f"{value!r} is not an ISO-8601 time; write e.g. 2026-01-08T05:00:00Z")
            return datetime(1970, 1, 1, tzinfo=UTC)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario (JSON, or YAML when PyYAML is installed)."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ScenarioError(f"cannot read the scenario: {exc.strerror}", where=str(path),
                            hint="give the path of a scenario .json file") from None
    try:
        if path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except ValueError as exc:
        raise ScenarioError(f"the scenario is not valid JSON: {exc}", where=str(path),
                            hint="fix the syntax at the position shown") from None
    return parse_scenario(data, str(path))


def parse_scenario(data: Any, path: str = "<scenario>") -> Scenario:
    r = _Reader(path)
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a JSON object", where=path,
                            hint="see DESIGN.md section 4 for the format")
    start = r.time(data.get("start", ""), "start")
    days = r.need(data, "days", "", int) or 1
    seed = data.get("seed", 0)
    pools_raw = r.need(data, "pools", "", dict) or {}
    pools = []
    for name, cap in pools_raw.items():
        if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
            r.fail(f"pools.{name}", f"must be a positive whole number of slots, not {cap!r}")
        else:
            pools.append(Pool(name, cap))
    scheme = Partitions("daily", start.replace(hour=0, minute=0, second=0, microsecond=0))
    sources: dict[str, SimSource] = {}
    assets: list[Asset] = []
    for i, field, raw in r.objects(r.need(data, "sources", "", list), "sources"):
        name = r.need(raw, "name", field, str) or f"?{i}"
        if raw.get("partitions", "daily") not in ("daily", None):
            r.fail(f"{field}.partitions", "only 'daily' partitions are simulated")
        arr = raw.get("arrival", {})
        if not isinstance(arr, dict):
            r.fail(f"{field}.arrival", "must be an object with after, jitter, ...")
            arr = {}
        prob = arr.get("late_probability", 0.0)
        if not isinstance(prob, (int, float)) or not 0 <= prob <= 1:
            r.fail(f"{field}.arrival.late_probability", f"must be between 0 and 1, not {prob!r}")
            prob = 0.0
        arrival = Arrival(
            r.duration(arr.get("after"), f"{field}.arrival.after", timedelta(0)) or timedelta(0),
            r.duration(arr.get("jitter"), f"{field}.arrival.jitter", timedelta(0)) or timedelta(0),
            float(prob),
            r.duration(arr.get("late_by"), f"{field}.arrival.late_by", timedelta(0)) or timedelta(0))
        sources[name] = SimSource(name, arrival)
        assets.append(Asset(name, scheme, source=True, expected_arrival=arrival.after,
                            where=f"{path}: {field}"))
    sims: dict[str, SimPipeline] = {}
    pipes: list[Pipeline] = []
    for i, field, raw in r.objects(r.need(data, "pipelines", "", list), "pipelines"):
        name = r.need(raw, "name", field, str) or f"?{i}"
        inputs = r.need(raw, "inputs", field, list) or []
        outputs = r.need(raw, "outputs", field, list) or []
        dur_raw = raw.get("duration")
        duration = Duration()
        if not isinstance(dur_raw, dict):
            r.fail(f"{field}.duration", "is required: {\"p50\": \"20m\", \"p90\": \"35m\"} or "
                   "{\"samples\": [\"12m\", ...]}")
        elif "samples" in dur_raw:
            samples = tuple(r.duration(s, f"{field}.duration.samples[{j}]", timedelta(0)) or
                            timedelta(0) for j, s in enumerate(dur_raw["samples"] or []))
            if not samples:
                r.fail(f"{field}.duration.samples", "needs at least one sample")
            duration = Duration(samples=samples)
        else:
            p50 = r.duration(dur_raw.get("p50"), f"{field}.duration.p50")
            p90 = r.duration(dur_raw.get("p90"), f"{field}.duration.p90", p50)
            if p50 is None:
                r.fail(f"{field}.duration.p50", "is required")
            elif p90 is not None and p90 < p50:
                r.fail(f"{field}.duration.p90", "must not be below p50")
            duration = Duration(p50, p90)
        slots, priority = raw.get("slots", 1), raw.get("priority", 1)
        for key, value in (("slots", slots), ("priority", priority)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                r.fail(f"{field}.{key}", f"must be a positive whole number, not {value!r}")
        deadline = r.duration(raw.get("deadline"), f"{field}.deadline")
        sims[name] = SimPipeline(
            name, duration, r.duration(raw.get("startup"), f"{field}.startup", timedelta(0)) or
            timedelta(0), r.duration(raw.get("cron"), f"{field}.cron"), deadline)
        pipes.append(Pipeline(
            name, tuple(Input(str(x)) for x in inputs), tuple(str(x) for x in outputs), scheme,
            command="(simulated)", pool=str(raw.get("pool", "default")),
            slots=slots if isinstance(slots, int) else 1,
            priority=priority if isinstance(priority, int) else 1, deadline=deadline,
            expected_duration=duration.p50, owner=str(raw.get("owner", "")),
            where=f"{path}: {field}"))
    incidents = []
    for _, field, raw in r.objects(data.get("incidents"), "incidents"):
        incidents.append(Incident(str(raw.get("asset")), str(raw.get("partition")),
                                  r.time(raw.get("detected"), f"{field}.detected"),
                                  r.time(raw.get("resolved"), f"{field}.resolved")))
    problems = [f"{path}: {p}" for p in r.problems]
    try:
        graph = build_graph(assets, pipes, pools, path, problems)
    except DefinitionError as exc:  # the graph's problems, with the fields found before
        raise ScenarioError(exc.message, where=path,
                            hint="fix each listed field (DESIGN.md section 4 has the format)"
                            ) from None
    for i, inc in enumerate(incidents):
        if inc.asset not in graph.assets:
            problems.append(f"{path}: incidents[{i}].asset: unknown asset {inc.asset!r}")
        if inc.resolved < inc.detected:
            problems.append(f"{path}: incidents[{i}].resolved is before detected")
    if problems:
        raise ScenarioError(f"{len(problems)} problem(s) in the scenario:\n  - " +
                            "\n  - ".join(problems), where=path,
                            hint="fix each listed field (DESIGN.md section 4 has the format)")
    return Scenario(str(data.get("name", Path(path).stem)), start, days, int(seed), sources, sims,
                    tuple(incidents), graph, path)
