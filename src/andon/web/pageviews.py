"""What the board's templates read: small frozen records of the pages' models, computed by
``andon.web.board`` (the board and what changed in the catalog, the asset page),
``andon.web.deliveries`` (today's deliveries, the pools) and ``andon.web.charts`` (the charts'
geometry). Times the templates format are datetimes or the log's text form (the ``t`` filter
takes both).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from andon.cord.views import Incident
from andon.manual.entries import Review
from andon.model.status import RunStatus
from andon.planner.views import PlannedDeliverable
from andon.store.views import RunFailure, Workers
from andon.web.charts import SeriesChart, StepChart

SEVERITY = {3: "critical", 2: "high", 1: "warning"}


# -- every page ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Health:
    """The health strip: whether the scheduler is alive and the database reachable, runs
    queued and running, the executor's slots busy of total (and its own health), open cords
    and the page's now; on the board's front page, the manual's review (its reactive share)."""

    scheduler: bool
    database: bool
    queued: int
    running: int
    workers: Workers
    cords: int
    now: datetime
    review: Review | None = None  # the board's front page: its reactive share as a vital sign
    standby_of: str = ""  # a team's standby: the leader it stands by (andon.serve.team)


# -- the board -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Line:
    """A pipeline as a line of the board: its colour (green, amber, red), state word and the
    reason in words, with the status's numbers, the deliverables at risk, how many partitions
    a cord halts and the first halting cord."""

    name: str
    colour: str
    state: str
    reason: str
    owner: str
    pool: str
    counts: dict[RunStatus, int]
    made: int
    failures: list[RunFailure]
    risky: list[PlannedDeliverable]
    halted: int
    cord_id: str | None


@dataclass(frozen=True, slots=True)
class Attention:
    """Something that needs a person: its ``severity`` (3 critical, 2 high, 1 warning), what
    kind, since when, a title and the reason, what to do (``action``: rerun, asset, deliveries)
    and what it is about."""

    severity: int
    kind: str
    since: str | None
    title: str
    reason: str
    action: str
    pipeline: str = ""
    partition: str = ""
    run_id: str = ""
    asset: str = ""
    cord_id: str | None = None

    @property
    def level(self) -> str:
        return SEVERITY[self.severity]


@dataclass(frozen=True, slots=True)
class CheckState:
    """The latest result of a check on a partition (its ``check.*`` event, at log position
    ``seq``)."""

    asset: str
    partition: str
    check: str
    version: int
    passed: bool
    blocking: bool
    message: str
    numbers: Mapping[str, float]
    at: str
    seq: int


@dataclass(frozen=True, slots=True)
class Change:
    """An entry of the catalog that changed lately (``kind``, ``name``, its page ``url``): when
    (stored UTC text), what in words, the page of the change itself (a run; "" for none) and a
    ``state`` word for its pill (a run's status; "" for none)."""

    at: str
    kind: str
    name: str
    url: str
    what: str
    link: str = ""
    state: str = ""


# -- a data set ----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Cell:
    """A partition of a data set in its grid: its key, state word and, when made, its version,
    when and how many rows."""

    key: str
    state: str
    version: int | None
    at: str | None
    rows: int | None


@dataclass(frozen=True, slots=True)
class Grid:
    """The latest partitions of a data set, and the states that occur among them (in the
    legend's order)."""

    cells: list[Cell]
    states: list[str]


@dataclass(frozen=True, slots=True)
class CheckSeries:
    """A check's measurement over partitions: (partition, value, passed) points, and its chart."""

    check: str
    measure: str
    points: list[tuple[str, float, bool]]
    chart: SeriesChart


@dataclass(frozen=True, slots=True)
class AssetView:
    """Everything the asset page shows but the lineage drawing: what the data set is, who owns,
    makes and reads it, its deadline or usual arrival, its partitions, checks and cords."""

    name: str
    source: bool
    owner: str
    description: str
    producer: str | None
    consumers: list[str]
    deadline: str
    expected_arrival: str
    partitions: str
    example_key: str
    grid: Grid
    checks: list[CheckState]
    check_series: list[CheckSeries]
    cords: list[Incident]
    location: str


# -- over time -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class PoolView:
    """A pool: capacity, slots in use and runs queued now, and both over [since, until] (as
    step points and as charts), with the peak use."""

    name: str
    capacity: int
    in_use: int
    queued: int
    use: list[tuple[datetime, int]]
    queue: list[tuple[datetime, int]]
    since: datetime
    until: datetime
    peak: int
    use_chart: StepChart
    queue_chart: StepChart


@dataclass(frozen=True, slots=True)
class PathStep:
    """A step of a critical path with its moments, in words (``when``), and whether it ended
    after its latest finish (``over``: where the time was lost)."""

    kind: str
    name: str
    partition: str
    state: str
    start_t: datetime | None
    finish_t: datetime | None
    latest_t: datetime | None
    when: str
    over: bool


@dataclass(frozen=True, slots=True)
class Delivery:
    """A deliverable of the day: its ``status`` word (missed, late, at risk, on plan,
    delivered), the due time, the plan as first made, the current prediction (``moved``: it
    differs), the actual run, each in words too, the drift of the outcome from the first plan
    and the critical path."""

    pipeline: str
    partition: str
    reason: str
    status: str
    due_t: datetime
    start_t: datetime | None
    finish_t: datetime | None
    first_start_t: datetime | None
    first_finish_t: datetime | None
    moved: bool
    first_text: str
    predicted_text: str
    actual_text: str
    drift: str | None
    actual_start: datetime | None
    actual_end: datetime | None
    delivered_t: datetime | None
    late: bool
    path: list[PathStep]


@dataclass(frozen=True, slots=True)
class Deliveries:
    """Today's deliverables (``day`` to ``end``), late or at risk first, and how many are."""

    day: datetime
    end: datetime
    items: list[Delivery]
    late_or_at_risk: int
