"""Live planning for a shell: learn from the log, re-plan, and turn a deliverable's predicted
finish passing its due time into an event, once, and its due time passing undelivered into
another, once.

Pure like the rest of the planner: the shell (the runner, or ``andon plan`` on the store) hands
in events, the engine state and the time, and records the events it gets back.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypedDict, overload

from andon.events import (
    DeliverableAtRisk,
    DeliverableMissed,
    DeliverablePlanned,
    DeliverableRecovered,
    Event,
    PartitionAvailable,
    RunSucceeded,
)
from andon.model.dispatch import DEFAULT_POLICY, Policy
from andon.model.errors import ConfigError
from andon.model.graph import Graph
from andon.planner.forecast import Deliverable, Forecast, forecast, ranking
from andon.planner.memo import Memo
from andon.planner.policies import POLICIES, Jit, Planner, make_policy
from andon.planner.state import PlanningState
from andon.planner.stats import HISTORY
from andon.planner.views import PlanView

# events that do not move the plan (a run's process spawned, a notification, a passing check)
QUIET = frozenset({"run.launched", "notification.sent", "notification.failed", "check.passed",
                   "deliverable.planned", "deliverable.at_risk", "deliverable.recovered",
                   "deliverable.missed"})
FRESH = 1.0  # seconds: how stale the forecast may be after something moved the plan




def make_planner(name: str, graph: Graph) -> Planner:
    """The dispatch policy ``name`` for ``graph``; a ConfigError naming the fix when it is
    unknown or needs an extra that is not installed."""
    if name not in POLICIES:
        raise ConfigError(f"policy {name!r} is not known",
                          hint="set policy to one of " + ", ".join(POLICIES))
    if name == Policy.CPSAT:
        from andon.planner.cpsat import available

        if not available():
            raise ConfigError(f"policy '{Policy.CPSAT}' needs OR-Tools, which is not installed",
                              hint=f"pip install 'andon[opt]', or set policy = '{DEFAULT_POLICY}'")
    planner = make_policy(name, graph)
    if isinstance(planner, Jit):
        # the rollout's what-if days would run on the runner thread: there jit orders by its
        # rule and hold-back alone; ``andon up`` runs the rollout on a worker (live.advisor)
        planner.rollout = False
    return planner


class _StateFields(TypedDict):
    """The fields of a deliverable's at-risk, recovered and missed events."""

    pipeline: str
    partition: str
    owner: str
    reason: str
    due: datetime
    predicted_finish: datetime | None


class LivePlan:
    """The planner as a live shell drives it: history, the latest forecast, which deliverables
    are at risk and which missed their due time (as the log says), and which have their first
    plan recorded."""

    def __init__(self, graph: Graph, planner: Planner, fresh: float = FRESH) -> None:
        self.graph = graph
        self.planner = planner
        self.enabled = any(p.deadline is not None for p in graph.pipelines.values())
        self.latest: Forecast | None = None
        self.open: dict[tuple[str, str], int] = {}  # at risk now -> N of its at-risk event
        self.count: dict[tuple[str, str], int] = {}  # at-risk events so far per deliverable
        # deliverables in the plan whose first plan is recorded. Not read from the log: after a
        # restart the plan proposes them again and the store keeps the first (same event id)
        self.planned: set[tuple[str, str]] = set()
        self.missed: set[tuple[str, str]] = set()  # recorded missed (the log, then each commit)
        self._due: float | None = None  # the next due time of an undelivered deliverable
        self._history: dict[str, deque[Event]] = {}
        self.order = ranking(planner)  # how the forecast ranks ready work
        self.memo = Memo(graph)  # the forecast's lookups of the graph, kept between forecasts
        # a forecast of 1,000 pipelines takes a good part of a second of the runner's thread:
        # after one, events that move the plan wait up to ``fresh`` seconds of the clock for the
        # next, which then sees them all at once (the clock's time, so fake clocks stay exact)
        self.fresh = fresh
        self._forecast_at = float("-inf")
        self._moved = False  # something moved the plan since the latest forecast

    # -- learning --------------------------------------------------------------------------------

    def tap(self, events: Iterable[Event], fresh: bool = True) -> Iterator[Event]:
        """Pass the log through (to the engine's ``replay``), keeping what to learn from: the
        latest arrivals per source and durations per pipeline, and the at-risk and missed
        events. ``fresh=False``: the events follow what ``restore`` gave (a snapshot's tail)."""
        if fresh:
            self.open.clear()
            self.count.clear()
            self.missed.clear()
        self._history = {}
        for ev in events:
            if isinstance(ev, PartitionAvailable):
                self._history.setdefault("a:" + ev.asset, deque(maxlen=HISTORY)).append(ev)
            elif isinstance(ev, RunSucceeded):
                self._history.setdefault("d:" + ev.pipeline, deque(maxlen=HISTORY)).append(ev)
            elif isinstance(ev, (DeliverableAtRisk, DeliverableRecovered, DeliverableMissed)):
                self._see(ev)
            yield ev

    def seed(self, state: PlanningState) -> None:
        """After the replay: learn the durations and arrivals the tapped log holds (newest
        weigh most) on top of the declared ones."""
        recent = sorted((ev for q in self._history.values() for ev in q), key=lambda e: e.at)
        self._history = {}
        for ev in recent:
            try:
                self.planner.observe(state, (ev,))
            except ValueError:  # a partition key the definitions no longer have: skip it
                continue

    def summary(self) -> dict[str, Any]:
        """What the plan learned from the log, as JSON-ready data for a snapshot: the planner's
        statistics (bounded: the recent observations) and the deliverables at risk or missed."""
        return {"stats": self.planner.stats.summary(),
                "open": [[*k, n] for k, n in self.open.items()],
                "count": [[*k, n] for k, n in self.count.items()],
                "missed": [list(k) for k in self.missed]}

    def restore(self, data: Any) -> None:
        """Start from a ``summary``; ValueError when the data is not one."""
        try:
            self.planner.restore_stats(data["stats"])
            self.open = {(str(p), str(k)): int(n) for p, k, n in data["open"]}
            self.count = {(str(p), str(k)): int(n) for p, k, n in data["count"]}
            self.missed = {(str(p), str(k)) for p, k in data["missed"]}
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a summary of the plan: {exc}") from None

    def learn(self, state: PlanningState, events: Iterable[Event]) -> None:
        """After a commit: learn from the events just recorded."""
        events = list(events)
        self.planner.observe(state, events)
        for ev in events:
            if isinstance(ev, (DeliverableAtRisk, DeliverableRecovered, DeliverableMissed)):
                self._see(ev)
            elif isinstance(ev, DeliverablePlanned):
                self.planned.add((ev.pipeline, ev.partition))

    def _see(self, ev: DeliverableAtRisk | DeliverableRecovered | DeliverableMissed) -> None:
        key = (ev.pipeline, ev.partition)
        if isinstance(ev, DeliverableMissed):
            self.missed.add(key)
        elif isinstance(ev, DeliverableAtRisk):
            self.count[key] = self.count.get(key, 0) + 1
            self.open[key] = self.count[key]
        else:
            self.open.pop(key, None)

    # -- planning --------------------------------------------------------------------------------

    @property
    def wake(self) -> datetime | None:
        """The next moment the plan changes without an event (None: only events change it),
        or an undelivered deliverable comes due (to record it missed then)."""
        if self.latest is None:
            return None
        pending = self._forecast_at + self.fresh if self._moved else None
        wake = min((w for w in (self.latest.wake, self._due, pending) if w is not None),
                   default=None)
        return None if wake is None else datetime.fromtimestamp(wake, UTC)

    def stale(self, events: Iterable[Event], now: datetime, idle: bool = False) -> bool:
        """Whether to forecast again: something that moved the plan happened (now, or since the
        latest forecast) and that forecast is ``fresh`` seconds old — or the caller has nothing
        else waiting (``idle``: a burst is coalesced, a line at rest has its forecast current,
        whatever its clock does) —, or a timer of the plan came (even though nothing happened).
        When something moved too soon after the latest forecast, ``wake`` says when to look
        again."""
        if not self.enabled:
            return False
        self._moved = self._moved or any(ev.name not in QUIET for ev in events)
        wake = self.wake
        return (self.latest is None or (idle and self._moved)
                or (wake is not None and now >= wake))

    def replan(self, state: PlanningState, now: datetime) -> list[Event]:
        """Forecast again; return the events to record (``learn`` them once they are
        committed): the first plan of a deliverable seen undelivered with a prediction, the
        at-risk and recovered ones, and one undelivered at its due time (missed). Nothing when no
        pipeline has a deadline."""
        if not self.enabled:
            return []
        fc = forecast(self.graph, state, self.planner, now, self.order, self.memo)
        self.latest, self._forecast_at, self._moved = fc, fc.now, False
        self._due = min((d.due for d in fc.deliverables if not d.delivered and d.due > fc.now),
                        default=None)
        out: list[Event] = []
        seen = set()
        for d in fc.deliverables:
            key = (d.pipeline, d.partition)
            seen.add(key)
            if key not in self.planned and not d.delivered and d.predicted_finish is not None:
                out.append(self._first_plan(d, now))
            if d.at_risk and key not in self.open:
                n = self.count.get(key, 0) + 1
                out.append(DeliverableAtRisk(id=f"at_risk:{d.pipeline}:{d.partition}:{n}",
                                             at=now, **self._fields(d)))
            elif key in self.open and not d.at_risk:
                if d.delivered and (d.slack or 0) < 0:
                    self.open.pop(key)  # delivered late: not back on plan, no longer at risk
                    continue
                out.append(DeliverableRecovered(
                    id=f"recovered:{d.pipeline}:{d.partition}:{self.open[key]}", at=now,
                    **self._fields(d)))
            if not d.delivered and d.due <= fc.now and key not in self.missed:
                out.append(DeliverableMissed(id=f"missed:{d.pipeline}:{d.partition}", at=now,
                                             **self._fields(d)))
        for key in [k for k in self.open if k not in seen]:  # out of the plan's window
            del self.open[key]
        self.planned &= seen
        self.missed &= seen  # out of the window for good: the clock only moves on
        return out

    def close(self) -> None:
        """Nothing to end here (a plan that forecasts elsewhere ends that: ``live.forecaster``)."""

    def _first_plan(self, d: Deliverable, now: datetime) -> DeliverablePlanned:
        return DeliverablePlanned(id=f"planned:{d.pipeline}:{d.partition}", at=now,
                                  pipeline=d.pipeline, partition=d.partition, owner=d.owner,
                                  due=_moment(d.due), predicted_start=_moment(d.predicted_start),
                                  predicted_finish=_moment(d.predicted_finish),
                                  policy=self.planner.name)

    @staticmethod
    def _fields(d: Deliverable) -> _StateFields:
        finish = d.delivered_at if d.delivered else d.predicted_finish
        return _StateFields(pipeline=d.pipeline, partition=d.partition, owner=d.owner,
                            reason=d.reason, due=_moment(d.due), predicted_finish=_moment(finish))

    def view(self, now: datetime, paths: bool = True) -> PlanView:
        """The latest plan, seen at ``now`` (what waits for something overdue moves);
        ``paths``: with the critical paths."""
        if self.latest is None:
            return Forecast(now.timestamp(), (), None).view(self.planner.name)
        return self.latest.at(now.timestamp()).view(self.planner.name, paths)


@overload
def _moment(t: float) -> datetime: ...


@overload
def _moment(t: float | None) -> datetime | None: ...


def _moment(t: float | None) -> datetime | None:
    """An epoch time of the forecast as a UTC datetime."""
    return None if t is None else datetime.fromtimestamp(t, UTC)


def plan_from_log(graph: Graph, events: Iterable[Event], policy: str, now: datetime,
                  replay: Callable[[Graph, Iterable[Event]], PlanningState], paths: bool = True
                  ) -> PlanView:
    """The plan as of ``now`` from a whole log (no scheduler running): replay it, learn from it,
    forecast. ``replay`` is the engine's (passed in: the planner sits above the engine)."""
    live = LivePlan(graph, make_planner(policy, graph))
    state = replay(graph, live.tap(events))
    live.seed(state)
    live.enabled = True
    live.replan(state, now)
    # with what the replay found inconsistent in the log (``andon.engine.state.Problem``)
    return replace(live.view(now, paths), problems=tuple(p.to_dict() for p in state.problems))
