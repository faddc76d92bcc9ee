"""What the board's pages over time show, computed from the shared Service: today's
deliverables (the plan as first made, the prediction, the actual run, the critical path) and the
pools' use and queue. The models are the frozen records of ``andon.web.pageviews``."""

from __future__ import annotations

from datetime import datetime, timedelta

from andon.events.codec import parse_time
from andon.live.service import Service
from andon.model.status import RunStatus
from andon.model.timefmt import hours_minutes, short_time
from andon.planner.views import PlanStep, PlanView
from andon.store.views import RunSpan
from andon.web.board import moment
from andon.web.charts import step_chart
from andon.web.pageviews import Deliveries, Delivery, PathStep, PoolView

ORDER = {"missed": 0, "late": 1, "at risk": 2, "on plan": 3, "delivered": 4}  # first shown first


def pools_view(svc: Service, now: datetime, hours: int = 24) -> list[PoolView]:
    """Per pool: capacity, slots in use and runs queued now, and both over the last ``hours``."""
    graph = svc.graph
    since = now - timedelta(hours=hours)
    rows = svc.store.runs_active_since(since)
    out = []
    for pool in sorted(graph.pools.values(), key=lambda p: p.name):
        use: list[tuple[datetime, int]] = []
        queue: list[tuple[datetime, int]] = []
        in_use = queued = 0
        for r in rows:
            pipe = graph.pipelines.get(r.pipeline)
            if (r.pool or (pipe.pool if pipe else "")) != pool.name:
                continue
            started, ended, queued_at = moment(r.started_at), moment(r.ended_at), \
                moment(r.queued_at)
            if r.status is RunStatus.RUNNING:
                in_use += r.slots
            elif r.status is RunStatus.QUEUED:
                queued += 1
            if started is not None:
                use += [(started, r.slots), (ended or now, -r.slots)]
            if queued_at is not None:
                queue += [(queued_at, 1), (started or ended or now, -1)]
        use_steps, queue_steps = _steps(use, since, now), _steps(queue, since, now)
        out.append(PoolView(pool.name, pool.capacity, in_use, queued, use_steps, queue_steps,
                            since, now, max((v for _, v in use_steps), default=0),
                            step_chart(use_steps, since, now, pool.capacity),
                            step_chart(queue_steps, since, now)))
    return out


def _steps(changes: list[tuple[datetime, int]], since: datetime, now: datetime
           ) -> list[tuple[datetime, int]]:
    """A step function from +/- changes: the level from each moment on, within [since, now]
    (a change before ``since`` counts from ``since``)."""
    level = 0
    points: list[tuple[datetime, int]] = [(since, 0)]
    for when, delta in sorted((min(max(m, since), now), d) for m, d in changes):
        level += delta
        if points[-1][0] == when:
            points[-1] = (when, level)
        else:
            points.append((when, level))
    return points


def deliveries(svc: Service, plan: PlanView, now: datetime) -> Deliveries:
    """Today's deliverables (due today, or overdue and not delivered): the plan as first made,
    the current prediction when it moved, the actual run, the due time and the critical path;
    late or at-risk first."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = day + timedelta(days=1)
    actual: dict[tuple[str, str], RunSpan] = {}
    for r in svc.store.runs_active_since(day - timedelta(days=2)):
        actual[(r.pipeline, r.partition)] = r  # oldest first: the newest run wins
    items: list[Delivery] = []
    for d in plan.deliverables:
        due = parse_time(d.due)
        if not (day <= due < end or (due < day and not d.delivered_at)):
            continue
        run = actual.get((d.pipeline, d.partition))
        delivered = moment(d.delivered_at)
        late = (delivered or now) > due and (delivered is not None or d.at_risk)
        first = d.first_plan
        start, finish = moment(d.predicted_start), moment(d.predicted_finish)
        first_start = moment(first.predicted_start) if first else None
        first_finish = moment(first.predicted_finish) if first else None
        # the prediction is news only while it is one (delivered: the actual run says it all)
        moved = delivered is None and (not first or _apart(start, first_start)
                                       or _apart(finish, first_finish))
        outcome = delivered or finish
        actual_start = moment(run.started_at) if run is not None else None
        actual_end = (moment(run.ended_at) if run is not None else None) or \
            (now if actual_start else None)
        status = "late" if late and delivered else "missed" if due <= now and not delivered \
            else "at risk" if d.at_risk else "delivered" if delivered else "on plan"
        items.append(Delivery(
            d.pipeline, d.partition, d.reason, status, due, start, finish, first_start,
            first_finish, moved, _span(first_start, first_finish, day),
            _span(start, finish, day) if moved else "", _actual(run, delivered, day),
            None if outcome is None or first_finish is None else _signed(outcome - first_finish),
            actual_start, actual_end, delivered, late,
            [_step(s, day) for s in d.critical_path or ()]))
    items.sort(key=lambda i: (ORDER[i.status], i.due_t, i.pipeline))
    return Deliveries(day, end, items,
                      sum(ORDER[i.status] < ORDER["on plan"] for i in items))


def _apart(a: datetime | None, b: datetime | None) -> bool:
    """Two predictions differ (by a minute or more, or one is missing)."""
    if a is None or b is None:
        return a is not b
    return abs((a - b).total_seconds()) >= 60


def _signed(delta: timedelta) -> str:
    """A drift in words: ``+40m``, ``-5m``, ``as planned`` within a minute."""
    seconds = delta.total_seconds()
    if abs(seconds) < 60:
        return "as planned"
    return ("+" if seconds > 0 else "-") + hours_minutes(abs(delta))


def _step(s: PlanStep, day: datetime) -> PathStep:
    """A step of a critical path with its moments in words, and whether it ended after its
    latest finish (where the time was lost)."""
    start, finish, latest = moment(s.start), moment(s.finish), moment(s.latest_finish)
    done = s.state == "done"
    if s.kind == "arrival":
        when = f"{'arrived' if done else 'expected'} {short_time(finish, day)}"
    elif finish is None:
        when = s.state
    else:
        when = f"{'ran' if done else s.state} {_span(start, finish, day)}"
    if latest is not None:
        when += f", latest finish {short_time(latest, day)}"
    return PathStep(s.kind, s.name, s.partition, s.state, start, finish, latest, when,
                    finish is not None and latest is not None and finish > latest)


def _actual(run: RunSpan | None, delivered: datetime | None, day: datetime) -> str:
    """The actual run in words: ``02:05–02:33``, ``running since 02:05``, ``failed 02:05–02:07``."""
    started = moment(run.started_at) if run is not None else None
    if delivered is not None:
        return _span(started, delivered, day)
    if run is None:
        return "-"
    ended = moment(run.ended_at)
    if ended is None:
        return f"running since {short_time(started, day)}" if started else run.status.value
    return f"{run.status.value} {_span(started, ended, day)}"


def _span(start: datetime | None, finish: datetime | None, day: datetime) -> str:
    """``02:00–02:30`` (with the date when not on ``day``)."""
    if start is None and finish is None:
        return "-"
    if finish is None:
        return f"from {short_time(start, day)}"
    if start is None:
        return f"by {short_time(finish, day)}"
    return f"{short_time(start, day)}–{short_time(finish, day)}"
