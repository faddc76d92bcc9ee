"""The manual's review of the last days: which problems keep coming back (candidates for
automation) and the share of the team's time that went to reactive work, against the 10 % rule.

Pure: ``review`` takes the entries, the runs' compute and the pipelines each incident halted,
and the clock; the caller reads them from the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from andon.events.codec import format_time, parse_time
from andon.manual.entries import ManualEntry, Occurrence, Review, ReviewRow

FREQUENT = 3  # occurrences in the window that make an entry a candidate for automation
# why a run re-made a partition: a retry after a failure, a cord's re-make, a re-run asked for
REDO_REASONS = frozenset({"retry", "cord", "rerun"})


@dataclass(frozen=True)
class RunCost:
    """What one run cost: ``seconds`` of compute (its work time), whether it ``failed``, its
    ``attempt`` and the ``reason`` it was queued for; ``at`` when it started (ISO UTC; "": in
    the window). A failed run, a retry (attempt > 1) or a re-make (REDO_REASONS) is reactive."""

    seconds: float
    failed: bool = False
    attempt: int = 1
    reason: str = ""
    at: str = ""

    @property
    def reactive(self) -> bool:
        return self.failed or self.attempt > 1 or self.reason in REDO_REASONS


def occurrence_key(o: Occurrence) -> str:
    """How ``review``'s ``halted`` names an occurrence: its run id, else its cord id, else
    "ASSET PARTITION"."""
    return o.run_id or o.cord_id or f"{o.asset} {o.partition}"


def review(entries: Iterable[ManualEntry], runs: Iterable[RunCost],
           halted: Mapping[str, int], pipelines: int, now: datetime, days: int) -> Review:
    """The review of the ``days`` days up to ``now``.

    Rows: every entry with an occurrence in the window, labelled ``frequent`` (FREQUENT or more
    there), ``new`` (first seen in the window, fewer), else ``rare``; most occurrences first, then
    the most recently seen, then by id.

    The reactive share: (Σ over the window's occurrences of the time each was open, from ``at``
    to ``recovered`` or ``now`` and cut to the window, times the pipelines it halted,
    ``halted[occurrence_key(o)]``, at least 1; + the compute seconds of reactive runs) /
    (the window's seconds × ``pipelines`` (at least 1) + the compute seconds of all ``runs`` in
    the window). ``incident_share`` and ``compute_share`` are the two parts, each over its own
    denominator (0 with no compute). Each share is at most 1 (overlapping incidents can add up to
    more than the time there was)."""
    start = now - timedelta(days=days)
    since, until = format_time(start), format_time(now)
    rows: list[ReviewRow] = []
    open_seconds = 0.0
    for e in entries:
        seen = [o for o in e.occurrences if start <= parse_time(o.at) <= now]
        if not seen:
            continue
        for o in seen:
            end = min(parse_time(o.recovered), now) if o.recovered else now
            span = (end - max(parse_time(o.at), start)).total_seconds()
            open_seconds += max(span, 0.0) * max(halted.get(occurrence_key(o), 1), 1)
        label = ("frequent" if len(seen) >= FREQUENT
                 else "new" if parse_time(e.first_seen) >= start else "rare")
        rows.append(ReviewRow(e.id, e.kind, e.title, len(seen), label, tuple(e.pipelines),
                              e.last_seen))
    rows.sort(key=lambda r: r.entry)
    rows.sort(key=lambda r: parse_time(r.last_seen), reverse=True)
    rows.sort(key=lambda r: r.count, reverse=True)
    in_window = [r for r in runs if not r.at or start <= parse_time(r.at) <= now]
    compute = sum(max(r.seconds, 0.0) for r in in_window)
    reactive = sum(max(r.seconds, 0.0) for r in in_window if r.reactive)
    capacity = days * 86400.0 * max(pipelines, 1)
    return Review(days=days, since=since, until=until, rows=tuple(rows),
                  reactive_share=_share(open_seconds + reactive, capacity + compute),
                  incident_share=_share(open_seconds, capacity),
                  compute_share=_share(reactive, compute))


def _share(part: float, whole: float) -> float:
    return round(min(part / whole, 1.0), 6) if whole > 0 else 0.0

