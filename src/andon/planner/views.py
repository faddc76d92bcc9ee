"""The plan as its readers get it (``andon plan``, ``GET /api/v1/plan``, the board, /metrics):
frozen views (``andon.model.views.View``) of a forecast seen at a moment, its times in the log's
text form (UTC), each with its JSON in one place (``to_json``).
"""

from __future__ import annotations

from dataclasses import dataclass

from andon.model.views import Json, View


@dataclass(frozen=True, slots=True, eq=False)
class PlanStep(View):
    """A step of a deliverable's critical path (``andon.planner.critical.Step``): a source's
    ``arrival`` or a pipeline's ``run`` of a partition, its state (done, running, waiting,
    overdue...), its (predicted) start and finish and the latest finish every deadline
    downstream allows."""

    kind: str
    name: str
    partition: str
    state: str
    start: str | None
    finish: str | None
    latest_finish: str | None


@dataclass(frozen=True, slots=True, eq=False)
class FirstPlan(View):
    """A deliverable's plan as first made (its ``deliverable.planned`` event): the predicted
    start and finish then, and when."""

    predicted_start: str | None
    predicted_finish: str | None
    planned_at: str


@dataclass(frozen=True, slots=True, eq=False)
class PlannedDeliverable(View):
    """The forecast of one deliverable (``andon.planner.forecast.Deliverable``): its state
    (waiting, queued, running, blocked, delivered), predicted start and finish, due time, when it
    was delivered, the slack in seconds (negative: late), whether it is at risk and why.
    ``critical_path`` and ``first_plan`` are there when asked for (the plan's detail; None
    otherwise): ``first_plan`` is then None when no first plan was recorded."""

    pipeline: str
    partition: str
    owner: str
    state: str
    predicted_start: str | None
    predicted_finish: str | None
    due: str
    delivered_at: str | None
    slack_seconds: float | None
    at_risk: bool
    reason: str
    critical_path: tuple[PlanStep, ...] | None = None
    first_plan: FirstPlan | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PlanView(View):
    """The plan as of ``as_of``: the dispatch policy that ranked the work, how many deliverables
    are at risk, every upcoming deliverable (by due time) and ``problems``: the first
    inconsistencies the replay of the log found (``andon.engine.state.Problem`` as JSON)."""

    as_of: str
    policy: str
    at_risk: int
    deliverables: tuple[PlannedDeliverable, ...]
    problems: tuple[Json, ...] = ()
