"""What the board's pages show, computed from the shared Service (no SQL, no markup here): the
board's lines and what needs attention, what changed lately in the catalog, and a data set's
page. The models are the frozen records of ``andon.web.pageviews``; today's deliveries and the
pools are in ``andon.web.deliveries``.

Lines are green (on plan), amber (at risk: the plan predicts a finish after the due time) or red
(failed or halted), each with the reason in words.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from andon.cord import incidents
from andon.engine.outputs import OutputState
from andon.events import CheckFailed, CheckPassed, PartitionAvailable
from andon.events.catalog import CatalogEntryDeclared
from andon.events.codec import format_time, parse_time
from andon.live.service import Service
from andon.model.status import RunStatus
from andon.model.timefmt import format_minute, hours_minutes
from andon.model.views import Json
from andon.planner.views import PlannedDeliverable, PlanView
from andon.registry.declared import CATALOG_FILE
from andon.store.views import PipelineStatus, StatusView
from andon.web.charts import series_chart
from andon.web.pageviews import (
    AssetView,
    Attention,
    Cell,
    Change,
    CheckSeries,
    CheckState,
    Grid,
    Line,
)

RECENT_RUNS = 50  # the newest runs "changed recently" looks through
STATE_ORDER = ("quarantined", "suspect", "halted", "failed", "running", "queued", "ok", "missing")


def moment(text: str | None) -> datetime | None:
    """A stored time (the log's text form) as a datetime; None for none."""
    return parse_time(text) if text else None


def lines(status: StatusView, plan: PlanView, now: datetime) -> list[Line]:
    """Every pipeline as a line: colour, state word and the reason in words."""
    risky: dict[str, list[PlannedDeliverable]] = defaultdict(list)
    upcoming: dict[str, PlannedDeliverable] = {}
    for d in plan.deliverables:
        if d.at_risk:
            risky[d.pipeline].append(d)
        elif not d.delivered_at and d.pipeline not in upcoming:
            upcoming[d.pipeline] = d
    halts: dict[str, list[Json]] = defaultdict(list)
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
            word = "late" if d.due <= format_time(now) else "at risk"
            reason = f"{d.partition} due {_hm(d.due)}: {d.reason}"
        else:
            colour = "green"
            word = {"ok": "on plan", "waiting": "waiting"}.get(state, state)
            reason = _green_reason(p, upcoming.get(name))
        out.append(Line(name, colour, word, reason, p.owner, p.pool, p.partitions, p.made,
                        p.failures, risky[name], len(halts[name]), cord_id))
    return out


def _green_reason(p: PipelineStatus, next_due: PlannedDeliverable | None) -> str:
    counts = p.partitions
    parts = []
    if counts[RunStatus.RUNNING]:
        parts.append(f"{counts[RunStatus.RUNNING]} running")
    if counts[RunStatus.QUEUED]:
        parts.append(f"{counts[RunStatus.QUEUED]} queued")
    parts.append(f"{_count(p.made, 'partition')} made")
    if next_due is not None:
        finish = next_due.predicted_finish
        parts.append(f"next: {next_due.partition} due {_hm(next_due.due)}"
                     + (f", predicted {_hm(finish)}" if finish else ""))
    elif not p.made:
        parts = ["waiting for its first inputs"]
    return "; ".join(parts)


def _hm(text: str | None) -> str:
    return format_minute(moment(text))


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _listing(keys: list[str], most: int = 3) -> str:
    return ", ".join(keys[:most]) + (f" and {len(keys) - most} more" if len(keys) > most else "")


def check_states(svc: Service, asset: str | None = None, limit: int = 2000) -> list[CheckState]:
    """The latest result of every (asset, partition, check), newest first."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for seq, ev in svc.store.recent_events((CheckPassed.name, CheckFailed.name), limit):
        assert isinstance(ev, (CheckPassed, CheckFailed))
        key = (ev.asset, ev.partition, ev.check)
        if key in seen or (asset is not None and ev.asset != asset):
            continue
        seen.add(key)
        out.append(CheckState(ev.asset, ev.partition, ev.check, ev.version,
                              isinstance(ev, CheckPassed), ev.blocking, ev.message, ev.numbers,
                              format_time(ev.at), seq))
    return out


def attention(status: StatusView, plan: PlanView, checks: list[CheckState],
              now: datetime) -> list[Attention]:
    """What needs a person first: failed runs, failing checks (a blocking one while its cord is
    open), missed and at-risk deadlines; by severity (critical, high, warning), then oldest
    first."""
    items: list[Attention] = []
    open_on = {(c["asset"], c["partition"]): c["cord_id"] for c in status.cords}
    for p in status.pipelines:
        for f in p.failures:
            items.append(Attention(3, "failed run", f.ended_at, f"{p.name} {f.partition}",
                                   f"{f.error_type}: {f.error_message}".rstrip(": "), "rerun",
                                   pipeline=p.name, partition=f.partition, run_id=f.run_id))
    for c in checks:
        # a blocking failure needs a person while its cord is open: once the cord is settled
        # (the partition re-made and checked again, or a model version taken out of service)
        # it is history, on the data set's and the cord's pages
        if not c.passed and (not c.blocking or (c.asset, c.partition) in open_on):
            items.append(Attention(
                3 if c.blocking else 1,
                "blocking check failed" if c.blocking else "check warning", c.at,
                f"{c.asset} {c.partition}: {c.check}", c.message, "asset", asset=c.asset,
                partition=c.partition,
                cord_id=open_on.get((c.asset, c.partition)) if c.blocking else None))
    for d in plan.deliverables:
        if not d.at_risk:
            continue
        missed = parse_time(d.due) <= now
        items.append(Attention(2 if missed else 1, "missed deadline" if missed else "at risk",
                               d.due if missed else None,
                               f"{d.pipeline} {d.partition} due {_hm(d.due)}", d.reason,
                               "deliveries", pipeline=d.pipeline, partition=d.partition))
    far = format_time(now + timedelta(days=3650))
    items.sort(key=lambda i: (-i.severity, i.since or far))
    return items


def changes(svc: Service, most: int = 8) -> list[Change]:
    """What changed lately in the catalog, newest first, each entry once (its newest change):
    pipelines' latest runs and the partitions their successes made, sources' partitions that
    arrived, entries declared through the API, and the declared entries' file. Bounded: the
    newest RECENT_RUNS runs (the runs' ``seq`` index) and the newest ``most`` arrivals and
    declarations (the events' ``type`` index)."""
    shelf = svc.catalog.shelf()
    found: dict[tuple[str, str], tuple[str, str, str, str]] = {}  # key -> (at, what, link, state)

    def add(kind: str, name: str, at: str, what: str, link: str = "", state: str = "") -> None:
        seen = found.get((kind, name))
        if at and (seen is None or seen[0] < at):
            found[(kind, name)] = (at, what, link, state)

    for run in svc.store.runs(limit=RECENT_RUNS):
        at = run.ended_at or run.started_at or run.queued_at or ""
        link = f"/runs/{quote(run.run_id, safe='')}"
        add("pipeline", run.pipeline, at, f"ran {run.partition}", link, run.status.value)
        if run.status is RunStatus.SUCCEEDED:
            for out in run.outputs:
                add("dataset", str(out["asset"]), at,
                    f"partition {out['partition']} made by {run.pipeline}", link)
    for _, ev in svc.store.recent_events((PartitionAvailable.name,), most):
        assert isinstance(ev, PartitionAvailable)
        add("dataset", ev.asset, format_time(ev.at), f"partition {ev.partition} arrived")
    for _, ev in svc.store.recent_events((CatalogEntryDeclared.name,), most):
        assert isinstance(ev, CatalogEntryDeclared)
        add(ev.kind, ev.entry, format_time(ev.at), f"declared by {ev.by or 'the API'}")
    items = []
    for (kind, name), (at, what, link, state) in sorted(found.items(), key=lambda kv: kv[1][0],
                                                        reverse=True):
        entry = shelf.entry(kind, name)  # None: gone from the definitions since it ran
        if entry is not None:
            items.append(Change(at, kind, name, entry.url(), what, link, state))
        if len(items) == most:
            break
    declared = shelf.facets.declared
    try:  # when the declared entries last changed: their file's modification time
        changed = datetime.fromtimestamp(
            (svc.catalog.project_dir / CATALOG_FILE).stat().st_mtime, UTC)
    except OSError:
        return items
    items.append(Change(format_time(changed), "catalog", CATALOG_FILE, "/catalog",
                        f"{declared} {'entry' if declared == 1 else 'entries'} declared"))
    return sorted(items, key=lambda c: c.at, reverse=True)[:most]


def partition_grid(svc: Service, asset: str, now: datetime, columns: int = 31) -> Grid:
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
        cells.append(Cell(key, state, None, None, None) if version is None else
                     Cell(key, state, version.version, version.at, version.rows))
    return Grid(cells, [s for s in STATE_ORDER if any(c.state == s for c in cells)])


def asset_view(svc: Service, name: str, now: datetime) -> AssetView:
    """Everything the asset page shows but the lineage drawing."""
    graph = svc.graph
    asset = graph.assets[name]
    producer = graph.producer.get(name)
    pipe = graph.pipelines[producer] if producer else None
    checks = check_states(svc, name)
    return AssetView(
        name, asset.source, asset.owner or (pipe.owner if pipe else ""),
        asset.description or (pipe.description if pipe else ""),
        producer, list(graph.consumers.get(name, ())),
        hours_minutes(pipe.deadline) if pipe and pipe.deadline else "",
        hours_minutes(asset.expected_arrival) if asset.expected_arrival else "",
        asset.partitions.kind, asset.partitions.example, partition_grid(svc, name, now),
        checks, check_series(checks),
        [c for c in incidents.cords(svc.store) if c.asset == name], asset.location)


def check_series(checks: list[CheckState]) -> list[CheckSeries]:
    """Per check and measurement, the values over partitions, with its chart."""
    series: dict[tuple[str, str], list[tuple[str, float, bool]]] = defaultdict(list)
    for c in checks:
        for measure, value in c.numbers.items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                series[(c.check, measure)].append((c.partition, float(value), c.passed))
    return [CheckSeries(check, measure, sorted(points), series_chart(sorted(points)))
            for (check, measure), points in sorted(series.items())]
