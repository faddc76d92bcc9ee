"""The audit itself: findings of every built kind (``andon.audit.kinds.BUILT``) from the
store's read models (``andon.store.audit``) and the project's graph, judged by ``[audit]``
(``andon.project.waste.AuditSettings``). Reads only; ``now`` is a parameter."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from andon.events.codec import format_time, parse_time
from andon.model.errors import BadRequest
from andon.model.graph import Graph
from andon.model.lifecycle import FROZEN, passed_at, state_at
from andon.project.waste import AuditSettings
from andon.store import audit as facts
from andon.store.lifecycle import Deprecation
from andon.store.sql import Store

GB = 1e9
HABIT_MINUTES = 60.0  # batch_should_stream: frequent runs over at least this long,
HABIT_FILLED = 0.5  # in at least this share of its frequent_minutes slices
IDLE_MIN_SPAN_S = 86400.0  # idle_capacity: judged over a day of log at least
ACT_HOURS = 24.0  # noisy_alert: a warning younger than this is not judged (no time to act yet)


@dataclass(frozen=True)
class Finding:
    """One piece of waste: its ``kind`` (andon.audit.kinds.KINDS), the ``object`` (a data set,
    pipeline, model, pool or alert source), the ``evidence`` in words and as ``numbers``, its
    ``owner`` ("" unknown), a suggested ``action``, the estimated ``cost`` per month in the
    configured currency (0 when no rate applies), and ``url``, its page on the board."""

    kind: str
    object: str
    evidence: str
    owner: str
    action: str
    cost: float
    url: str = ""
    numbers: dict[str, Any] = field(default_factory=dict)


def _asset_url(name: str) -> str:
    return f"/assets/{quote(name, safe='')}"


def _entry_url(kind: str, name: str) -> str:
    return f"/catalog/{kind}/{quote(name, safe='')}"


def _seconds(a: str, b: str) -> float:
    return (parse_time(b) - parse_time(a)).total_seconds() if a and b else 0.0


class _Audit:
    def __init__(self, graph: Graph, cfg: AuditSettings, now: datetime,
                 since: datetime | None) -> None:
        self.graph, self.cfg, self.now = graph, cfg, now
        self.unused_from = format_time(since or now - timedelta(days=cfg.unused_days))
        self.window_from = format_time(since or now - timedelta(days=cfg.window_days))
        self.found: list[Finding] = []

    def owner_of_asset(self, asset: str) -> str:
        a = self.graph.assets.get(asset)
        producer = self.graph.pipelines.get(self.graph.producer.get(asset, ""))
        return (a.owner if a else "") or (producer.owner if producer else "")

    def add(self, kind: str, obj: str, evidence: str, owner: str, action: str, cost: float,
            url: str, **numbers: Any) -> None:
        self.found.append(Finding(kind, obj, evidence, owner, action, round(cost, 2), url,
                                  numbers))

    def storage(self, size: int) -> float:
        return size / GB * self.cfg.gb_month

    def cpu(self, seconds: float) -> float:
        return seconds / 3600 * self.cfg.cpu_hour

    # -- data --------------------------------------------------------------------------------

    def data(self, assets: list[facts.AssetFacts], runs: list[facts.RunFacts]) -> None:
        work: dict[str, float] = defaultdict(float)
        for r in runs:
            work[r.pipeline] += (r.work_seconds or 0.0) * r.slots
        for a in assets:
            if a.first >= self.unused_from or a.consumer or a.read >= self.unused_from \
                    or a.asset in self.cfg.backups:
                continue  # young, registered for, read lately, or a backup: not this waste
            gb = a.size_bytes / GB
            last = f"last read {a.read[:10]}" if a.read else "never read by a run"
            numbers = dict(size_bytes=a.size_bytes, partitions=a.partitions,
                           last_read=a.read or None, readers=a.readers, last_made=a.made)
            if a.made < self.unused_from:
                self.add("unused_data", a.asset,
                         f"{a.partitions} partition{'s' * (a.partitions != 1)}, {gb:.3f} GB; "
                         f"{last}; no registered "
                         f"consumer; last made {a.made[:10]}", self.owner_of_asset(a.asset),
                         "deprecate it with a deletion date (andon deprecate), or set a "
                         "retention", self.storage(a.size_bytes), _asset_url(a.asset), **numbers)
            else:
                producer = self.graph.producer.get(a.asset, "")
                self.add("data_deluge", a.asset,
                         f"still made (last {a.made[:10]}, by {producer or 'a source'}) but "
                         f"{last}; no registered consumer; {a.partitions} partitions, "
                         f"{gb:.3f} GB", self.owner_of_asset(a.asset),
                         "stop making it or register its consumer (andon subscribe)",
                         self.storage(a.size_bytes) + self.cpu(work.get(producer, 0.0)),
                         _asset_url(a.asset), producer=producer, **numbers)

    def kept(self, assets: list[facts.AssetFacts], old: dict[str, tuple[int, int]]) -> None:
        """data_deluge's other half: an intermediate data set (made by one pipeline, read by
        others) whose consumers are still at work, keeping every partition they finished with
        more than N days ago, with no retention declared (``andon sweep`` would keep it lean)."""
        said = {f.object for f in self.found if f.kind in ("unused_data", "data_deluge")}
        for a in assets:
            n, size = old.get(a.asset, (0, 0))
            consumers = self.graph.consumers.get(a.asset, ())
            if not n or a.asset in said or a.asset in self.cfg.retained or \
                    a.asset in self.cfg.backups or not consumers or \
                    a.asset not in self.graph.producer or a.read < self.unused_from:
                continue  # nothing old, reported already, managed, or not an active intermediate
            self.add("data_deluge", a.asset,
                     f"{n} of {a.partitions} partitions ({size / GB:.3f} GB) made before "
                     f"{self.unused_from[:10]} are still kept, though its consumers "
                     f"({', '.join(sorted(consumers)[:3])}) have moved on to newer ones; no "
                     "retention declared", self.owner_of_asset(a.asset),
                     f'declare retention="{self.cfg.unused_days}d" on it (andon sweep deletes '
                     "what its consumers finished with)", self.storage(size), _asset_url(a.asset),
                     kept_partitions=n, kept_bytes=size, partitions=a.partitions)

    def duplicates(self, rows: list[tuple[str, str, str, int]]) -> None:
        by_print: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
        for fingerprint, asset, partition, size in rows:
            by_print[fingerprint].append((asset, partition, size))
        pairs: dict[tuple[str, ...], list[int]] = defaultdict(list)
        for found in by_print.values():
            names = tuple(sorted({a for a, _, _ in found}))
            pairs[names].append(min(s for _, _, s in found) * (len(names) - 1))
        for names, extra in sorted(pairs.items()):
            copy = names[-1]
            self.add("duplicate_data", copy,
                     f"{len(extra)} partition{'s' * (len(extra) != 1)} identical (same "
                     f"SHA-256) in {', '.join(names)}; {sum(extra) / GB:.3f} GB held twice",
                     self.owner_of_asset(copy),
                     f"keep one of {', '.join(names)} and read it in place of the others",
                     self.storage(sum(extra)), _asset_url(copy), assets=list(names),
                     partitions=len(extra), duplicated_bytes=sum(extra))

    # -- pipelines ---------------------------------------------------------------------------

    def pipelines(self, last: dict[str, str], catalogued: dict[str, str],
                  notices: dict[str, Deprecation], log_from: str, sizes: dict[str, int],
                  finished: set[str]) -> None:
        """Dead or fossil pipelines: past their agreed deletion date (``notices``, andon
        deprecate) and not deleted; deprecated in the catalog (``catalogued``: name -> its
        date) with no deletion date agreed; never run; not run for ``unused_days``. One with an
        agreed date still ahead, or deleted, is planned, not waste; one that made the last
        partition of every output (``finished``: ``[project] end``) is done, not dead."""
        for name, pipe in sorted(self.graph.pipelines.items()):
            started = last.get(name, "")
            size = sum(sizes.get(out, 0) for out in pipe.outputs)
            url = _entry_url("pipeline", name)
            ran = f"last run {started[:10] or 'never'}"
            notice = notices.get(name)
            if notice is not None:
                if state_at(notice.delete_after, notice.deleted_at is not None,
                            self.now) == FROZEN:
                    self.add("dead_pipeline", name, f"past its agreed deletion date "
                             f"{notice.delete_after} (notice of {notice.noticed_at[:10]}) and "
                             f"not deleted; {ran}", pipe.owner or notice.owner,
                             "delete it as agreed: andon sweep --apply", self.storage(size),
                             url, last_run=started or None, output_bytes=size,
                             delete_after=notice.delete_after)
                continue  # a date agreed and still ahead, or deleted: planned, not waste
            if name in catalogued:
                retired = catalogued[name]
                self.add("dead_pipeline", name, "deprecated in the catalog"
                         + (f" (to retire on {retired})" if retired else "")
                         + f" with no deletion date agreed with its consumers; {ran}",
                         pipe.owner, f"agree a deletion date: andon deprecate {name} "
                         "--delete-after DATE", self.storage(size), url,
                         last_run=started or None, output_bytes=size, deprecated=True)
            elif name in finished:
                continue  # it made its last partition: the project is done with it
            elif not started and log_from and log_from < self.unused_from:
                self.add("dead_pipeline", name, "never ran since the log began "
                         f"({log_from[:10]})", pipe.owner, "delete its definition, or find "
                         "why it never runs", 0.0, url, last_run=None, output_bytes=size)
            elif started and started < self.unused_from:
                self.add("dead_pipeline", name, f"last run {started[:10]}, none since",
                         pipe.owner, "delete it with an agreed date (andon deprecate "
                         f"{name} --delete-after DATE), or find why it stopped",
                         self.storage(size), url, last_run=started, output_bytes=size)

    def runs(self, runs: list[facts.RunFacts], remade: dict[str, dict[str, bool]]) -> None:
        by_pipe: dict[str, list[facts.RunFacts]] = defaultdict(list)
        for r in runs:
            by_pipe[r.pipeline].append(r)
        cfg = self.cfg
        for name, rs in sorted(by_pipe.items()):
            pipe = self.graph.pipelines.get(name)
            owner, url = (pipe.owner if pipe else ""), _entry_url("pipeline", name)
            timed = [r for r in rs if r.startup_seconds is not None and r.work_seconds]
            if len(timed) >= cfg.min_runs:
                startup = sum(r.startup_seconds or 0.0 for r in timed)
                work = sum(r.work_seconds or 0.0 for r in timed)
                share = startup / work if work else 0.0
                # a large share of almost nothing is not waste: the start-up must add up too
                if share >= cfg.startup_share and startup >= cfg.min_startup_seconds:
                    self.add("startup_delay", name,
                             f"start-up is {share:.0%} of work time over {len(timed)} runs "
                             f"({startup:.0f} s starting, {work:.0f} s working)", owner,
                             "trim its imports and set-up, or run it in-process / as a "
                             "longer-lived worker", self.cpu(startup), url, runs=len(timed),
                             startup_seconds=round(startup, 3), work_seconds=round(work, 3),
                             share=round(share, 4))
            said: list[str] = []  # batch_should_stream's evidence: frequent, found nothing new
            numbers: dict[str, Any] = {}
            cost = 0.0
            scheduled = [r for r in rs if r.reason not in ("backfill", "manual")]
            if len(scheduled) >= max(cfg.min_runs, 2):  # a gap needs two
                gaps = [_seconds(a.started_at, b.started_at) / 60
                        for a, b in zip(scheduled, scheduled[1:], strict=False)]
                gap = statistics.median(gaps)
                work_s = statistics.median(r.work_seconds or 0.0 for r in scheduled)
                # a habit, not a burst: a catch-up after a stop also starts runs back to back,
                # so the runs must fill most of the frequent_minutes slices of their span
                span = _seconds(scheduled[0].started_at, scheduled[-1].started_at) / 60
                first = parse_time(scheduled[0].started_at)
                slices = {int((parse_time(r.started_at) - first).total_seconds() / 60
                              // max(cfg.frequent_minutes, 1.0)) for r in scheduled}
                filled = len(slices) / (span / max(cfg.frequent_minutes, 1.0) + 1)
                if gap <= cfg.frequent_minutes and work_s <= cfg.short_run_seconds \
                        and span >= max(HABIT_MINUTES, 4 * cfg.frequent_minutes) \
                        and filled >= HABIT_FILLED:
                    said.append(f"{len(scheduled)} runs, one every {gap:.1f} min (median), "
                                f"each working {work_s:.1f} s (median)")
                    cost += self.cpu(sum(r.startup_seconds or 0.0 for r in scheduled))
                    numbers |= dict(runs=len(scheduled), median_gap_minutes=round(gap, 3),
                                    median_work_seconds=round(work_s, 3))
            made = remade.get(name, {})
            same = sum(made.values())
            if len(made) >= cfg.min_runs and same / len(made) >= cfg.unchanged_share:
                said.append(f"{same} of {len(made)} runs that wrote data found nothing new "
                            "(every output the same SHA-256 as the version it replaced)")
                work = sum((r.work_seconds or 0.0) * r.slots for r in rs)
                cost += self.cpu(work * same / len(rs))
                numbers |= dict(writing_runs=len(made), unchanged_runs=same,
                                unchanged_share=round(same / len(made), 4))
            if said:
                self.add("batch_should_stream", name, "; ".join(said), owner,
                         "make it a stream (one long-lived consumer), or run it less often "
                         "(when its inputs change)", cost, url, **numbers)

    def capacity(self, runs: list[facts.RunFacts], log_from: str) -> None:
        if not log_from:
            return  # an empty log: nothing ran, nothing to judge
        start = max(self.window_from, log_from)
        span = _seconds(start, format_time(self.now))
        if span < IDLE_MIN_SPAN_S:
            return  # a log younger than a day says nothing of how a pool is used
        busy: dict[str, float] = defaultdict(float)
        waiting: dict[str, float] = defaultdict(float)
        end = format_time(self.now)
        for r in runs:
            # cut at the moment judged: an ended project's later runs are not its last days'
            busy[r.pool] += max(0.0, _seconds(r.started_at, min(r.ended_at or end, end))) \
                * r.slots
            waiting[r.pool] += (r.startup_seconds or 0.0) * r.slots
        for name, pool in sorted(self.graph.pools.items()):
            held = pool.capacity * span
            share = busy.get(name, 0.0) / held
            if share < self.cfg.idle_share:
                idle = held - busy.get(name, 0.0)
                self.add("idle_capacity", name,
                         f"pool busy {share:.1%} of its {pool.capacity} slots over "
                         f"{span / 86400:.1f} days; slots held waiting on start-up "
                         f"{waiting.get(name, 0.0) / 3600:.2f} h (andon's own wait: 0)", "",
                         "lower its capacity, or share the machine with other work",
                         self.cpu(idle) / max(span / 86400 / 30, 1e-9) if span else 0.0,
                         "/pools", capacity=pool.capacity, busy_share=round(share, 4),
                         busy_slot_seconds=round(busy.get(name, 0.0), 1),
                         held_waiting_seconds=round(waiting.get(name, 0.0), 3),
                         scheduler_wait_seconds=0.0)

    # -- alerts and artifacts ----------------------------------------------------------------

    def alerts(self, outcomes: list[tuple[str, str, int, int]]) -> None:
        for by, asset, n, false in sorted(outcomes):
            precision = (n - false) / n
            if n >= self.cfg.min_runs and precision < self.cfg.precision:
                source = f"{by or 'unknown'} on {asset}"
                self.add("noisy_alert", source,
                         f"{n} cords resolved, {false} of them accepted as fine with no re-make "
                         f"(false): precision {precision:.0%}", self.owner_of_asset(asset),
                         "loosen or fix the check, or stop pulling on this signal", 0.0,
                         _asset_url(asset), source=by, asset=asset, alerts=n,
                         false_alerts=false, precision=round(precision, 4))

    def warnings(self, outcomes: list[tuple[str, str, int, int]]) -> None:
        """Warning checks (``blocking=False``) that failed often and mostly for nothing: no new
        content of the partition came after (``andon.store.audit.warning_outcomes``)."""
        for check, asset, n, false in outcomes:
            precision = (n - false) / n
            if n >= self.cfg.min_runs and precision < self.cfg.precision:
                self.add("noisy_alert", f"check:{check} on {asset}",
                         f"warning check failed {n} times, {false} of them with no new content "
                         f"of the partition after (false): precision {precision:.0%}",
                         self.owner_of_asset(asset), "loosen or fix the check, or remove it: "
                         "a warning nobody acts on is noise", 0.0, _asset_url(asset),
                         source=f"check:{check}", asset=asset, alerts=n, false_alerts=false,
                         precision=round(precision, 4), blocking=False)

    def artifacts(self, versions: dict[str, list[tuple[str, str]]],
                  serving: dict[str, int], promoted: set[tuple[str, int]],
                  sizes: Callable[[list[str]], int]) -> None:
        for pipeline, made in sorted(versions.items()):
            for model in self.graph.pipelines[pipeline].models:
                fossils = [run_id for number, (run_id, ended) in enumerate(made, 1)
                           if number != len(made) and number != serving.get(model)
                           and (model, number) not in promoted and ended < self.unused_from]
                if not fossils:
                    continue
                size = sizes(fossils)
                self.add("fossil_artifact", model,
                         f"{len(fossils)} of {len(made)} versions neither serving, the newest, "
                         f"nor promoted since {self.unused_from[:10]}; {size / GB:.3f} GB",
                         self.graph.pipelines[pipeline].owner,
                         "keep the last few versions (andon sweep's keep-last-N)",
                         self.storage(size), _entry_url("model", model), versions=len(made),
                         fossil_versions=len(fossils), fossil_bytes=size)


def judged_at(now: datetime, end: date | None) -> datetime:
    """The moment the audit judges at: ``now``; for a project whose ``[project] end`` has
    passed, a day after its last partition ended (its data was then as fresh as it gets: a
    log that stopped with the project is not waste because the clock went on)."""
    if end is None:
        return now
    return min(now, passed_at(end) + timedelta(days=1))


def _finished(graph: Graph, made: set[tuple[str, str]]) -> set[str]:
    """The pipelines that made the last partition of each of their outputs (a scheme that
    stops: ``[project] end``)."""
    out = set()
    for name, pipe in graph.pipelines.items():
        last = [(o, graph.assets[o].partitions.last_key) for o in pipe.outputs]
        if last and all(key is not None and (o, key) in made for o, key in last):
            out.add(name)
    return out


def audit(store: Store, graph: Graph, cfg: AuditSettings, now: datetime,
          since: datetime | None = None) -> list[Finding]:
    """Every finding, by kind (in ``KINDS`` order) then object. ``since`` replaces both windows
    (``unused_days`` and ``window_days``) with the time from ``since`` to ``now``. A project
    that ended (``cfg.project_end``) is judged as of ``judged_at``, and every finding's
    evidence says so (``numbers["as_of"]``)."""
    from andon.audit import declared, versioned
    from andon.audit.kinds import KINDS
    from andon.store.lifecycle import deprecation_rows
    from andon.store.models import serving_versions

    if since is not None and since > now:
        raise BadRequest(f"since {format_time(since)[:19]} is in the future", where="since",
                         hint="give a past date, e.g. the first day of last month")
    at = judged_at(now, cfg.project_end)
    a = _Audit(graph, cfg, at, since)
    with store.read() as conn:
        assets = facts.asset_facts(conn, format_time(at)[:10])
        runs = facts.runs_since(conn, a.window_from)
        log_from = facts.first_event_at(conn)
        a.data(assets, runs)
        a.kept(assets, facts.kept_before(conn, a.unused_from))
        a.duplicates(facts.duplicate_partitions(conn))
        outputs = [o for p in graph.pipelines.values() for o in p.outputs
                   if graph.assets[o].partitions.last_key is not None]
        notices = {d.object: d for d in deprecation_rows(conn) if d.kind == "pipeline"}
        a.pipelines(facts.last_runs(conn), facts.deprecated_pipelines(conn), notices, log_from,
                    {x.asset: x.size_bytes for x in assets},
                    _finished(graph, set(facts.partition_sizes(conn, outputs))))
        a.runs(runs, facts.remakes(conn, a.window_from))
        a.capacity(runs, log_from)
        a.alerts(facts.alert_outcomes(conn, a.window_from))
        a.warnings(facts.warning_outcomes(conn, a.window_from,
                                          format_time(at - timedelta(hours=ACT_HOURS))))
        makers = [name for name, p in graph.pipelines.items() if p.models]
        a.artifacts(facts.model_runs(conn, makers), serving_versions(conn),
                    facts.promoted_since(conn, a.unused_from),
                    lambda ids: facts.bytes_of_runs(conn, ids))
        versioned.versioned(conn, cfg, a.unused_from, a.add, a.owner_of_asset, a.storage)
        declared.backups(conn, cfg, graph, at, a.add, a.owner_of_asset,
                         {x.asset: x.size_bytes for x in assets})
        declared.regions(conn, cfg, a.window_from, a.add, a.owner_of_asset)
    order = {k: i for i, k in enumerate(KINDS)}
    found = sorted(a.found, key=lambda f: (order[f.kind], f.object))
    if at >= now:
        return found
    note = (f"judged as of {format_time(at)[:10]}, a day after the project's last partition "
            f"([project] end = {cfg.project_end})")
    return [replace(f, evidence=f"{f.evidence}; {note}",
                    numbers={**f.numbers, "as_of": format_time(at)}) for f in found]
