"""What the board's pages show, computed from the shared Service (no SQL, no markup here).

Each function returns plain dicts and lists for a template. Lines are green (on plan), amber (at
risk: the plan predicts a finish after the due time) or red (failed or halted), each with the
reason in words.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from andon.cord import incidents
from andon.engine.outputs import OutputState
from andon.events import CheckFailed, CheckPassed
from andon.events.codec import format_time, parse_time
from andon.live.service import Service
from andon.model.status import RunStatus
from andon.model.timefmt import format_minute, short_time
from andon.store.views import PipelineStatus, RunSpan, StatusView

SEVERITY = {3: "critical", 2: "high", 1: "warning"}
STATE_ORDER = ("quarantined", "suspect", "halted", "failed", "running", "queued", "ok", "missing")


def _t(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def lines(status: StatusView, plan: dict[str, Any], now: datetime) -> list[dict[str, Any]]:
    """Every pipeline as a line: colour, state word and the reason in words."""
    risky: dict[str, list[dict[str, Any]]] = defaultdict(list)
    upcoming: dict[str, dict[str, Any]] = {}
    for d in plan.get("deliverables", []):
        if d["at_risk"]:
            risky[d["pipeline"]].append(d)
        elif not d["delivered_at"] and d["pipeline"] not in upcoming:
            upcoming[d["pipeline"]] = d
    halts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for h in status.halted:
        halts[h["pipeline"]].append(h)
    out = []
    for p in status.pipelines:
        name, state = p.name, p.state
        cord_id = None
        if halts[name]:
            first = halts[name][0]["cords"][0]
            keys = sorted({h["partition"] for h in halts[name]})
            colour, word, cord_id = "red", "halted", first["cord_id"]
            reason = (f"{_count(len(keys), 'partition')} halted ({_listing(keys)}): andon cord on "
                      f"{first['asset']} {first['partition']} pulled by {first['by'] or 'someone'}"
                      f": {first['reason']}")
        elif p.failures:
            f = p.failures[0]
            colour, word = "red", "failed"
            more = len(p.failures) - 1
            reason = (f"{f.partition} failed: {f.error_type}: {f.error_message}".rstrip(": ")
                      + (f" (and {_count(more, 'more partition')})" if more else ""))
        elif risky[name]:
            d = risky[name][0]
            colour = "amber"
            word = "late" if d["due"] <= format_time(now) else "at risk"
            reason = f"{d['partition']} due {_hm(d['due'])}: {d['reason']}"
        else:
            colour = "green"
            word = {"ok": "on plan", "waiting": "waiting"}.get(state, state)
            reason = _green_reason(p, upcoming.get(name))
        out.append({"name": name, "colour": colour, "state": word, "reason": reason,
                    "owner": p.owner, "pool": p.pool, "counts": p.partitions,
                    "made": p.made, "failures": p.failures,
                    "risky": risky[name], "halted": len(halts[name]), "cord_id": cord_id})
    return out


def _green_reason(p: PipelineStatus, next_due: dict[str, Any] | None) -> str:
    counts = p.partitions
    parts = []
    if counts[RunStatus.RUNNING]:
        parts.append(f"{counts[RunStatus.RUNNING]} running")
    if counts[RunStatus.QUEUED]:
        parts.append(f"{counts[RunStatus.QUEUED]} queued")
    parts.append(f"{_count(p.made, 'partition')} made")
    if next_due is not None:
        finish = next_due["predicted_finish"]
        parts.append(f"next: {next_due['partition']} due {_hm(next_due['due'])}"
                     + (f", predicted {_hm(finish)}" if finish else ""))
    elif not p.made:
        parts = ["waiting for its first inputs"]
    return "; ".join(parts)


def _hm(text: str | None) -> str:
    moment = _t(text)
    return format_minute(moment)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listing(keys: list[str], most: int = 3) -> str:
    return ", ".join(keys[:most]) + (f" and {len(keys) - most} more" if len(keys) > most else "")


def check_states(svc: Service, asset: str | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """The latest result of every (asset, partition, check), newest first."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for seq, ev in svc.store.recent_events((CheckPassed.name, CheckFailed.name), limit):
        assert isinstance(ev, (CheckPassed, CheckFailed))
        key = (ev.asset, ev.partition, ev.check)
        if key in seen or (asset is not None and ev.asset != asset):
            continue
        seen.add(key)
        out.append({"asset": ev.asset, "partition": ev.partition, "check": ev.check,
                    "version": ev.version, "passed": isinstance(ev, CheckPassed),
                    "blocking": ev.blocking, "message": ev.message, "numbers": ev.numbers,
                    "at": format_time(ev.at), "seq": seq})
    return out


def attention(status: StatusView, plan: dict[str, Any], checks: list[dict[str, Any]],
              now: datetime) -> list[dict[str, Any]]:
    """What needs a person first: failed runs, failing checks, missed and at-risk deadlines;
    by severity (critical, high, warning), then oldest first."""
    items: list[dict[str, Any]] = []
    open_on = {(c["asset"], c["partition"]): c["cord_id"] for c in status.cords}
    for p in status.pipelines:
        for f in p.failures:
            items.append({"severity": 3, "kind": "failed run", "since": f.ended_at,
                          "title": f"{p.name} {f.partition}",
                          "reason": f"{f.error_type}: {f.error_message}".rstrip(": "),
                          "pipeline": p.name, "partition": f.partition,
                          "run_id": f.run_id, "action": "rerun"})
    for c in checks:
        if not c["passed"]:
            items.append({"severity": 3 if c["blocking"] else 1,
                          "kind": "blocking check failed" if c["blocking"] else "check warning",
                          "since": c["at"], "title": f"{c['asset']} {c['partition']}: {c['check']}",
                          "reason": c["message"], "asset": c["asset"],
                          "partition": c["partition"], "action": "asset",
                          "cord_id": open_on.get((c["asset"], c["partition"]))
                          if c["blocking"] else None})
    for d in plan.get("deliverables", []):
        if not d["at_risk"]:
            continue
        missed = parse_time(d["due"]) <= now
        items.append({"severity": 2 if missed else 1,
                      "kind": "missed deadline" if missed else "at risk",
                      "since": d["due"] if missed else None,
                      "title": f"{d['pipeline']} {d['partition']} due {_hm(d['due'])}",
                      "reason": d["reason"], "pipeline": d["pipeline"],
                      "partition": d["partition"], "action": "deliveries"})
    far = format_time(now + timedelta(days=3650))
    items.sort(key=lambda i: (-i["severity"], i["since"] or far))
    for i in items:
        i["level"] = SEVERITY[i["severity"]]
    return items


def search(svc: Service, query: str, most: int = 50) -> dict[str, list[dict[str, Any]]]:
    """Pipelines and data sets whose name (or owner) contains ``query``, names first."""
    q = query.strip().lower()
    if not q:
        return {"pipelines": [], "assets": []}
    graph = svc.graph

    def rank(name: str, owner: str) -> tuple[int, str] | None:
        low = name.lower()
        if low == q:
            return (0, name)
        if low.startswith(q):
            return (1, name)
        if q in low:
            return (2, name)
        if q in owner.lower():
            return (3, name)
        return None

    pipes = sorted((r, p) for p in graph.pipelines.values()
                   if (r := rank(p.name, p.owner)) is not None)
    assets = sorted((r, a) for a in graph.assets.values() if (r := rank(a.name, a.owner)) is not None)
    return {
        "pipelines": [{"name": p.name, "owner": p.owner, "description": p.description,
                       "outputs": list(p.outputs)} for _, p in pipes[:most]],
        "assets": [{"name": a.name, "owner": a.owner, "description": a.description,
                    "source": a.source} for _, a in assets[:most]],
    }


def partition_grid(svc: Service, asset: str, now: datetime, columns: int = 31) -> dict[str, Any]:
    """The latest ``columns`` partitions of ``asset``, each with its state."""
    graph = svc.graph
    scheme = graph.assets[asset].partitions
    made = {r.partition: r for r in svc.store.partitions(asset)}
    producer = graph.producer.get(asset)
    if scheme.is_time:
        last = scheme.key_of(now - scheme.step)
        span = scheme.step * (columns - 1)
        if made and (max(made) > last or scheme.begin(max(made)) < scheme.begin(last) - span):
            last = max(made)  # ahead of the clock, or nothing recent: end at the newest made
        if scheme.last_key is not None and scheme.after_end(last):
            last = scheme.last_key  # after the project's end nothing is missing: end the grid there
        if scheme.begin(last) < scheme.start:
            last = scheme.key_of(scheme.start)
        first_moment = max(scheme.begin(last) - span, scheme.start)
        keys = scheme.keys(scheme.key_of(first_moment), last)
    else:
        keys = [scheme.key_of(now)]
    runs: dict[str, RunStatus] = {}
    if producer:  # newest first: the first run seen of a partition is its latest
        for row in svc.store.runs(producer, limit=columns * 10):
            runs.setdefault(row.partition, row.status)
    halted = {h.partition for h in incidents.halted(svc.store) if h.pipeline == producer}
    suspect: dict[str, str] = {}
    for cord in incidents.cords(svc.store):
        if cord.asset == asset:
            suspect[cord.partition] = "suspect"
        for out in incidents.outputs(svc.store, cord.cord_id):
            if out.asset == asset and out.state in (OutputState.SUSPECT, OutputState.QUARANTINED):
                suspect[out.partition] = out.state.value
    cells = []
    for key in keys:
        run = runs.get(key)
        states = [suspect.get(key), "halted" if key in halted else None,
                  run.value if run in (RunStatus.FAILED, RunStatus.RUNNING, RunStatus.QUEUED)
                  else None, "ok" if key in made else "missing"]
        state = min((s for s in states if s), key=STATE_ORDER.index)
        version = made.get(key)
        cells.append({"key": key, "state": state, "version": version and version.version,
                      "at": version and version.at, "rows": version and version.rows})
    return {"cells": cells, "states": [s for s in STATE_ORDER
                                       if any(c["state"] == s for c in cells)]}


def asset_view(svc: Service, name: str, now: datetime) -> dict[str, Any]:
    """Everything the asset page shows but the lineage drawing."""
    graph = svc.graph
    asset = graph.assets[name]
    producer = graph.producer.get(name)
    pipe = graph.pipelines[producer] if producer else None
    checks = check_states(svc, name)
    return {
        "name": name, "source": asset.source, "owner": asset.owner or (pipe.owner if pipe else ""),
        "description": asset.description or (pipe.description if pipe else ""),
        "producer": producer, "consumers": list(graph.consumers.get(name, ())),
        "deadline": _duration(pipe.deadline) if pipe and pipe.deadline else "",
        "expected_arrival": _duration(asset.expected_arrival) if asset.expected_arrival else "",
        "partitions": asset.partitions.kind, "example_key": asset.partitions.example,
        "grid": partition_grid(svc, name, now),
        "checks": checks,
        "check_series": check_series(checks),
        "cords": [c for c in incidents.cords(svc.store) if c.asset == name],
        "location": asset.location,
    }


def check_series(checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per check and measurement, the values over partitions (for a chart)."""
    series: dict[tuple[str, str], list[tuple[str, float, bool]]] = defaultdict(list)
    for c in checks:
        for measure, value in c["numbers"].items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                series[(c["check"], measure)].append((c["partition"], float(value), c["passed"]))
    return [{"check": check, "measure": measure, "points": sorted(points)}
            for (check, measure), points in sorted(series.items())]


def _duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m"


def pools_view(svc: Service, now: datetime, hours: int = 24) -> list[dict[str, Any]]:
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
            started, ended, queued_at = _t(r.started_at), _t(r.ended_at), _t(r.queued_at)
            if r.status is RunStatus.RUNNING:
                in_use += r.slots
            elif r.status is RunStatus.QUEUED:
                queued += 1
            if started is not None:
                use += [(started, r.slots), (ended or now, -r.slots)]
            if queued_at is not None:
                queue += [(queued_at, 1), (started or ended or now, -1)]
        out.append({"name": pool.name, "capacity": pool.capacity, "in_use": in_use,
                    "queued": queued, "use": _steps(use, since, now),
                    "queue": _steps(queue, since, now), "since": since, "until": now,
                    "peak": max((v for _, v in _steps(use, since, now)), default=0)})
    return out


def _steps(changes: list[tuple[datetime, int]], since: datetime, now: datetime
           ) -> list[tuple[datetime, int]]:
    """A step function from +/- changes: the level from each moment on, within [since, now]
    (a change before ``since`` counts from ``since``)."""
    level = 0
    points: list[tuple[datetime, int]] = [(since, 0)]
    for moment, delta in sorted((min(max(m, since), now), d) for m, d in changes):
        level += delta
        if points[-1][0] == moment:
            points[-1] = (moment, level)
        else:
            points.append((moment, level))
    return points


def deliveries(svc: Service, plan: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Today's deliverables (due today, or overdue and not delivered): the plan as first made,
    the current prediction when it moved, the actual run, the due time and the critical path;
    late or at-risk first."""
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    end = day + timedelta(days=1)
    actual: dict[tuple[str, str], RunSpan] = {}
    for r in svc.store.runs_active_since(day - timedelta(days=2)):
        actual[(r.pipeline, r.partition)] = r  # oldest first: the newest run wins
    items: list[dict[str, Any]] = []
    for d in plan.get("deliverables", []):
        due = parse_time(d["due"])
        if not (day <= due < end or (due < day and not d["delivered_at"])):
            continue
        run = actual.get((d["pipeline"], d["partition"]))
        delivered = _t(d["delivered_at"])
        late = (delivered or now) > due and (delivered is not None or d["at_risk"])
        first = d.get("first_plan") or {}
        start, finish = _t(d["predicted_start"]), _t(d["predicted_finish"])
        first_start, first_finish = _t(first.get("predicted_start")), _t(first.get("predicted_finish"))
        # the prediction is news only while it is one (delivered: the actual run says it all)
        moved = delivered is None and (not first or _apart(start, first_start)
                                       or _apart(finish, first_finish))
        outcome = delivered or finish
        actual_start = _t(run.started_at) if run is not None else None
        actual_end = (_t(run.ended_at) if run is not None else None) or \
            (now if actual_start else None)
        items.append({**d, "due_t": due, "start_t": start, "finish_t": finish, "run": run,
                      "first_start_t": first_start, "first_finish_t": first_finish,
                      "moved": moved, "first_text": _span(first_start, first_finish, day),
                      "predicted_text": _span(start, finish, day) if moved else "",
                      "actual_text": _actual(run, delivered, day),
                      "drift": None if outcome is None or first_finish is None
                      else _signed(outcome - first_finish),
                      "actual_start": actual_start, "actual_end": actual_end,
                      "delivered_t": delivered, "late": late,
                      "path": [_step(s, day) for s in d.get("critical_path", [])],
                      "status": "late" if late and delivered else "missed" if due <= now and
                      not delivered else "at risk" if d["at_risk"] else
                      "delivered" if delivered else "on plan"})
    order = {"missed": 0, "late": 1, "at risk": 2, "on plan": 3, "delivered": 4}
    items.sort(key=lambda i: (order[i["status"]], i["due_t"], i["pipeline"]))
    return {"day": day, "end": end, "items": items,
            "late_or_at_risk": sum(order[i["status"]] < order["on plan"] for i in items)}


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
    return ("+" if seconds > 0 else "-") + _duration(abs(delta))


def _step(s: dict[str, Any], day: datetime) -> dict[str, Any]:
    """A step of a critical path with its moments in words, and whether it ended after its
    latest finish (where the time was lost)."""
    start, finish, latest = _t(s["start"]), _t(s["finish"]), _t(s["latest_finish"])
    done = s["state"] == "done"
    if s["kind"] == "arrival":
        when = f"{'arrived' if done else 'expected'} {short_time(finish, day)}"
    elif finish is None:
        when = s["state"]
    else:
        when = f"{'ran' if done else s['state']} {_span(start, finish, day)}"
    if latest is not None:
        when += f", latest finish {short_time(latest, day)}"
    return {**s, "start_t": start, "finish_t": finish, "latest_t": latest, "when": when,
            "over": finish is not None and latest is not None and finish > latest}


def _actual(run: RunSpan | None, delivered: datetime | None, day: datetime) -> str:
    """The actual run in words: ``02:05–02:33``, ``running since 02:05``, ``failed 02:05–02:07``."""
    started = _t(run.started_at) if run is not None else None
    if delivered is not None:
        return _span(started, delivered, day)
    if run is None:
        return "-"
    ended = _t(run.ended_at)
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
